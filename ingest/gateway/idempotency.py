"""`Idempotency-Key`: a client that retries a submission (after a timeout, a 503, a lost connection)
names it with a key of its choice, and gets the same submission back, never a second one.

The key fixes the ids instead of storing them: a text's submission id is a uuid5 of the key, a batch's
id a uuid5 of the key and each line's submission id a uuid5 of the batch id and the line number. A
retried request therefore writes events with the same ids, which every consumer already treats as
one (the sink's writes are idempotent on the submission id; a score is kept once per detector
version), and the answer names the same submission or batch. No state to keep, nothing to expire,
and it holds across gateway replicas and restarts. With API keys, a key is the tenant's own: the same
Idempotency-Key from two tenants names two submissions. A key is 1 to 200 printable ASCII characters;
reusing one for a different text answers 422 once the log holds the first (docs/api.md, "Retries").
"""

import re
import uuid
from uuid import UUID

from schemas.errors import InputError

__all__ = ["IDEMPOTENCY_HEADER", "batch_id_for", "document_ids_for", "line_submission_id", "submission_id_for"]

IDEMPOTENCY_HEADER = "Idempotency-Key"
# Fixed forever: changing it would give a retried request new ids.
_NAMESPACE = UUID("0f6b1c2e-8d4a-5b7e-a3c9-6e2f1d8b4a50")
_KEY = re.compile(r"[\x21-\x7e]{1,200}")


def _checked(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise InputError(f"{IDEMPOTENCY_HEADER} must be 1 to 200 printable ASCII characters without spaces")
    return key


def submission_id_for(key: str | None, tenant: str | None = None) -> UUID:
    """The id of the submission a `POST /v1/texts` with this key makes (a fresh one without a key)."""
    return uuid.uuid4() if key is None else uuid.uuid5(_NAMESPACE, f"text:{_scoped(key, tenant)}")


def document_ids_for(key: str | None, tenant: str | None = None) -> tuple[UUID, UUID]:
    """The ids of the document and of the submission of its text a `POST /v1/documents` with this key makes."""
    if key is None:
        return uuid.uuid4(), uuid.uuid4()
    submission_id = uuid.uuid5(_NAMESPACE, f"document:{_scoped(key, tenant)}")
    return uuid.uuid5(submission_id, "document"), submission_id


def batch_id_for(key: str | None, tenant: str | None = None) -> UUID:
    return uuid.uuid4() if key is None else uuid.uuid5(_NAMESPACE, f"batch:{_scoped(key, tenant)}")


def _scoped(key: str, tenant: str | None) -> str:
    """Each tenant's keys are its own: two tenants sending the same key get different ids. A tenant's name
    holds no colon (schemas/keys.py), so the two parts cannot be confused."""
    return _checked(key) if tenant is None else f"{tenant}:{_checked(key)}"


def line_submission_id(batch_id: UUID, line: int, keyed: bool) -> UUID:
    """A keyed batch's line keeps its submission id when the batch is sent again."""
    return uuid.uuid5(batch_id, f"line:{line}") if keyed else uuid.uuid4()
