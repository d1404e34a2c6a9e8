"""Persisted queries: APQ (`gate`, `store`), manifest mode (`manifest`), settings (`config`) and
the HTTP side (`http`); the schema side is `schema.extensions.persisted_queries`."""
