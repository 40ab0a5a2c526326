"""The web page's routes (ingest/gateway/ui/__init__.py says what it is). Each page is rendered on the
server from the same reads and the same submitter as the API; with API keys, a page without a session
sends to the login form, which opens a server-side session (its id in an HttpOnly, SameSite=Strict
cookie, Secure behind TLS; never the key). Every form post carries a CSRF token (csrf.py)."""

import asyncio
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile, status
from fastapi.concurrency import iterate_in_threadpool, run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from ingest.gateway.auth import SESSION_COOKIE, Access, Caller, require
from ingest.gateway.deps import BatchStoreDep, DetectorsDep, StoreDep, SubmitterDep
from ingest.gateway.ratelimit import RateLimited
from ingest.gateway.routes_documents import submit_document
from ingest.gateway.ui.csrf import CsrfChecked, csrf_token, remember_csrf_token
from ingest.gateway.ui.i18n import LANG_COOKIE, LANGUAGES, language, words
from ingest.gateway.ui.reads import PageReads
from ingest.gateway.ui.streams import StreamSlots
from schemas.api import RecentText, SubmissionView, SubmitRequest, preview
from schemas.detector_spec import DetectorSpec
from schemas.errors import ConfigError, InputError, ServiceUnavailable, TooLarge
from schemas.events import ScoreEvent

__all__ = ["STATIC", "login_redirect", "render", "router"]

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
_STYLE = (STATIC / "style.css").read_text(encoding="utf-8")
_templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def percent(probability: float) -> str:
    """A probability as people read it: never "100%" or "0%", which no detector can know."""
    if probability > 0.995:
        return ">99%"
    if probability < 0.005:
        return "<1%"
    return f"{probability:.0%}"


def metric(value: float | None) -> str:
    """A report's number to three decimals, or a dash where the report has none (a set of one label has
    no AUROC)."""
    return "—" if value is None else f"{value:.3f}"


_templates.env.filters["percent"] = percent
_templates.env.filters["metric"] = metric
PAGE_WAIT_S = 20  # how long the check form waits for the score before showing the pending page
RECENT = 50
STREAM_RECHECK_S = 5  # a live stream checks its visitor's key again this often

ReadingVisitor = Annotated[Caller, Depends(require("read", page=True))]
SubmittingVisitor = Annotated[Caller, Depends(require("submit", page=True))]
AdminVisitor = Annotated[Caller, Depends(require("admin", page=True))]


async def _reads(request: Request) -> PageReads:
    return request.app.state.pages


ReadsDep = Annotated[PageReads, Depends(_reads)]


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page in the visitor's language; `?lang=` also remembers the choice."""
    lang = language(request)
    signed_in = request.app.state.access.authenticator is not None and SESSION_COOKIE in request.cookies
    page = {"lang": lang, "t": words(lang), "signed_in": signed_in, "csrf": csrf_token(request), **context}
    response = _templates.TemplateResponse(request, template, page, status_code=status_code)
    remember_csrf_token(request, response)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


def _colour(probability: float) -> str:
    """Green for human-like, through yellow, to red for machine-like."""
    return f"hsl({120 * (1 - probability):.0f}, 75%, 82%)"


@router.get("/")
def check_page(request: Request, _: SubmittingVisitor) -> HTMLResponse:
    return render(request, "check.html")


