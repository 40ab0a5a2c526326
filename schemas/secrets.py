"""How a secret setting is shown: a URL with its password masked, for banners, logs and `veritext status`.

Every URL that may hold a password (the database, RabbitMQ, Redis) is a `SecretStr` setting, so printing
the settings shows `**********`; where people need to see where a service is, they see `safe_url(...)`.
"""

from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

__all__ = ["plain", "safe_url"]


def plain(value: SecretStr | str) -> str:
    """The secret's value, for the one place that connects with it."""
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def safe_url(url: SecretStr | str) -> str:
    """`scheme://user:***@host:port/path`: the URL with its password, if any, masked."""
    parts = urlsplit(plain(url))
    if parts.password is None:
        return urlunsplit(parts)
    user, _, host = parts.netloc.rpartition("@")
    name = user.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{name}:***@{host}"))
