"""The web page's sign-in over real HTTP on gateway processes with API keys: the cookie holds a session
id, never the key; it is Secure when a trusted proxy says the request came over TLS; every form post
needs its CSRF token; signing out or revoking the key ends the session. Without keys, the gateway
answers only Host names it knows (no DNS rebinding)."""

import re
import uuid

import httpx
from sqlalchemy import func, select

from store.db import make_engine
from store.models import WebSession
from tests.cli import veritext
from tests.components import pipeline_processes


def _form_token(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def _set_cookie(answer: httpx.Response, name: str) -> str:
    (header,) = [h for h in answer.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    return header


def test_a_sign_in_is_a_server_side_session_guarded_by_csrf(kafka, database_url, tmp_path):
    name = f"web-{uuid.uuid4().hex[:6]}"
    key = veritext(kafka, database_url, "keys", "create", "--name", name, "--json").stdout
    key = re.search(r'"key": "([^"]+)"', key).group(1)
    with (
        pipeline_processes(kafka, database_url, tmp_path, VERITEXT_AUTH="api-keys") as (base,),
        httpx.Client(base_url=base) as browser,
    ):
        form = browser.get("/login")
        token = _form_token(form)
        assert "HttpOnly" in _set_cookie(form, "veritext_csrf")

        forged = httpx.post(f"{base}/login", data={"key": key, "csrf": "guessed"}, cookies={"veritext_csrf": "x"})
        assert forged.status_code == 403 and "reload the page" in forged.text
        assert "veritext_session" not in forged.headers.get("set-cookie", "")

        signed_in = browser.post("/login", data={"key": key, "csrf": token, "next": "/recent"})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/recent"
        cookie = _set_cookie(signed_in, "veritext_session")
        session_id = browser.cookies["veritext_session"]
        assert key not in cookie and key.split("_")[2] not in cookie, "the cookie never holds the key"
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
        assert browser.get("/recent").status_code == 200

        engine = make_engine(database_url, pool_size=1)
        with engine.connect() as db:
            stored = db.execute(select(WebSession.id_sha256)).scalars().all()
        assert len(stored) == 1 and session_id not in stored[0], "only the id's digest is stored"

        assert browser.post("/logout", data={"csrf": "wrong"}).status_code == 403
        assert browser.post("/logout", data={"csrf": token}).status_code == 303
        with engine.connect() as db:
            assert db.scalar(select(func.count()).select_from(WebSession)) == 0
        stale = httpx.get(f"{base}/recent", cookies={"veritext_session": session_id})
        assert stale.status_code == 303 and "/login" in stale.headers["location"]

        over_tls = httpx.post(  # as NGINX forwards it after TLS; 127.0.0.1 is a trusted proxy by default
            f"{base}/login",
            data={"key": key, "csrf": token},
            cookies={"veritext_csrf": token},
            headers={"X-Forwarded-Proto": "https"},
        )
        assert over_tls.status_code == 303 and "Secure" in _set_cookie(over_tls, "veritext_session")
        second = over_tls.cookies["veritext_session"]
        assert httpx.get(f"{base}/recent", cookies={"veritext_session": second}).status_code == 200
        assert veritext(kafka, database_url, "keys", "revoke", "--name", name).returncode == 0
        revoked = httpx.get(f"{base}/recent", cookies={"veritext_session": second})
        assert revoked.status_code == 303 and "/login" in revoked.headers["location"], "revoking ends sessions"
        engine.dispose()


def test_an_open_gateway_answers_only_host_names_it_knows(kafka, database_url, tmp_path):
    with pipeline_processes(kafka, database_url, tmp_path) as (base,):
        port = base.rsplit(":", 1)[1]
        assert httpx.get(f"{base}/v1/detectors").status_code == 200
        assert httpx.get(f"{base}/v1/detectors", headers={"Host": f"localhost:{port}"}).status_code == 200
        rebound = httpx.get(f"{base}/v1/detectors", headers={"Host": f"attacker.example:{port}"})
        assert rebound.status_code == 400
