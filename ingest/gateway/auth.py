"""Who is calling: the gateway's access control (docs/security.md).

`VERITEXT_AUTH=api-keys`: every `/v1` and legacy request names a key, as `X-API-Key: KEY` or
`Authorization: Bearer KEY`, or the web page's session cookie (set by its login form: a random session id
that stands for the key, never the key itself; signing out or revoking the key ends it). No key or an
unknown, malformed or revoked one → 401; a key without the route's scope → 403; past the key's rate
limit or quota → 429 (ingest/gateway/ratelimit.py); a page answers those with the login form or an
error page instead (`LoginNeeded`, `PageRefused`). The key's name is the caller's tenant: its
submissions carry it, and it reads only its own (`admin` reads all).
`/predict` and `/predictions/predict` answer without a key when `VERITEXT_AUTH_LEGACY_OPEN` is set, as
the legacy tenant.

`VERITEXT_AUTH=none`: nobody is asked, nothing is attributed, everything is readable; allowed without
saying so only on a loopback address (`check_auth_mode`).

A looked-up key is trusted for `key_cache_s` (at most a second): a revoked key is refused by every
gateway process within that time; a key not found is looked up again on the next request.
"""

import ipaddress
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Protocol

from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from ingest.gateway.ratelimit import KeyLimiter, RateLimited
from ingest.gateway.settings import AuthSettings
from schemas.errors import ConfigError, InputError
from schemas.keys import Scope, StoredKey, parse_key, secret_matches
from schemas.webhooks import WEBHOOKS_OFF

__all__ = [
    "SESSION_COOKIE",
    "Access",
    "Authenticator",
    "Caller",
    "KeyLookup",
    "LoginNeeded",
    "PageRefused",
    "SessionStore",
    "check_auth_mode",
    "check_shared_limits",
    "require",
]

SESSION_COOKIE = "veritext_session"  # the web page's session id: HttpOnly, SameSite=Strict, Secure behind TLS

log = logging.getLogger(__name__)

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="a key from `veritext keys create`")
_bearer = HTTPBearer(auto_error=False, description="the same key as a bearer token")


class LoginNeeded(Exception):
    """A page asked for by someone without a (valid) key: they go to the login form."""


class PageRefused(Exception):
    """A page the caller may not see (a missing scope, a rate limit): shown as an error page."""

    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code = status_code


class KeyLookup(Protocol):
    def find(self, key_id: str) -> StoredKey | None: ...


class SessionStore(Protocol):
    """The web page's sign-ins (store/sessions.py)."""

    def open(self, key_id: str, lifetime: timedelta) -> str: ...

    def key_of(self, session_id: str) -> str | None: ...

    def close(self, session_id: str) -> None: ...


@dataclass(frozen=True)
class Caller:
    """Who a request is from. `key` None: auth is off, or an open legacy request (no limits apply)."""

    tenant: str | None
    key: StoredKey | None = None
    limiter: KeyLimiter | None = None

    @property
    def reads_as(self) -> str | None:
        """The tenant whose records this caller may read; None: every tenant's."""
        return None if self.key is not None and "admin" in self.key.scopes else self.tenant

    def callback(self, asked: str | None, webhooks_on: bool) -> str | None:
        """Where a submit's verdict goes: the callback it names, else its key's default while the
        deployment delivers webhooks (a default is not an error when they are off: it waits). A callback
        named while they are off is an `InputError`."""
        if asked is not None and not webhooks_on:
            raise InputError(f"callback_url: {WEBHOOKS_OFF}")
        if asked is not None or self.key is None or not webhooks_on:
            return asked
        return self.key.callback_url

    async def use_quota(self, texts: int = 1) -> None:
        """Count texts about to be submitted against the key's quota; 429 when it is used up."""
        if self.key is not None and self.limiter is not None:
            await self.limiter.check_quota(self.key, texts)


def check_auth_mode(settings: AuthSettings, host: str) -> str:
    """The mode the gateway runs in; refuses `none` left implicit on an address others can reach."""
    if settings.mode is not None:
        if settings.mode == "none" and not _loopback(host):
            log.warning("VERITEXT_AUTH=none on %s: anyone who reaches the gateway can submit and read", host)
        return settings.mode
    if _loopback(host):
        return "none"
    raise ConfigError(
        f"the gateway would listen on {host}, which is not a loopback address, with no access control: anyone "
        "who reaches it could submit texts and read every one. Set VERITEXT_AUTH=api-keys and create keys with "
        "`veritext keys create`, or set VERITEXT_AUTH=none to run it open on purpose"
    )