@router.post("/check")
async def check(
    request: Request,
    caller: SubmittingVisitor,
    _: CsrfChecked,
    submitter: SubmitterDep,
    text: Annotated[str, Form()] = "",
) -> Response:
    try:
        body = SubmitRequest(text=text)
        await caller.use_quota(1)
        event, _score = await submitter.submit(
            body.text, source="web", tenant=caller.tenant, normalised=body.normalised, wait_s=PAGE_WAIT_S
        )
    except ValidationError as exc:
        reason = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        return render(request, "check.html", status.HTTP_422_UNPROCESSABLE_CONTENT, text=text, error=reason)
    except HTTPException as exc:
        return render(request, "check.html", exc.status_code, text=text, error=exc.detail)
    except (ServiceUnavailable, RateLimited) as exc:
        code = (
            status.HTTP_429_TOO_MANY_REQUESTS if isinstance(exc, RateLimited) else status.HTTP_503_SERVICE_UNAVAILABLE
        )
        return render(request, "check.html", code, text=text, error=str(exc))
    # `new`: the log may not hold it yet (the sink writes it a moment later); its page waits for it
    return RedirectResponse(f"/texts/{event.submission_id}?new=1", status.HTTP_303_SEE_OTHER)


@router.post("/ui/documents")
async def upload(
    request: Request,
    caller: SubmittingVisitor,
    _: CsrfChecked,
    submitter: SubmitterDep,
    store: StoreDep,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """A document uploaded beside the pasted text: the API's intake (routes_documents.py), then its text's page."""
    shelf = request.app.state.documents
    try:
        if shelf is None:
            raise HTTPException(status.HTTP_501_NOT_IMPLEMENTED, "this gateway keeps no documents")
        if file is None or not file.filename:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "choose a file to upload")
        accepted = await submit_document(
            await file.read(), file.filename, caller=caller, submitter=submitter, store=store, shelf=shelf, source="web"
        )
    except HTTPException as exc:
        return render(request, "check.html", exc.status_code, error=exc.detail)
    except InputError as exc:
        code = status.HTTP_413_CONTENT_TOO_LARGE if isinstance(exc, TooLarge) else status.HTTP_422_UNPROCESSABLE_CONTENT
        return render(request, "check.html", code, error=str(exc))
    except (ServiceUnavailable, RateLimited) as exc:
        code = (
            status.HTTP_429_TOO_MANY_REQUESTS if isinstance(exc, RateLimited) else status.HTTP_503_SERVICE_UNAVAILABLE
        )
        return render(request, "check.html", code, error=str(exc))
    return RedirectResponse(f"/texts/{accepted.submission_id}?new=1", status.HTTP_303_SEE_OTHER)


@router.get("/texts/{submission}")
def text_page(
    request: Request,
    submission: str,
    caller: ReadingVisitor,
    store: StoreDep,
    reads: ReadsDep,
    new: bool = False,
    detector: str | None = None,
) -> HTMLResponse:
    """A submission's verdict, sentence by sentence, by `detector` (NAME@VERSION; default: the latest
    score), with links to the other detectors' scores; pending (and waiting for it) while it is not scored."""
    submission_id = _uuid(submission)
    if submission_id is None:
        return _missing(request, "submission", submission)
    view = store.get(submission_id, caller.reads_as)
    text = reads.text_of(submission_id, caller.reads_as) if view is not None else None
    if view is None or text is None:
        if new:  # just submitted from this page: not in the log yet
            return render(request, "text.html", view=None, submission_id=submission_id)
        return _missing(request, "submission", submission)
    return render(request, "text.html", view=view, submission_id=submission_id, **_verdict(view, text, detector))


@router.get("/texts/{submission}/report")
def report_page(
    request: Request,
    submission: str,
    caller: ReadingVisitor,
    store: StoreDep,
    reads: ReadsDep,
    detector: str | None = None,
    download: bool = False,
) -> HTMLResponse:
    """One verdict as a report to print or keep (the highlighted text, the verdict, the detector version,
    the date, what the detector cannot tell): a page of its own, its style inline, whose print stylesheet
    makes a clean PDF; `download` sends it as a file."""
    submission_id = _uuid(submission)
    view = store.get(submission_id, caller.reads_as) if submission_id is not None else None
    text = reads.text_of(view.submission_id, caller.reads_as) if view is not None else None
    if view is None or text is None or not view.scores:
        return _missing(request, "scored submission", submission)
    page = render(
        request, "report.html", view=view, submission_id=submission_id, style=_STYLE, **_verdict(view, text, detector)
    )
    if download:
        page.headers["content-disposition"] = f'attachment; filename="veritext-report-{submission_id}.html"'
    return page


