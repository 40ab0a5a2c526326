"""Ingest: everything that writes submissions to the log (the HTTP gateway; bulk and bridge later)."""
