"""The warehouse: connections, schema install, validation and ingest."""
