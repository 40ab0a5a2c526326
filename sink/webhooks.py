"""The webhook deliverer: runs beside the sink (a thread of the sink process) and POSTs each stored verdict
whose submission named a `callback_url` (the outbox the sink writes with the score: store/webhooks.py).

Each attempt: the callback's host is resolved (once per attempt: the address checked is the address
connected to, so a DNS answer that changes between the check and the connection cannot reach a private
address), refused when it is private, loopback, link-local, multicast or reserved unless
`VERITEXT_WEBHOOKS_ALLOW_PRIVATE`, and the verdict is POSTed to that address, signed
(schemas/webhooks.py), without following redirects. A 2xx answer delivers it; anything else (an error
status, a redirect, no answer in `timeout_s`) is retried after `backoff_s`, doubled each time up to 10
minutes, until `retry_for_s` after the verdict was stored; then it is dead. A refused address is dead at
once. At most `PER_RECEIVER` deliveries to one host and port are in flight at once (a claim of 64 due
verdicts for one platform does not open 64 connections to it). Every attempt is recorded
(`GET /v1/texts/{id}`, `webhooks`) and counted (`veritext_webhook_attempts_total{outcome}`)."""

import asyncio
import ipaddress
import json
import logging
import math
import socket
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import httpx

from schemas.webhooks import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSettings, sign, tenant_secret
from sink.metrics import SinkMetrics
from store.webhooks import Delivery, SqlWebhookOutbox

__all__ = ["WebhookDeliverer"]

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 600.0
PER_RECEIVER = 8  # deliveries in flight to one host and port


class AddressRefused(Exception):
    """The callback resolves to an address deliveries may not reach."""


class WebhookDeliverer:
    def __init__(
        self,
        outbox: SqlWebhookOutbox,
        settings: WebhookSettings,
        metrics: SinkMetrics,
        *,
        batch: int = 64,
        poll_s: float = 0.5,
    ) -> None:
        if settings.secret is None:
            raise ValueError("webhooks need VERITEXT_WEBHOOKS_SECRET")
        self._outbox = outbox
        self._settings = settings
        self._secret = settings.secret
        self._metrics = metrics
        self._batch = batch
        self._poll_s = poll_s
        # a claim lasts while its deliveries wait their turn at one receiver, each up to timeout_s
        self._lease_s = settings.timeout_s * (math.ceil(batch / PER_RECEIVER) + 1)
        self.stop = threading.Event()

    def run(self) -> None:
        asyncio.run(self._loop())

    async def _loop(self) -> None:
        timeout = httpx.Timeout(self._settings.timeout_s)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            while not self.stop.is_set():
                try:
                    due = await asyncio.to_thread(self._outbox.claim, self._batch, self._lease_s)
                except Exception as exc:  # the database is away: the sink says so; try again shortly
                    log.warning("could not read the webhook outbox: %s", exc)
                    due = []
                if due:
                    turns: defaultdict[tuple[str, int | None], asyncio.Semaphore] = defaultdict(
                        lambda: asyncio.Semaphore(PER_RECEIVER)
                    )  # per receiver, for this claim's deliveries
                    await asyncio.gather(*(self._deliver_in_turn(client, delivery, turns) for delivery in due))
                else:
                    await asyncio.sleep(self._poll_s)

    async def _deliver_in_turn(
        self,
        client: httpx.AsyncClient,
        delivery: Delivery,
        turns: defaultdict[tuple[str, int | None], asyncio.Semaphore],
    ) -> None:
        parts = urlsplit(delivery.url)
        async with turns[(parts.hostname or "", parts.port)]:
            await self._deliver(client, delivery)

    async def _deliver(self, client: httpx.AsyncClient, delivery: Delivery) -> None:
        started = datetime.now(UTC)
        status_code: int | None = None
        refused = False
        try:
            url, host, extensions = await self._address(delivery.url)
            body = json.dumps(delivery.payload, separators=(",", ":")).encode()
            timestamp = int(time.time())
            headers = {
                "Host": host,
                "Content-Type": "application/json",
                "User-Agent": "veritext-webhooks",
                ID_HEADER: f"{delivery.submission_id}:{delivery.detector_version}",
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: sign(tenant_secret(self._secret, delivery.tenant), timestamp, body),
            }
            answer = await client.post(url, content=body, headers=headers, extensions=extensions)
            status_code = answer.status_code
            error = None if 200 <= status_code < 300 else f"the receiver answered {status_code}"
        except AddressRefused as exc:
            error, refused = str(exc), True
        except (httpx.HTTPError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if error is None:
            state, next_at = "delivered", None
        elif refused or started - delivery.created_at > timedelta(seconds=self._settings.retry_for_s):
            state, next_at = "dead", None
        else:
            delay = min(MAX_BACKOFF_S, self._settings.backoff_s * 2**delivery.attempts)
            state, next_at = "pending", started + timedelta(seconds=delay)
        self._metrics.webhook_attempts.labels(state if state != "pending" else "retry").inc()
        if state != "delivered":
            log.warning(
                "webhook %s:%s attempt %d: %s (%s)",
                delivery.submission_id,
                delivery.detector_version,
                delivery.attempts + 1,
                error,
                state,
                extra={"submission_id": str(delivery.submission_id)},
            )
        try:
            await asyncio.to_thread(
                self._outbox.record,
                delivery,
                at=started,
                status_code=status_code,
                error=error,
                state=state,
                next_at=next_at,
            )
        except Exception as exc:  # the lease ends and the delivery is tried again: at least once
            log.warning("could not record webhook attempt of %s: %s", delivery.submission_id, exc)

    async def _address(self, url: str) -> tuple[str, str, dict[str, str]]:
        """`url` with its host replaced by the address it resolves to now, the Host header to send, and the
        TLS name to check; `AddressRefused` when that address is not to be reached."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpx.ConnectError(f"{host} does not resolve: {exc.strerror}") from exc
        addresses = [ipaddress.ip_address(info[4][0]) for info in found]
        if not self._settings.allow_private:
            for address in addresses:
                if not address.is_global or address.is_multicast:
                    raise AddressRefused(
                        f"{host} resolves to {address}, which is not a public address: refused "
                        "(VERITEXT_WEBHOOKS_ALLOW_PRIVATE allows it)"
                    )
        address = addresses[0]
        literal = f"[{address}]" if address.version == 6 else str(address)
        netloc = f"{literal}:{parts.port}" if parts.port else literal
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        return urlunsplit(parts._replace(netloc=netloc)), parts.netloc, extensions
