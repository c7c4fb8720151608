"""Answers of the large documents the pages fetch (the maps' GeoJSON), compressed once.

A map document of a region is megabytes of coordinates (946 communes of PACA:
1.8 MB), fetched by every page that shows the map, often over a rural connection.
Such a document never changes once its run is finished, so :func:`document_response`
answers it:

- compressed with gzip when the client accepts it (``Accept-Encoding``), the
  compressed bytes computed once per document and process (:func:`~tierslieux.web.memo.remembered`);
- with an ``ETag``, a digest of its bytes, so that a browser that already holds it gets
  ``304 Not Modified`` and no body (``Cache-Control: private, no-cache``: the browser
  asks each time, the server checks the user's rights each time).

The caller names the document by a key that changes with its content (run identifier,
filter, language...): the digest and the compressed bytes are kept under that key.
"""

from __future__ import annotations

import gzip
import hashlib
from typing import TYPE_CHECKING

from fastapi.responses import Response

from tierslieux.web.memo import remembered

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Mapping

    from starlette.requests import Request

__all__ = ["accepts_gzip", "document_response"]

#: Smaller documents are sent as they are (compressing them saves nothing worth it).
MIN_COMPRESSED_BYTES = 2048
#: Compressed documents kept per process.
_KEPT = 64
#: zlib's default level: 1.8 MB of GeoJSON to about a quarter, once per document.
_LEVEL = 6


def accepts_gzip(request: Request) -> bool:
    """Whether the request's ``Accept-Encoding`` admits gzip (``q=0`` refuses it)."""
    for part in request.headers.get("accept-encoding", "").split(","):
        coding, _sep, parameters = part.strip().partition(";")
        if coding.strip().lower() not in {"gzip", "*"}:
            continue
        quality = parameters.strip().lower().removeprefix("q=").strip()
        try:
            return not quality or float(quality) > 0
        except ValueError:
            return False
    return False


def _matches(request: Request, etag: str) -> bool:
    wanted = request.headers.get("if-none-match", "")
    return any(tag.strip().removeprefix("W/") == etag for tag in wanted.split(",")) or (
        wanted.strip() == "*"
    )


def document_response(
    request: Request,
    key: Hashable,
    content: bytes | Callable[[], bytes],
    media_type: str,
    *,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """``content`` (the document named by ``key``) as the client best takes it.

    ``304`` without a body when the request's ``If-None-Match`` names it; gzip when
    accepted and the document is large enough; else the bytes as they are.
    ``content`` may be a function giving the bytes: then it is called only when the
    bytes are needed (once per key and process for the digest and the compressed
    bytes, then only for a client that refuses gzip).
    """
    read = content if callable(content) else lambda: content

    def prepare() -> tuple[str, bytes | None]:
        raw = read()
        digest = hashlib.blake2b(raw, digest_size=16).hexdigest()
        packed = (
            gzip.compress(raw, compresslevel=_LEVEL, mtime=0)
            if len(raw) >= MIN_COMPRESSED_BYTES
            else None
        )
        return f'"{digest}"', packed

    etag, packed = remembered(request, "documents", key, prepare, size=_KEPT)
    sent = {
        **(headers or {}),
        "ETag": etag,
        "Cache-Control": "private, no-cache",
        "Vary": "Accept-Encoding",
    }
    if _matches(request, etag):
        return Response(status_code=304, headers=sent)
    if packed is not None and accepts_gzip(request):
        sent["Content-Encoding"] = "gzip"
        return Response(packed, media_type=media_type, headers=sent)
    return Response(read(), media_type=media_type, headers=sent)
