"""The pieces of access control that need no gateway: the key format, the mode rule, the limiter's
stores (memory, and a Redis that does not answer)."""

import asyncio
from datetime import UTC, datetime

import pytest

from ingest.gateway.auth import check_auth_mode
from ingest.gateway.ratelimit import KeyLimiter, RateLimited, parse_quota, parse_rate_limit
from ingest.gateway.settings import AuthSettings
from schemas.errors import ConfigError, InputError, ServiceUnavailable
from schemas.keys import StoredKey, new_key, parse_key, secret_matches
from stream.embedded_broker import free_port


def test_a_new_key_parses_back_and_only_its_own_secret_matches():
    made = new_key()
    key_id, secret = parse_key(made.key)
    assert key_id == made.key_id and secret_matches(secret, made.secret_sha256)
    assert made.secret_sha256 not in made.key and len(secret) == 43
    other = new_key()
    assert not secret_matches(parse_key(other.key)[1], made.secret_sha256)
    for malformed in ("", made.key[:-1], made.key + "x", made.key.replace("vtk_", "vtx_"), "vtk_\x00"):
        assert parse_key(malformed) is None, malformed


@pytest.mark.parametrize(
    ("mode", "host", "expected"),
    [
        (None, "127.0.0.1", "none"),
        (None, "::1", "none"),
        (None, "localhost", "none"),
        ("none", "0.0.0.0", "none"),  # said explicitly: allowed, with a warning
        ("api-keys", "0.0.0.0", "api-keys"),
        ("api-keys", "127.0.0.1", "api-keys"),
    ],
)
def test_the_mode_rule(mode, host, expected):
    assert check_auth_mode(AuthSettings(VERITEXT_AUTH=mode), host) == expected


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::", "gateway.internal"])
def test_no_mode_on_an_address_others_reach_is_refused(host):
    with pytest.raises(ConfigError, match="not a loopback address"):
        check_auth_mode(AuthSettings(VERITEXT_AUTH=None), host)


def test_limit_notations():
    assert parse_rate_limit("60/minute") == "60/minute" and parse_rate_limit("5 per second") == "5/second"
    assert parse_quota("1000/day") == parse_quota("1000") == 1000
    for bad in ("60", "fast", "-1/minute"):
        with pytest.raises(InputError):
            parse_rate_limit(bad)
    for bad in ("0", "ten/day", "5/hour"):
        with pytest.raises(InputError):
            parse_quota(bad)


def _key(rate_limit: str | None, quota: int | None) -> StoredKey:
    return StoredKey("t", "0" * 16, "x", ("submit",), rate_limit, quota, datetime.now(UTC), None)


def test_the_in_memory_limiter_counts_requests_and_texts():
    async def run() -> list[str]:
        limiter, key, seen = KeyLimiter("memory://"), _key("2/minute", 3), []
        for _ in range(3):
            try:
                await limiter.check_rate(key)
                seen.append("ok")
            except RateLimited as exc:
                seen.append(f"429 after {exc.retry_after_s}")
        await limiter.check_quota(key, 3)  # the whole quota at once: allowed
        with pytest.raises(RateLimited, match="quota of 3"):
            await limiter.check_quota(key)
        return seen

    seen = asyncio.run(run())
    assert seen[:2] == ["ok", "ok"] and seen[2].startswith("429 after ")


def test_a_rate_limit_store_that_does_not_answer_is_a_503_not_a_pass():
    limiter = KeyLimiter(f"redis://:secret-pw@127.0.0.1:{free_port()}/0")
    with pytest.raises(ServiceUnavailable, match="did not answer") as refused:
        asyncio.run(limiter.check_rate(_key("5/minute", None)))
    assert "secret-pw" not in str(refused.value)
