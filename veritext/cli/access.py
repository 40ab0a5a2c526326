"""`veritext keys`: the gateway's API keys (VERITEXT_AUTH=api-keys)."""

from typing import Annotated

import typer

from veritext.cli.app import app, console, out, run_command

keys = typer.Typer(no_args_is_help=True, help="API keys of the gateway (VERITEXT_AUTH=api-keys).")
app.add_typer(keys, name="keys")


@keys.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="the key's name: the tenant its texts are recorded under")],
    scopes: Annotated[str, typer.Option(help="comma-separated: submit, read, admin (reads every tenant)")] = (
        "submit,read"
    ),
    rate_limit: Annotated[str | None, typer.Option(help="requests, e.g. 60/minute (default: no limit)")] = None,
    quota: Annotated[str | None, typer.Option(help="texts a day, e.g. 1000/day (default: no quota)")] = None,
    callback_url: Annotated[
        str | None, typer.Option(help="where its verdicts are POSTed when a submit names no callback_url")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the key and its settings as JSON")] = False,
) -> None:
    """Make a key and print it, once: only a digest of it is stored."""
    from veritext.keys import create_key

    run_command(lambda: create_key(name, scopes, rate_limit, quota, callback_url, as_json, console))


@keys.command("list")
def keys_list(as_json: Annotated[bool, typer.Option("--json", help="one JSON object a key")] = False) -> None:
    """The keys, live and revoked (never their secrets)."""
    from veritext.keys import list_keys

    run_command(lambda: list_keys(as_json, out))


@keys.command("callback")
def keys_callback(
    name: Annotated[str, typer.Option(help="the key's name")],
    url: Annotated[str | None, typer.Option(help="the new default callback; left out: the key has none")] = None,
) -> None:
    """Set or clear a key's default callback (every gateway uses it within a second)."""
    from veritext.keys import set_callback

    run_command(lambda: set_callback(name, url, console))


@keys.command("revoke")
def keys_revoke(name: Annotated[str, typer.Option(help="the key's name")]) -> None:
    """Refuse a key from now on (every gateway within a second)."""
    from veritext.keys import revoke_key

    run_command(lambda: revoke_key(name, console))