def check_shared_limits(settings: AuthSettings, mode: str, processes: int) -> None:
    """Refuses several gateway processes that would each keep their own rate-limit counters (a key could
    then send the limit once per process)."""
    if processes > 1 and mode == "api-keys" and settings.limits_storage.get_secret_value().startswith("memory://"):
        raise ConfigError(
            f"{processes} gateway processes with API keys would each count the rate limits on their own: set "
            "VERITEXT_AUTH_LIMITS_STORAGE to a shared store (redis://host:port/db), or run one gateway process"
        )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Authenticator:
    def __init__(
        self, keys: KeyLookup, limiter: KeyLimiter, cache_s: float, sessions: SessionStore, session_hours: float
    ) -> None:
        self._keys = keys
        self.limiter = limiter
        self._cache_s = cache_s
        self._cache: dict[str, tuple[float, StoredKey]] = {}  # key id -> (when looked up, the key)
        self._sessions = sessions
        self._session_lifetime = timedelta(hours=session_hours)

    async def sign_in(self, presented: str) -> str:
        """A new web page session for the live key `presented`; its id. HTTPException 401 as `authenticate`."""
        key = await self.authenticate(presented)
        return await run_in_threadpool(self._sessions.open, key.key_id, self._session_lifetime)

    async def sign_out(self, session_id: str) -> None:
        await run_in_threadpool(self._sessions.close, session_id)

    async def from_session(self, session_id: str) -> StoredKey:
        """The live key a web page session stands for; HTTPException 401 when it expired or the key went."""
        key_id = await run_in_threadpool(self._sessions.key_of, session_id)
        key = await self._live(key_id) if key_id is not None else None
        if key is None:
            raise _unauthorised("the session ended: sign in again")
        return key

    async def authenticate(self, presented: str | None) -> StoredKey:
        """The live key `presented` names; HTTPException 401 for anything else."""
        if not presented:
            raise _unauthorised("no API key: send it as X-API-Key: KEY or Authorization: Bearer KEY")
        parsed = parse_key(presented)
        if parsed is None:
            raise _unauthorised("not a veritext API key (they read vtk_<id>_<secret>)")
        key_id, secret = parsed
        key = await self._lookup(key_id)
        if key is None or not secret_matches(secret, key.secret_sha256):
            raise _unauthorised("unknown API key")
        if key.revoked_at is not None:
            raise _unauthorised(f"the API key {key.name!r} was revoked")
        return key

    async def still_valid(self, key: StoredKey) -> bool:
        """Whether `key` is still known and not revoked (through the key cache; nothing is counted)."""
        return await self._live(key.key_id) is not None

    async def _live(self, key_id: str) -> StoredKey | None:
        key = await self._lookup(key_id)
        return key if key is not None and key.revoked_at is None else None

    async def _lookup(self, key_id: str) -> StoredKey | None:
        cached = self._cache.get(key_id)
        if cached is not None and time.monotonic() - cached[0] < self._cache_s:
            return cached[1]
        key = await run_in_threadpool(self._keys.find, key_id)
        if key is None:
            self._cache.pop(key_id, None)
        else:
            self._cache[key_id] = (time.monotonic(), key)
        return key


@dataclass(frozen=True)
class Access:
    """The gateway's access rules. `authenticator` None: VERITEXT_AUTH=none."""

    authenticator: Authenticator | None = None
    legacy_open: bool = False
    legacy_tenant: str = "legacy"


def _unauthorised(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": "Bearer"})


def require(scope: Scope, *, legacy: bool = False, page: bool = False) -> Callable[..., Coroutine[Any, Any, Caller]]:
    """The dependency of a route that needs `scope`: the caller, once authenticated, allowed and counted.
    For a page (`page`), no key sends to the login form and a refusal is an error page, not JSON."""

    async def caller(
        request: Request,
        api_key: Annotated[str | None, Depends(_api_key)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Caller:
        presented = api_key or (bearer.credentials if bearer is not None else None)
        try:
            return await _authorise(request, scope, legacy, presented, request.cookies.get(SESSION_COOKIE))
        except HTTPException as exc:
            if not page:
                raise
            if exc.status_code == status.HTTP_401_UNAUTHORIZED:
                raise LoginNeeded() from None
            raise PageRefused(exc.status_code, str(exc.detail)) from None
        except RateLimited as exc:
            if not page:
                raise
            raise PageRefused(status.HTTP_429_TOO_MANY_REQUESTS, str(exc)) from None

    return caller


async def _authorise(
    request: Request, scope: Scope, legacy: bool, presented: str | None, session_id: str | None
) -> Caller:
    access: Access = request.app.state.access
    auth = access.authenticator
    if auth is None:
        return Caller(tenant=None)
    if legacy and access.legacy_open and not presented:
        return Caller(tenant=access.legacy_tenant)
    key = await (auth.authenticate(presented) if presented or not session_id else auth.from_session(session_id))
    request.state.key_name = key.name  # for the access log and the per-key metrics (metrics.py)
    if not key.allows(scope):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"the API key {key.name!r} lacks the {scope!r} scope (it has {', '.join(key.scopes)})",
        )
    await auth.limiter.check_rate(key)
    return Caller(tenant=key.name, key=key, limiter=auth.limiter)
