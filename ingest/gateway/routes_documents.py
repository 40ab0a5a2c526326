"""`/v1/documents`: upload a file (PDF, DOCX, ODT, HTML, Markdown, text) and its text is submitted like
any other (same intake rule, topic and scorer); read its verdict page by page; its owner deletes it.

An upload is read (the body is bounded before it is read whole: `document_max_bytes`), its kind sniffed
from its bytes and its text extracted (ingest/documents/extract.py; a file that cannot be read is a 422
with the reason), its original kept in the object store, its record written, and only then its text
submitted, carrying the document's id (the claim check). A 503 at any step: nothing was submitted; send
it again, with an `Idempotency-Key` to be sure of one document."""

import hashlib
from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, File, Form, Header, HTTPException, Request, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool

from ingest.documents.extract import extract
from ingest.documents.shelf import DocumentShelf
from ingest.gateway.auth import Caller
from ingest.gateway.deps import (
    DetectorsDep,
    ReadingCaller,
    StoreDep,
    SubmissionStore,
    SubmitterDep,
    SubmittingCaller,
)
from ingest.gateway.errors import ERROR_RESPONSES
from ingest.gateway.idempotency import IDEMPOTENCY_HEADER, document_ids_for
from ingest.gateway.submit import Submitter
from schemas.api import SubmissionView
from schemas.documents import DocumentAccepted, DocumentRecord, DocumentVerdict, DocumentView
from schemas.events import Source
from schemas.text import PlainStr
from schemas.webhooks import CallbackUrl

__all__ = ["router", "submit_document"]

router = APIRouter(prefix="/v1", tags=["documents"], responses=ERROR_RESPONSES)


async def _shelf(request: Request) -> DocumentShelf:
    shelf = request.app.state.documents
    if shelf is None:
        raise HTTPException(status.HTTP_501_NOT_IMPLEMENTED, "this gateway keeps no documents")
    return shelf


ShelfDep = Annotated[DocumentShelf, Depends(_shelf)]


@router.post("/documents", status_code=status.HTTP_202_ACCEPTED, response_model=DocumentAccepted)
async def upload_document(
    caller: SubmittingCaller,
    submitter: SubmitterDep,
    detectors: DetectorsDep,
    store: StoreDep,
    shelf: ShelfDep,
    file: Annotated[UploadFile, File(description="PDF (with a text layer), DOCX, ODT, HTML, Markdown or text")],
    lang: Annotated[PlainStr | None, Form(max_length=16, description="ISO 639-1 code, if known")] = None,
    external_id: Annotated[PlainStr | None, Form(max_length=256, description="the caller's own id")] = None,
    detector: Annotated[PlainStr | None, Form(max_length=160, description="as for POST /v1/texts")] = None,
    callback_url: Annotated[CallbackUrl | None, Form(description="as for POST /v1/texts")] = None,
    idempotency_key: Annotated[
        str | None, Header(alias=IDEMPOTENCY_HEADER, description="retries with the same key get the same document")
    ] = None,
) -> DocumentAccepted:
    accepted = await submit_document(
        await file.read(),
        file.filename,
        caller=caller,
        submitter=submitter,
        store=store,
        shelf=shelf,
        source="http",
        lang=lang,
        external_id=external_id,
        detector=detectors.resolve(detector),
        callback_url=caller.callback(callback_url, submitter.webhooks_on),
        idempotency_key=idempotency_key,
    )
    return accepted


