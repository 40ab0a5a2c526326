"""Ingest: everything that writes submissions to the log. Three producers: the HTTP gateway
(`ingest.gateway`), bulk ingestion of files (`ingest.bulk`), and the RabbitMQ bridge for the
original clients of `ml_tasks` (`ingest.bridge`)."""
