"""The printable flyer of a collection campaign (PDF, A5, readable in black and white).

The flyer is put up in town halls, libraries and shops: the campaign's title and
territory, its public address written out and as a QR code (:func:`qr_matrix`, drawn
by ``segno``, error correction level M so that a worn or badly printed copy still
scans), the answering period (days in Paris time), and in short what the consent
notice of the form says: the data controller, the purpose and the retention period.
It is in the installation's language, as the form it leads to.

:func:`render_flyer_html` gives the page (the shared ``base.html``),
:func:`render_flyer_pdf` the PDF rendered by WeasyPrint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import segno

from tierslieux.errors import SourceError
from tierslieux.i18n import format_date
from tierslieux.i18n import gettext as _
from tierslieux.reports.templates import render_page

if TYPE_CHECKING:
    from tierslieux.pipeline.campaigns import CampaignView

__all__ = ["QR_ERROR_LEVEL", "qr_code", "qr_matrix", "render_flyer_html", "render_flyer_pdf"]

#: Error correction of the QR code: M restores up to 15 % of damaged modules.
QR_ERROR_LEVEL: Final = "m"
#: Longest purpose printed in full; a longer one is cut at a word (the form has it all).
_PURPOSE_CHARS: Final = 260


def qr_code(url: str) -> segno.QRCode:
    """The QR code of ``url`` (byte mode, level :data:`QR_ERROR_LEVEL`)."""
    return segno.make(url, error=QR_ERROR_LEVEL, micro=False, boost_error=False)


def qr_matrix(url: str) -> tuple[tuple[bool, ...], ...]:
    """The modules of the QR code of ``url`` (``True``: dark), without the quiet zone."""
    return tuple(tuple(bool(m) for m in row) for row in qr_code(url).matrix)


def _short(text: str, limit: int = _PURPOSE_CHARS) -> str:
    cleaned = " ".join(text.split())
    if len(cleaned) <= limit:
        return cleaned
    cut = cleaned[:limit].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return cut + " …"


def render_flyer_html(campaign: CampaignView, url: str, territory: str) -> str:
    """The flyer of ``campaign`` (public address ``url``) as one self-contained page."""
    return render_page(
        "flyer.html",
        campaign=campaign,
        url=url,
        territory=territory,
        qr=qr_code(url).svg_data_uri(border=4, dark="#000", light="#fff", scale=4),
        opens=format_date(campaign.opens_at),
        closes=format_date(campaign.closes_at),
        purpose=_short(campaign.purpose),
    )


def render_flyer_pdf(campaign: CampaignView, url: str, territory: str) -> bytes:
    """The flyer as a PDF (A5 portrait), rendered by WeasyPrint.

    Raises
    ------
    SourceError
        When WeasyPrint (or the Pango library it needs) is not installed.
    """
    try:
        import weasyprint  # type: ignore[import-untyped]  # noqa: PLC0415 - only for a PDF
    except (ImportError, OSError) as error:
        raise SourceError(
            _(
                "Le PDF demande WeasyPrint et la bibliothèque Pango (pip install weasyprint ; "
                "voir doc.courtbouillon.org/weasyprint) : {error}.",
                error=error,
            )
        ) from error
    page = render_flyer_html(campaign, url, territory)
    pdf = weasyprint.HTML(string=page).write_pdf()
    return bytes(pdf) if pdf is not None else b""
