"""Uploaded files: read within the installation's size limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierslieux.i18n import gettext as _
from tierslieux.web.settings import web_settings

if TYPE_CHECKING:
    from fastapi import Request, UploadFile


__all__ = ["read_upload"]


def read_upload(request: Request, file: UploadFile) -> tuple[bytes, str | None]:
    """The uploaded file's bytes, or ``b""`` and the message when it is too large.

    The limit is ``max_upload_bytes`` of the application's settings; no more than one
    byte beyond it is read.
    """
    settings = web_settings(request)
    content = file.file.read(settings.max_upload_bytes + 1)
    if len(content) > settings.max_upload_bytes:
        return b"", _("Fichier trop gros (plus de {n} Mo).", n=settings.max_upload_bytes // 2**20)
    return content, None