async def submit_document(
    data: bytes,
    filename: str | None,
    *,
    caller: Caller,
    submitter: Submitter,
    store: SubmissionStore,
    shelf: DocumentShelf,
    source: Source,
    lang: str | None = None,
    external_id: str | None = None,
    detector: str | None = None,
    callback_url: str | None = None,
    idempotency_key: str | None = None,
) -> DocumentAccepted:
    """Extract, keep the original, record, submit (the module docstring); the web page's upload too."""
    extracted = await run_in_threadpool(extract, data, filename, submitter.settings.max_text_chars)
    document_id, submission_id = document_ids_for(idempotency_key, caller.tenant)
    await caller.use_quota(1)
    sha256 = hashlib.sha256(data).hexdigest()
    key = f"{caller.tenant or '_'}/{document_id}/{sha256[:16]}"  # two files under one key never share one
    await shelf.originals.put(key, data)
    record = DocumentRecord(
        document_id=document_id,
        submission_id=submission_id,
        tenant=caller.tenant,
        filename=_plain_name(filename),
        media_type=extracted.media_type,
        size_bytes=len(data),
        sha256=sha256,
        object_key=key,
        parts=extracted.parts,
    )
    kept = await run_in_threadpool(shelf.records.record, record)
    if kept.sha256 != sha256:  # the first file under this Idempotency-Key won, at once or long ago
        await shelf.originals.delete(key)
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"{IDEMPOTENCY_HEADER} {idempotency_key!r} was used for another file (document {document_id})",
        )
    event, _ = await submitter.submit(
        extracted.text,
        source=source,
        tenant=caller.tenant,
        lang=lang,
        external_id=external_id,
        detector=detector,
        normalised=extracted.normalised,
        submission_id=submission_id,
        document_id=document_id,
        callback_url=callback_url,
    )
    return DocumentAccepted(
        document_id=document_id,
        submission_id=event.submission_id,
        href=f"/v1/documents/{document_id}",
        media_type=extracted.media_type,
        n_chars=len(extracted.text),
        parts=len(extracted.parts),
        normalised=list(extracted.normalised),
    )


def _plain_name(filename: str | None) -> str | None:
    """The file's own name (no folders), printable characters only, at most 256."""
    if not filename:
        return None
    name = PureWindowsPath(PurePosixPath(filename).name).name
    return "".join(ch for ch in name if ch.isprintable())[:256] or None


@router.get("/documents/{document_id}", response_model=DocumentView, name="read_document")
async def read_document(document_id: UUID, caller: ReadingCaller, store: StoreDep, shelf: ShelfDep) -> DocumentView:
    """Its verdicts with each segment's page; another tenant's document answers 404, as one that does not
    exist."""
    record = await run_in_threadpool(shelf.records.get, document_id, caller.reads_as)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no document {document_id}")
    submission = await run_in_threadpool(store.get, record.submission_id)
    return document_view(record, submission)


def document_view(record: DocumentRecord, submission: SubmissionView | None) -> DocumentView:
    return DocumentView(
        document_id=record.document_id,
        submission_id=record.submission_id,
        status=submission.status if submission else "queued",
        text_href=f"/v1/texts/{record.submission_id}",
        filename=record.filename,
        media_type=record.media_type,
        size_bytes=record.size_bytes,
        sha256=record.sha256,
        n_chars=submission.n_chars if submission else 0,
        parts=record.parts,
        verdicts=[DocumentVerdict.of_document(score, record.parts) for score in submission.scores]
        if submission
        else [],
        created_at=record.created_at,
        deleted_at=record.deleted_at,
    )


@router.delete("/documents/{document_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_document(document_id: UUID, caller: SubmittingCaller, store: StoreDep, shelf: ShelfDep) -> Response:
    """Its owner deletes the original and the text; the record says when and by whom, and the verdicts
    stay. A document whose text the log does not hold yet answers 409: delete it again in a moment."""
    record = await run_in_threadpool(shelf.records.get, document_id, caller.tenant)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no document {document_id}")
    if record.deleted_at is None and await run_in_threadpool(store.get, record.submission_id) is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "the document's text is not in the log yet; delete it again in a moment"
        )
    await shelf.originals.delete(record.object_key)
    await run_in_threadpool(shelf.records.delete, document_id, caller.tenant, caller.tenant or "anonymous")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
