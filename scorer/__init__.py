"""Scorer: consumes [submissions], scores micro-batches with a detector, produces [scores]."""
