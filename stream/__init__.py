"""Kafka plumbing: settings, topic admin, producers, the consumer, the embedded broker, dead letters."""
