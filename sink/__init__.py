"""Sink: builds the PostgreSQL log (submissions, scores per detector version) from the topics."""
