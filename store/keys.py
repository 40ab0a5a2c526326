"""The API keys table (`api_keys`): `veritext keys create|list|revoke` write it, the gateway's
authenticator reads one row by the key's public id. The secret itself is never stored (schemas/keys.py)."""

from collections.abc import Sequence

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from sqlalchemy.sql import func

from schemas.errors import InputError
from schemas.keys import NewKey, Scope, StoredKey, new_key
from store.db import reading
from store.models import ApiKey

__all__ = ["SqlKeyStore"]


class SqlKeyStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(
        self,
        name: str,
        scopes: Sequence[Scope],
        rate_limit: str | None,
        quota_per_day: int | None,
        callback_url: str | None = None,
    ) -> NewKey:
        """A new key named `name` (the tenant); refused when the name is taken, revoked or not."""
        made = new_key()
        row = {
            "name": name,
            "key_id": made.key_id,
            "secret_sha256": made.secret_sha256,
            "scopes": list(scopes),
            "rate_limit": rate_limit,
            "quota_per_day": quota_per_day,
            "callback_url": callback_url,
        }
        with Session(self._engine) as session, session.begin():
            inserted = session.scalar(insert(ApiKey).values(row).on_conflict_do_nothing().returning(ApiKey.name))
        if inserted is None:
            raise InputError(f"a key named {name!r} exists already (names are tenants: pick another)")
        return made

    def revoke(self, name: str) -> bool:
        """True when a live key of that name was revoked now."""
        with Session(self._engine) as session, session.begin():
            done = session.scalar(
                update(ApiKey)
                .where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
                .values(revoked_at=func.now())
                .returning(ApiKey.name)
            )
        return done is not None

    def set_callback(self, name: str, callback_url: str | None) -> bool:
        """Set (None: clear) the default callback of the live key `name`; False when there is none."""
        with Session(self._engine) as session, session.begin():
            done = session.scalar(
                update(ApiKey)
                .where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
                .values(callback_url=callback_url)
                .returning(ApiKey.name)
            )
        return done is not None

    def all(self) -> list[StoredKey]:
        with reading(self._engine) as session:
            return [_stored(k) for k in session.scalars(select(ApiKey).order_by(ApiKey.created_at))]

    def find(self, key_id: str) -> StoredKey | None:
        with reading(self._engine) as session:
            row = session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
            return _stored(row) if row is not None else None


def _stored(row: ApiKey) -> StoredKey:
    return StoredKey(
        name=row.name,
        key_id=row.key_id,
        secret_sha256=row.secret_sha256,
        scopes=tuple(row.scopes),  # type: ignore[arg-type]
        rate_limit=row.rate_limit,
        quota_per_day=row.quota_per_day,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        callback_url=row.callback_url,
    )
