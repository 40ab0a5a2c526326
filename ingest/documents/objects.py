"""Where the originals of uploaded documents are kept (the claim check: an event names a document, it
never carries its bytes). One implementation for every store obstore reaches by URL: a folder
(`file:///...`, the embedded default: `documents/` in the data directory), any S3-compatible store
(`s3://bucket/prefix`: AWS S3, MinIO, Ceph; credentials from the usual `AWS_*` variables, `endpoint`
for a store that is not AWS), and the others obstore knows (GCS, Azure).

A store that does not answer in time raises `ServiceUnavailable` (a 503: nothing is submitted before its
original is kept); a missing object reads as None."""

from datetime import timedelta
from typing import TYPE_CHECKING

import obstore
from obstore.exceptions import BaseError
from obstore.store import from_url

if TYPE_CHECKING:  # the store's option types exist in its stubs only
    from obstore.store import ClientConfig, RetryConfig
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.errors import ServiceUnavailable
from schemas.secrets import safe_url

__all__ = ["ObjectStore", "ObjectStoreSettings"]


class ObjectStoreSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VERITEXT_DOCUMENTS_", frozen=True, extra="ignore")

    url: str | None = Field(
        default=None, description="file:///path, s3://bucket/prefix, ...; default: documents/ in the data directory"
    )
    endpoint: str | None = Field(default=None, description="an S3-compatible store's address (MinIO, Ceph)")
    allow_http: bool = Field(default=False, description="talk to `endpoint` without TLS (a store on loopback)")
    timeout_s: float = Field(default=10.0, gt=0, description="how long one request to the store may take")


class ObjectStore:
    def __init__(self, url: str, endpoint: str | None = None, allow_http: bool = False, timeout_s: float = 10.0):
        self.url = safe_url(url)
        options: ClientConfig = {
            "timeout": f"{timeout_s}s",
            "connect_timeout": f"{timeout_s}s",
            "allow_http": allow_http,
        }
        retries: RetryConfig = {"max_retries": 2, "retry_timeout": timedelta(seconds=timeout_s)}
        if url.startswith("file:"):
            self._store = from_url(url, mkdir=True)
        elif endpoint:
            self._store = from_url(url, client_options=options, retry_config=retries, endpoint=endpoint)
        else:
            self._store = from_url(url, client_options=options, retry_config=retries)

    @classmethod
    def from_settings(cls, settings: ObjectStoreSettings, default_url: str) -> "ObjectStore":
        return cls(settings.url or default_url, settings.endpoint, settings.allow_http, settings.timeout_s)

    async def put(self, key: str, data: bytes) -> None:
        try:
            await obstore.put_async(self._store, key, data)
        except (BaseError, OSError) as exc:
            raise ServiceUnavailable(f"the object store at {self.url} did not keep the document: {exc}") from exc

    async def get(self, key: str) -> bytes | None:
        try:
            found = await obstore.get_async(self._store, key)
            return bytes(await found.bytes_async())
        except FileNotFoundError:
            return None
        except (BaseError, OSError) as exc:
            raise ServiceUnavailable(f"the object store at {self.url} did not answer: {exc}") from exc

    async def delete(self, key: str) -> None:
        """Deleting what is not there is not an error."""
        try:
            await obstore.delete_async(self._store, key)
        except FileNotFoundError:
            return
        except (BaseError, OSError) as exc:
            raise ServiceUnavailable(f"the object store at {self.url} did not delete the document: {exc}") from exc
