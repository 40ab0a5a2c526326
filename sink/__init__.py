"""Sink: consumes [submissions], [scores] and [dead-letter] and writes them into the PostgreSQL log
through the store (store/writer.py); it keeps only the consuming, the batching and its metrics."""