def _verdict(view: SubmissionView, text: str, detector: str | None) -> dict[str, Any]:
    """The score a page shows (by `detector`, NAME@VERSION; default: the latest), its sentences coloured,
    and the other detectors' scores."""
    wanted = DetectorSpec.parse(detector) if detector else None
    named = [s for s in view.scores if wanted is not None and wanted.matches(s.detector_name, s.detector_version)]
    score = (named or view.scores)[0] if named or view.scores else None
    others = [s for s in view.scores if s is not score]
    parts = []
    if score is not None:
        spans = [(s.start, s.end, s.probability) for s in score.segments] or [(0, len(text), score.probability)]
        parts = [{"text": text[a:b], "probability": p, "colour": _colour(p)} for a, b, p in spans]
    return {"score": score, "parts": parts, "others": others}


@router.get("/recent")
def recent_page(request: Request, caller: ReadingVisitor, reads: ReadsDep) -> HTMLResponse:
    return render(request, "recent.html", items=reads.recent_texts(caller.reads_as, RECENT))


@router.get("/ui/scores")
async def score_stream(request: Request, caller: ReadingVisitor, submitter: SubmitterDep, reads: ReadsDep) -> Response:
    """Server-sent events: each new score this visitor may read, as `event: score` with a RecentText.
    Another tenant's score is dropped on its `tenant` before anything is read; the visitor's key is
    checked again every few seconds (a revoked key's stream ends); places are bounded (streams.py)."""
    slots: StreamSlots = request.app.state.streams
    holder = caller.key.name if caller.key is not None else None
    refused = slots.take(holder)
    if refused is not None:
        code, reason = refused
        return Response(reason, code, headers={"Retry-After": str(STREAM_RECHECK_S * 6)}, media_type="text/plain")
    waiter = submitter.waiter
    queue = waiter.listen()
    authenticator = request.app.state.access.authenticator

    async def events():
        checked = time.monotonic()
        try:
            yield ": connected\n\n"
            while not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(queue.get(), STREAM_RECHECK_S)
                except TimeoutError:
                    event = None
                if caller.key is not None and time.monotonic() - checked >= STREAM_RECHECK_S:
                    if not await authenticator.still_valid(caller.key):
                        yield "event: end\ndata: the API key was revoked\n\n"
                        return
                    checked = time.monotonic()
                if event is None:
                    yield ": still here\n\n"
                    continue
                if caller.reads_as is not None and event.tenant != caller.reads_as:
                    continue
                item = await _visible(reads, event, caller.reads_as)
                if item is not None:
                    yield f"event: score\ndata: {item.model_dump_json()}\n\n"
        finally:
            waiter.unlisten(queue)
            slots.give_back(holder)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # NGINX passes each event on at once
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


async def _visible(reads: PageReads, event: ScoreEvent, tenant: str | None) -> RecentText | None:
    """The score as the list shows it, once the log holds its text (the sink may be a moment behind);
    None when the visitor may not read it."""
    for _ in range(25):
        text = await run_in_threadpool(reads.text_of, event.submission_id, tenant)
        if text is not None:
            return RecentText(
                submission_id=event.submission_id,
                probability=event.probability,
                label=event.label,
                detector=str(event.spec),
                preview=preview(text),
                scored_at=event.scored_at,
            )
        await asyncio.sleep(0.2)
    return None


@router.get("/batches")
def batches_page(request: Request, caller: ReadingVisitor, batches: BatchStoreDep) -> HTMLResponse:
    return render(request, "batches.html", batches=batches.recent(RECENT, caller.reads_as))


