"""Data and a loopback server for the browser tests (no import of tierslieux.web).

:func:`write_demo_map_data` writes, from the fictional demo territory, the three
documents the map reads (the formats are documented in
src/tierslieux/web/static/README.md):

``communes.geojson`` (exactly ``tierslieux diagnose --demo``'s file),
``indicateurs.json`` and ``bassins/<code>.json``, built by
:mod:`tierslieux.reports.webmap` (``write_map_documents``), as the application serves
them.

:class:`LoopbackServer` serves folders under URL prefixes on 127.0.0.1 with the
application's Content-Security-Policy, so a page that needs an inline script or another
host fails the tests the way it would fail in the application.
"""

from __future__ import annotations

import mimetypes
import struct
import threading
import urllib.parse
import zlib
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Self

from tierslieux.config import Settings
from tierslieux.pipeline import DiagnoseRequest, run_diagnosis
from tierslieux.reports.webmap import write_map_documents

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tierslieux.pipeline import Diagnosis

#: The policy the application is meant to send (issue 13: no inline script).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "worker-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def write_demo_map_data(folder: Path) -> Diagnosis:
    """Write the demo map documents into ``folder``; return the demo diagnosis."""
    settings = Settings(offline=True, cache_dir=folder / "cache")
    diagnosis = run_diagnosis(settings, DiagnoseRequest(territory="dep:00", demo=True))
    write_map_documents(diagnosis, folder)
    return diagnosis


def grey_tile() -> bytes:
    """A 256 x 256 light grey PNG: the stand-in raster basemap tile of the tests."""
    size = 256
    raw = b"".join(b"\x00" + b"\xe8\xe8\xe8" * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class LoopbackServer:
    """A threaded HTTP server of folders under URL prefixes, on 127.0.0.1, free port."""

    def __init__(self, routes: Mapping[str, Path], fixed: Mapping[str, bytes] | None = None):
        """``routes``: URL prefix -> folder; ``fixed``: URL prefix -> one body for all."""
        self.routes = {prefix.strip("/"): folder for prefix, folder in routes.items()}
        self.fixed = {f"/{prefix.strip('/')}/": body for prefix, body in (fixed or {}).items()}
        self.requests: list[str] = []
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002, ARG002
                server.requests.append(self.path)

            def end_headers(self) -> None:
                self.send_header("Content-Security-Policy", CSP)
                self.send_header("X-Content-Type-Options", "nosniff")
                self.send_header("Cache-Control", "no-store")
                super().end_headers()

            def translate_path(self, path: str) -> str:
                clean = urllib.parse.unquote(urllib.parse.urlsplit(path).path).lstrip("/")
                prefix, _, rest = clean.partition("/")
                folder = server.routes.get(prefix)
                if folder is None:
                    return str(Path("/nonexistent") / clean)
                target = (folder / rest).resolve()
                if not target.is_relative_to(folder.resolve()):
                    return str(Path("/nonexistent") / clean)
                return str(target)

            def guess_type(self, path: str | Path) -> str:
                name = str(path)
                if name.endswith((".js", ".mjs")):
                    return "text/javascript; charset=utf-8"
                if name.endswith((".json", ".geojson")):
                    return "application/json"
                return mimetypes.guess_type(name)[0] or "application/octet-stream"

            def do_GET(self) -> None:
                path = urllib.parse.urlsplit(self.path).path
                body = next((b for p, b in server.fixed.items() if path.startswith(p)), None)
                if body is None:
                    super().do_GET()
                    return
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", self.guess_type(self.path))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
