"""The web page's sign-ins (`web_sessions`): signing in with a key opens one, its cookie holds a random
session id, and the table keeps only the id's sha256 and the key it stands for, so neither the key nor
a usable id is ever in the database or the browser's cookie jar at once. Rows past their expiry are
ignored and cleared when the next sign-in is opened."""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from store.db import reading
from store.models import WebSession

__all__ = ["SqlSessionStore"]


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SqlSessionStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def open(self, key_id: str, lifetime: timedelta) -> str:
        """A new session of the key `key_id`; returns its id (256 random bits), to be given only to the browser."""
        session_id = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with Session(self._engine) as session, session.begin():
            session.execute(delete(WebSession).where(WebSession.expires_at < now))
            session.add(WebSession(id_sha256=_digest(session_id), key_id=key_id, expires_at=now + lifetime))
        return session_id

    def key_of(self, session_id: str) -> str | None:
        """The key id of a live session; None when unknown or expired."""
        with reading(self._engine) as session:
            return session.scalar(
                select(WebSession.key_id).where(
                    WebSession.id_sha256 == _digest(session_id), WebSession.expires_at > datetime.now(UTC)
                )
            )

    def close(self, session_id: str) -> None:
        with Session(self._engine) as session, session.begin():
            session.execute(delete(WebSession).where(WebSession.id_sha256 == _digest(session_id)))
