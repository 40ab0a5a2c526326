"""Forms of the web page carry a token that another site cannot know (double-submit): the page sets a
random token in a SameSite=Strict cookie and in a hidden field of each form; a form post whose field
does not match its cookie is refused. It guards the sign-in form too, which has no session yet."""

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Form, Request, status
from fastapi.responses import Response

from ingest.gateway.auth import PageRefused

__all__ = ["CSRF_COOKIE", "CsrfChecked", "csrf_token", "remember_csrf_token"]

CSRF_COOKIE = "veritext_csrf"


def csrf_token(request: Request) -> str:
    """The visitor's token: the one its cookie holds, else a new one (set by `remember_csrf_token`)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf", None)
    if token is None:
        token = request.state.csrf = secrets.token_urlsafe(32)
    return token


def remember_csrf_token(request: Request, response: Response) -> None:
    if CSRF_COOKIE not in request.cookies and getattr(request.state, "csrf", None):
        response.set_cookie(
            CSRF_COOKIE, request.state.csrf, httponly=True, samesite="strict", secure=request.url.scheme == "https"
        )


def _checked(request: Request, csrf: Annotated[str, Form()] = "") -> None:
    expected = request.cookies.get(CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf.encode(), expected.encode()):
        raise PageRefused(
            status.HTTP_403_FORBIDDEN,
            "this form is stale or was sent from another site: reload the page and send it again",
        )


CsrfChecked = Annotated[None, Depends(_checked)]
