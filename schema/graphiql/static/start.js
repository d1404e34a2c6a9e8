// Start GraphiQL on the page the gateway rendered (schema/graphiql/page.py). The page's
// Content-Security-Policy allows scripts from the gateway only, so this file, not an inline
// script, reads the page's settings (a JSON data block) and mounts the explorer.
(function () {
  "use strict";
  var settings = JSON.parse(document.getElementById("graphiql-settings").textContent);
  var props = {
    fetcher: GraphiQL.createFetcher({ url: settings.url }),
    defaultQuery: settings.query,
    shouldPersistHeaders: false,
  };
  if (settings.headers) {
    // `headers`, not `defaultHeaders`: a token from an earlier visit may have expired.
    props.headers = settings.headers;
    props.defaultEditorToolsVisibility = "headers";
  }
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, props)
  );
})();
