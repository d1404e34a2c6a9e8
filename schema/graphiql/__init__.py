"""GraphiQL, served with every file it needs by the gateway itself, in development mode only:
the page and its routes (`page`), the vendored release builds (`static/vendor/`, see its
README) and the script that mounts the explorer (`static/start.js`)."""
