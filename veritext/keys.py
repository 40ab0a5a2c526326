"""`veritext keys create|list|callback|revoke`: the gateway's API keys (ingest/gateway/auth.py), in the log
database. A key is printed once, when it is made; only the sha256 of its secret is kept."""

import json
import re

import typer
from rich.console import Console
from rich.table import Table

from ingest.bridge.settings import BridgeSettings
from ingest.gateway.ratelimit import parse_quota, parse_rate_limit
from ingest.gateway.settings import AuthSettings
from schemas.errors import InputError
from schemas.keys import KEY_NAME, SCOPES, Scope, StoredKey
from schemas.webhooks import check_callback_url
from store.db import open_log
from store.keys import SqlKeyStore
from veritext.reports import fitting

__all__ = ["create_key", "list_keys", "revoke_key", "set_callback"]


def _store() -> SqlKeyStore:
    return SqlKeyStore(open_log(pool_size=1))


def _scopes(value: str) -> list[Scope]:
    scopes = [s.strip() for s in value.split(",") if s.strip()]
    if not scopes or any(s not in SCOPES for s in scopes):
        raise InputError(f"--scopes takes a comma-separated list of {', '.join(SCOPES)}; got {value!r}")
    return list(dict.fromkeys(scopes))  # type: ignore[arg-type]


def _callback(url: str) -> str:
    try:
        return check_callback_url(url)
    except ValueError as exc:
        raise InputError(f"--callback-url: {exc}") from None


def create_key(
    name: str,
    scopes: str,
    rate_limit: str | None,
    quota: str | None,
    callback_url: str | None,
    as_json: bool,
    console: Console,
) -> int:
    if not re.fullmatch(KEY_NAME, name):
        raise InputError(
            f"a key name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit; got {name!r}"
        )
    reserved = {BridgeSettings().tenant: "the RabbitMQ bridge", AuthSettings().legacy_tenant: "open legacy requests"}
    if name in reserved:
        raise InputError(f"the name {name!r} is the tenant of {reserved[name]}: a key so named would read its texts")
    chosen = _scopes(scopes)
    limit = parse_rate_limit(rate_limit) if rate_limit else None
    per_day = parse_quota(quota) if quota else None
    callback = _callback(callback_url) if callback_url is not None else None
    made = _store().create(name, chosen, limit, per_day, callback)
    if as_json:
        settings = {"scopes": chosen, "rate_limit": limit, "quota_per_day": per_day, "callback_url": callback}
        typer.echo(json.dumps({"key": made.key, "name": name, **settings}))
    else:
        typer.echo(made.key)
        limits = ", ".join(filter(None, [limit, f"{per_day} texts/day" if per_day else None])) or "no limits"
        console.print(f"created key {name!r} ({', '.join(chosen)}; {limits}); it is shown only this once")
    return 0


def list_keys(as_json: bool, out: Console) -> int:
    keys = _store().all()
    if as_json:
        typer.echo("\n".join(json.dumps(_public(k)) for k in keys))
        return 0
    table = Table(title="API keys")
    for column in ("name", "id", "scopes", "rate limit", "quota/day", "callback", "created (UTC)", "revoked (UTC)"):
        table.add_column(column)
    for k in keys:
        table.add_row(
            k.name,
            k.key_id,
            ", ".join(k.scopes),
            k.rate_limit or "-",
            f"{k.quota_per_day:,}" if k.quota_per_day else "-",
            k.callback_url or "-",
            k.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            k.revoked_at.strftime("%Y-%m-%d %H:%M:%S") if k.revoked_at else "",
        )
    out.print(fitting(table, out))
    return 0


def set_callback(name: str, url: str | None, console: Console) -> int:
    callback = _callback(url) if url is not None else None
    if not _store().set_callback(name, callback):
        raise InputError(f"no live key named {name!r} (see `veritext keys list`)")
    said = f"its verdicts go to {callback} when a submit names no callback_url" if callback else "no default callback"
    console.print(f"key {name!r}: {said}")
    return 0


def revoke_key(name: str, console: Console) -> int:
    if not _store().revoke(name):
        raise InputError(f"no live key named {name!r} (see `veritext keys list`)")
    console.print(f"revoked key {name!r}: every gateway refuses it within a second")
    return 0


def _public(key: StoredKey) -> dict[str, object]:
    """What `keys list --json` shows: everything but the digest of the secret."""
    return {
        "name": key.name,
        "id": key.key_id,
        "scopes": list(key.scopes),
        "rate_limit": key.rate_limit,
        "quota_per_day": key.quota_per_day,
        "callback_url": key.callback_url,
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }
