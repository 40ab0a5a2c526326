"""API keys: their format, their scopes and how a presented key is checked against a stored one.

A key reads `vtk_<id>_<secret>`: `id` is 16 hex characters, public, and finds the key's row; `secret` is
43 URL-safe characters (256 random bits). Only the sha256 of the secret is stored. With that much
entropy a slow password hash buys nothing; the comparison is in constant time (`hmac.compare_digest`),
so the time an answer takes says nothing about how much of a guess was right.

Scopes: `submit` (send texts), `read` (read its own submissions, batches and the detectors), `admin`
(read every tenant's submissions; implies the other two).
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

__all__ = ["KEY_NAME", "SCOPES", "NewKey", "Scope", "StoredKey", "new_key", "parse_key", "secret_matches"]

Scope = Literal["submit", "read", "admin"]
SCOPES: tuple[Scope, ...] = get_args(Scope)

# A key's name is its tenant: it appears in metrics labels, logs and the log database.
KEY_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_KEY = re.compile(r"vtk_(?P<id>[0-9a-f]{16})_(?P<secret>[A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class NewKey:
    """A freshly made key: the whole key (shown once), its public id and what is stored of its secret."""

    key: str
    key_id: str
    secret_sha256: str


@dataclass(frozen=True)
class StoredKey:
    """A key as the log database keeps it (`veritext keys list` shows all but the digest)."""

    name: str
    key_id: str
    secret_sha256: str
    scopes: tuple[Scope, ...]
    rate_limit: str | None  # "N/minute" and the like (the `limits` notation); None: no limit
    quota_per_day: int | None  # texts a day; None: no quota
    created_at: datetime
    revoked_at: datetime | None
    callback_url: str | None = None  # where its submits' verdicts go when they name no callback_url

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def new_key() -> NewKey:
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    return NewKey(key=f"vtk_{key_id}_{secret}", key_id=key_id, secret_sha256=_digest(secret))


def parse_key(key: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed key; None for anything else."""
    found = _KEY.fullmatch(key.strip())
    return (found["id"], found["secret"]) if found else None


def secret_matches(secret: str, stored_sha256: str) -> bool:
    return hmac.compare_digest(_digest(secret), stored_sha256)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()
