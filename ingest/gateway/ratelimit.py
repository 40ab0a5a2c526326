"""Per-key rate limits and daily quotas, on the `limits` library.

The rate limit (`veritext keys create --rate-limit 60/minute`) counts every request a key makes, in a
sliding window; the quota (`--quota 1000/day`) counts the texts it submits, in a fixed window of 24
hours from the first text it counts. Past either, the request is refused with `RateLimited` (a 429
with `Retry-After`, app.py).

The counters live where `VERITEXT_AUTH_LIMITS_STORAGE` says: `memory://` keeps them in the process (one
gateway), `redis://host:port/db` in Redis, shared by every gateway process and replica. A store that
does not answer refuses the request with a 503: limits are not silently dropped.
"""

import math
import time

from limits import RateLimitItem, RateLimitItemPerDay, parse
from limits.aio.strategies import FixedWindowRateLimiter, SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from pydantic import SecretStr

from schemas.errors import InputError, ServiceUnavailable
from schemas.keys import StoredKey
from schemas.secrets import plain, safe_url

__all__ = ["KeyLimiter", "RateLimited", "parse_quota", "parse_rate_limit"]


class RateLimited(Exception):
    """A key is past its rate limit or its quota; `retry_after_s`: when it may try again."""

    def __init__(self, reason: str, retry_after_s: int) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


def parse_rate_limit(value: str) -> str:
    """`N/second|minute|hour|day`, normalised; InputError for anything else."""
    try:
        item = parse(value)
    except ValueError:
        raise InputError(f"a rate limit reads like 60/minute (N/second, minute, hour or day), not {value!r}") from None
    return f"{item.amount}/{item.GRANULARITY.name}"


def parse_quota(value: str) -> int:
    """`N/day` or `N`: texts a day."""
    amount = value.strip().removesuffix("/day")
    if not amount.isdigit() or int(amount) < 1:
        raise InputError(f"a quota reads like 1000/day (texts a day, at least 1), not {value!r}")
    return int(amount)


class KeyLimiter:
    def __init__(self, storage: SecretStr | str) -> None:
        uri = plain(storage)
        scheme = uri.partition("://")[0]
        options = {"implementation": "redispy"} if scheme in ("redis", "rediss") else {}
        self._where = safe_url(uri)
        try:
            self._storage = storage_from_string(f"async+{uri}", key_prefix="veritext", **options)
        except Exception as exc:  # the library's own configuration errors
            raise InputError(f"cannot use {self._where} for rate limits: {exc}") from exc
        self._rate = SlidingWindowCounterRateLimiter(self._storage)
        self._quota = FixedWindowRateLimiter(self._storage)

    async def check_rate(self, key: StoredKey) -> None:
        """Count one request of `key`; refuse it past the key's rate limit."""
        if key.rate_limit is None:
            return
        item = parse(key.rate_limit)
        if not await self._hit(self._rate, item, key.name):
            retry = await self._retry_after(self._rate, item, key.name)
            raise RateLimited(f"key {key.name!r} is past its rate limit of {key.rate_limit}", retry)

    async def check_quota(self, key: StoredKey, texts: int = 1) -> None:
        """Count `texts` against the key's quota of the day; refuse the request when it is used up."""
        if key.quota_per_day is None:
            return
        item = RateLimitItemPerDay(key.quota_per_day)
        if not await self._hit(self._quota, item, key.name, texts):
            retry = await self._retry_after(self._quota, item, key.name)
            raise RateLimited(f"key {key.name!r} used its quota of {key.quota_per_day} texts a day", retry)

    async def _hit(self, limiter, item: RateLimitItem, name: str, cost: int = 1) -> bool:
        try:
            return await limiter.hit(item, name, cost=cost)
        except Exception as exc:  # the storage's driver errors: Redis down, refused, timed out
            raise ServiceUnavailable(f"the rate-limit store at {self._where} did not answer: {exc}") from exc

    async def _retry_after(self, limiter, item: RateLimitItem, name: str) -> int:
        try:
            stats = await limiter.get_window_stats(item, name)
        except Exception as exc:
            raise ServiceUnavailable(f"the rate-limit store at {self._where} did not answer: {exc}") from exc
        return max(1, math.ceil(stats.reset_time - time.time()))
