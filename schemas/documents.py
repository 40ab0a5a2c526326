"""Documents (uploaded files): the record the gateway keeps of one (ingest/documents/, store/documents.py)
and the `/v1/documents` bodies. A document's text is a submission like any other; the document adds
where its original is kept and where each page or paragraph starts in the text, so that a verdict's
segments name their page."""

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.api import SubmissionStatus
from schemas.verdict import ScoreView, Segment

__all__ = [
    "DocumentAccepted",
    "DocumentPart",
    "DocumentRecord",
    "DocumentSegment",
    "DocumentVerdict",
    "DocumentView",
    "part_at",
]


class DocumentPart(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: int = Field(ge=0, description="where the page or paragraph starts in the text (a character offset)")
    label: str = Field(description='what it is called: "page 3", "paragraph 12"')


class DocumentRecord(BaseModel):
    """What the log keeps of an uploaded file (its bytes are in the object store, under `object_key`)."""

    document_id: UUID
    submission_id: UUID
    tenant: str | None
    filename: str | None
    media_type: str
    size_bytes: int
    sha256: str
    object_key: str
    parts: list[DocumentPart]
    created_at: datetime | None = None
    deleted_at: datetime | None = None
    deleted_by: str | None = None


def part_at(parts: list[DocumentPart], offset: int) -> str:
    """The label of the page or paragraph the character at `offset` is in."""
    label = parts[0].label if parts else "document"
    for part in parts:
        if part.start > offset:
            break
        label = part.label
    return label


class DocumentAccepted(BaseModel):
    document_id: UUID
    submission_id: UUID
    status: SubmissionStatus = "queued"
    href: str = Field(description="the document: its verdict, page by page, once scored")
    media_type: str = Field(description="what the file is, read from its bytes")
    n_chars: int = Field(description="characters of text read from it")
    parts: int = Field(description="pages (PDF) or paragraphs it has text in")
    normalised: list[str] = Field(default=[], description="what the intake changed in the text")


class DocumentSegment(Segment):
    part: str = Field(description='the page or paragraph the segment starts in: "page 3"')


class DocumentVerdict(ScoreView):
    """A verdict whose segments name the page or paragraph they start in."""

    segments: Sequence[DocumentSegment] = Field(
        default=[], description="per-sentence scores, each with the page or paragraph it starts in"
    )

    @classmethod
    def of_document(cls, score: ScoreView, parts: list[DocumentPart]) -> "DocumentVerdict":
        return cls.of(
            score,
            segments=[DocumentSegment(**dict(s), part=part_at(parts, s.start)) for s in score.segments],
        )


class DocumentView(BaseModel):
    document_id: UUID
    submission_id: UUID
    status: SubmissionStatus
    text_href: str = Field(description="the submission its text became")
    filename: str | None
    media_type: str
    size_bytes: int
    sha256: str = Field(description="of the file as uploaded (hex)")
    n_chars: int
    parts: list[DocumentPart]
    verdicts: list[DocumentVerdict] = Field(description="one per detector version that scored it, oldest first")
    created_at: datetime | None
    deleted_at: datetime | None = Field(
        default=None, description="when its owner deleted it: the original and the text are gone, the verdicts stay"
    )