@router.get("/batches/{batch}")
def batch_page(request: Request, batch: str, caller: ReadingVisitor, batches: BatchStoreDep) -> HTMLResponse:
    batch_id = _uuid(batch)
    progress = batches.progress(batch_id, caller.reads_as) if batch_id is not None else None
    if progress is None:
        return _missing(request, "batch", batch)
    return render(request, "batch.html", batch=progress)


@router.get("/batches/{batch}/results.csv")
def batch_csv(
    request: Request, batch: str, caller: ReadingVisitor, batches: BatchStoreDep, reads: ReadsDep
) -> Response:
    batch_id = _uuid(batch)
    if batch_id is None or batches.progress(batch_id, caller.reads_as) is None:
        return _missing(request, "batch", batch)

    async def chunks():
        yield "\ufeff"  # the byte-order mark: spreadsheets then read Cyrillic right
        async for chunk in iterate_in_threadpool(reads.batch_csv(batch_id, caller.reads_as)):
            yield chunk

    disposition = f'attachment; filename="veritext-batch-{batch_id}.csv"'
    return StreamingResponse(
        chunks(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition}
    )


@router.get("/detectors")
def detectors_page(request: Request, _: ReadingVisitor, detectors: DetectorsDep) -> HTMLResponse:
    return render(request, "detectors.html", detectors=detectors.views)


@router.get("/detectors/compare")
def compare_page(
    request: Request, caller: ReadingVisitor, detectors: DetectorsDep, reads: ReadsDep, a: str = "", b: str = ""
) -> HTMLResponse:
    try:
        comparison = reads.compare(a.strip(), b.strip(), caller.reads_as)
    except ConfigError as exc:
        return render(request, "detectors.html", detectors=detectors.views, a=a, b=b, error=str(exc))
    return render(request, "detectors.html", detectors=detectors.views, a=a, b=b, comparison=comparison)


@router.get("/health")
def health_page(request: Request, _: AdminVisitor, reads: ReadsDep) -> HTMLResponse:
    """Deployment-wide totals and the latest failure, whoever's text it was: for `admin` keys only."""
    try:
        summary = reads.status()
    except ServiceUnavailable as exc:
        return render(request, "error.html", status.HTTP_503_SERVICE_UNAVAILABLE, error=str(exc))
    return render(request, "health.html", s=summary)


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    if request.app.state.access.authenticator is None:
        return RedirectResponse("/", status.HTTP_303_SEE_OTHER)
    return render(request, "login.html", next=_local(next))


@router.post("/login")
async def login(
    request: Request, _: CsrfChecked, key: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/"
) -> Response:
    access: Access = request.app.state.access
    if access.authenticator is None:
        return RedirectResponse("/", status.HTTP_303_SEE_OTHER)
    try:
        session_id = await access.authenticator.sign_in(key.strip())
    except HTTPException as exc:
        return render(request, "login.html", exc.status_code, next=_local(next), error=exc.detail)
    response = RedirectResponse(_local(next), status.HTTP_303_SEE_OTHER)
    secure = request.url.scheme == "https"  # behind TLS: the proxy's X-Forwarded-Proto, when it is trusted
    response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="strict", secure=secure)
    return response


@router.post("/logout")
async def logout(request: Request, _: CsrfChecked) -> Response:
    access: Access = request.app.state.access
    session_id = request.cookies.get(SESSION_COOKIE)
    if access.authenticator is not None and session_id:
        await access.authenticator.sign_out(session_id)
    response = RedirectResponse("/", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


def _missing(request: Request, what: str, name: str) -> HTMLResponse:
    """Unknown, another tenant's, or not an id at all: the same 404 page."""
    return render(request, "error.html", status.HTTP_404_NOT_FOUND, error=f"no {what} {name[:100]}")


def _local(target: str) -> str:
    """Only a path of this site: a login never sends anyone elsewhere."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


def login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status.HTTP_303_SEE_OTHER)
