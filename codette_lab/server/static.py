"""The join page's files, served by the server itself: ``GET /`` is ``index.html``, ``GET /<file>`` its assets.

The page (see :func:`codette_lab.resources.page_folder`) is public: it holds
no secret, so it is served without the token that ``/health`` and ``/ws``
ask for. Only regular files inside that folder are served: a path is
percent-decoded, then refused if it names a hidden file, holds ``..``, a
backslash or a NUL, or resolves (links included) outside the folder; a folder
is never listed. Every answer carries the headers a page that handles files
from strangers needs (:data:`SECURITY_HEADERS`): a Content-Security-Policy
that lets scripts, styles, images, media and connections come from the
page's own origin only, ``nosniff`` and no referrer.
"""

from __future__ import annotations

import email.utils
import mimetypes
from http import HTTPStatus
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from websockets.datastructures import Headers
from websockets.http11 import Response

#: The page's own origin only. ``'self'`` in connect-src covers the same host and port over ws:/wss:
#: (CSP Level 3, as Chromium and Firefox apply it); ``blob:`` lets the page play and draw what it
#: decoded itself from a student's file; nothing may frame the page, and no plugin runs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
)
#: The page changes when the package is upgraded, not while a server runs: browsers revalidate each time
#: (a restart after an upgrade never serves a stale mix of old and new files), and may skip the body
#: when the ``ETag`` still matches.
CACHE_CONTROL = "no-cache"
INDEX = "index.html"
#: Types the page's files have, whatever the machine's own MIME table says (some map .js to text/plain).
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
    ".wasm": "application/wasm",
}


def content_type(path: Path) -> str:
    """The Content-Type of one of the page's files (``application/octet-stream`` when unknown)."""
    known = CONTENT_TYPES.get(path.suffix.lower())
    if known is not None:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def secure_headers(status: HTTPStatus, body: bytes, content: str) -> Response:
    """A response with ``body``, its type, and the page's security headers."""
    headers = Headers(
        [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Connection", "close"),
            ("Content-Length", str(len(body))),
            ("Content-Type", content),
            *SECURITY_HEADERS,
        ]
    )
    return Response(status.value, status.phrase, headers, body)


class PageFiles:
    """The files under ``folder``, looked up by request path (see the module's docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()

    def find(self, path: str) -> Path | None:
        """The regular file inside the folder that the URL path ``path`` names, or None."""
        text = unquote(path, errors="strict") if "%" in path else path
        relative = text.lstrip("/") or INDEX
        if "\\" in relative or "\x00" in relative:
            return None
        parts = PurePosixPath(relative).parts
        if any(part in ("..", ".") or part.startswith(".") for part in parts):
            return None
        candidate = self.folder.joinpath(*parts)
        try:
            resolved = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not resolved.is_relative_to(self.folder) or not resolved.is_file():
            return None
        return resolved

    def response(self, path: str, if_none_match: str | None) -> Response | None:
        """The answer for ``GET path``: the file (200, or 304 when the browser holds this version), or
        None when no file of the page is there."""
        try:
            found = self.find(path)
        except UnicodeDecodeError:
            return None
        if found is None:
            return None
        try:
            data = found.read_bytes()
            stat = found.stat()
        except OSError:
            return None
        etag = f'"{stat.st_mtime_ns:x}-{len(data):x}"'
        if if_none_match is not None and etag in (tag.strip() for tag in if_none_match.split(",")):
            response = secure_headers(HTTPStatus.NOT_MODIFIED, b"", content_type(found))
            del response.headers["Content-Length"]
        else:
            response = secure_headers(HTTPStatus.OK, data, content_type(found))
        response.headers["Cache-Control"] = CACHE_CONTROL
        response.headers["ETag"] = etag
        return response
