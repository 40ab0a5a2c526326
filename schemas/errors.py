"""The one error tree of veritext. Callers catch the root or a leaf:

    VeritextError
     ├── ConfigError          a setting is missing or wrong (fix the environment)
     ├── ServiceUnavailable   Kafka, PostgreSQL or RabbitMQ cannot be reached
     ├── SchemaBehindError    the database schema is older than the code (run the migrations)
     ├── DeliveryError        the broker refused or timed out a write
     ├── DetectorError        a detector could not load or score
     └── InputError           a file or argument the user gave is malformed

The CLI turns any of them into one red line and exit code 1.
"""

__all__ = [
    "ConfigError",
    "DeliveryError",
    "DetectorError",
    "InputError",
    "SchemaBehindError",
    "ServiceUnavailable",
    "VeritextError",
]


class VeritextError(Exception):
    """Root of every error veritext raises on purpose."""


class ConfigError(VeritextError):
    """A setting is missing or has a value that cannot work."""


class ServiceUnavailable(VeritextError):
    """A service veritext needs (broker, database, RabbitMQ) did not answer."""


class SchemaBehindError(VeritextError):
    """The database schema is not at the head revision of the migrations."""


class DeliveryError(VeritextError):
    """The broker did not acknowledge a write."""


class DetectorError(VeritextError):
    """A detector failed to load or to score a batch."""


class InputError(VeritextError):
    """A file or an argument the user gave cannot be used as it is."""
