"""The webhook outbox (store/models.py `WebhookDelivery`, `WebhookAttempt`): the sink's deliverer claims
the deliveries that are due, records each attempt and its outcome; `GET /v1/texts/{id}` reads them.

A claim moves the deliveries' `next_at` a lease ahead in the same statement (`FOR UPDATE SKIP LOCKED`),
so several sinks share the outbox without two trying one delivery at once, and a deliverer that dies
mid-attempt leaves its claims to be retried once the lease ends (at least once: receivers deduplicate on
the delivery's id)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, and_, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert

from schemas.api import WebhookAttemptView, WebhookView
from store.db import reading
from store.models import WebhookAttempt, WebhookDelivery

__all__ = ["Delivery", "SqlWebhookOutbox"]


@dataclass(frozen=True)
class Delivery:
    submission_id: UUID
    detector_version: str
    url: str
    tenant: str | None
    payload: dict[str, Any]
    attempts: int  # made before this one
    created_at: datetime


class SqlWebhookOutbox:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def claim(self, limit: int, lease_s: float) -> list[Delivery]:
        """Up to `limit` pending deliveries that are due, leased for `lease_s` seconds."""
        table = WebhookDelivery.__table__
        due = (
            select(table.c.submission_id, table.c.detector_version)
            .where(and_(table.c.state == "pending", table.c.next_at <= func.now()))
            .order_by(table.c.next_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claim = (
            update(table)
            .where(tuple_(table.c.submission_id, table.c.detector_version).in_(due.scalar_subquery()))
            .values(next_at=func.now() + timedelta(seconds=lease_s))
            .returning(*table.c)
        )
        with reading(self._engine) as session, session.begin():
            rows = session.execute(claim).mappings().all()
        return [
            Delivery(
                r["submission_id"],
                r["detector_version"],
                r["url"],
                r["tenant"],
                r["payload"],
                r["attempts"],
                r["created_at"],
            )
            for r in rows
        ]

    def record(
        self,
        delivery: Delivery,
        *,
        at: datetime,
        status_code: int | None,
        error: str | None,
        state: str,
        next_at: datetime | None = None,
    ) -> None:
        """One attempt and where the delivery stands after it: `delivered`, `dead`, or `pending` again at
        `next_at`."""
        attempt = delivery.attempts + 1
        key = (WebhookDelivery.submission_id == delivery.submission_id) & (
            WebhookDelivery.detector_version == delivery.detector_version
        )
        values: dict[str, Any] = {"state": state, "attempts": attempt, "last_error": error}
        if next_at is not None:
            values["next_at"] = next_at
        with reading(self._engine) as session, session.begin():
            session.execute(
                insert(WebhookAttempt)
                .values(
                    submission_id=delivery.submission_id,
                    detector_version=delivery.detector_version,
                    attempt=attempt,
                    at=at,
                    status_code=status_code,
                    error=error[:2000] if error else None,
                )
                .on_conflict_do_nothing()
            )
            session.execute(update(WebhookDelivery).where(key).values(**values))

    def views(self, submission_id: UUID) -> list[WebhookView]:
        """The submission's deliveries, one per detector version, each with its attempts."""
        with reading(self._engine) as session:
            deliveries = session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.submission_id == submission_id)
            ).all()
            attempts = session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.submission_id == submission_id)
                .order_by(WebhookAttempt.attempt)
            ).all()
        return [
            WebhookView(
                id=f"{d.submission_id}:{d.detector_version}",
                url=d.url,
                state=d.state,
                attempts=[
                    WebhookAttemptView(at=a.at, status_code=a.status_code, error=a.error)
                    for a in attempts
                    if a.detector_version == d.detector_version
                ],
            )
            for d in deliveries
        ]
