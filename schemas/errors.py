"""The one error tree of veritext. Callers catch the root or a leaf:

    VeritextError
     ├── ConfigError          a setting is missing or wrong (fix the environment)
     ├── ServiceUnavailable   Kafka, PostgreSQL or RabbitMQ cannot be reached
     │    └── RecordedNotQueued  a submission is in the log database, the broker did not take its event
     ├── SchemaBehindError    the database schema is older than the code (run the migrations)
     ├── DeliveryError        the broker refused or timed out a write
     ├── DetectorError        a detector could not load or score
     └── InputError           a file or argument the user gave is malformed
          └── TooLarge         it is larger than the limit (a text, a body)

The CLI turns any of them into one red line and exit code 1; the gateway answers an `InputError` 422
(`TooLarge` 413) and a `ServiceUnavailable` 503 (ingest/gateway/app.py).
"""

__all__ = [
    "ConfigError",
    "DeliveryError",
    "DetectorError",
    "InputError",
    "RecordedNotQueued",
    "SchemaBehindError",
    "ServiceUnavailable",
    "TooLarge",
    "VeritextError",
]


class VeritextError(Exception):
    """Root of every error veritext raises on purpose."""


class ConfigError(VeritextError):
    """A setting is missing or has a value that cannot work."""


class ServiceUnavailable(VeritextError):
    """A service veritext needs (broker, database, RabbitMQ) did not answer."""


class RecordedNotQueued(ServiceUnavailable):
    """The submission was recorded in the log database but the broker did not take its event: it is not
    lost (it is re-enqueued from the log), and a retry without its id would make a second one."""

    def __init__(self, submission_id: object, reason: object) -> None:
        super().__init__(
            f"the text was recorded as submission {submission_id}; the event log did not take it: {reason}"
        )
        self.submission_id = submission_id


class SchemaBehindError(VeritextError):
    """The database schema is not at the head revision of the migrations."""


class DeliveryError(VeritextError):
    """The broker did not acknowledge a write."""


class DetectorError(VeritextError):
    """A detector failed to load or to score a batch."""


class InputError(VeritextError):
    """A file or an argument the user gave cannot be used as it is."""


class TooLarge(InputError):
    """What the user gave is larger than the limit (a text past the character limit, a body)."""
