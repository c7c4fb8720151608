"""What ``tierslieux web`` runs: check the settings, print the address, serve.

With one worker the application is built here and served by uvicorn; with several,
uvicorn starts ``tierslieux.web.app:create_app`` in each worker process, which reads
its settings from the environment (``TIERSLIEUX_DATABASE_URL``,
``TIERSLIEUX_SECRET_KEY``, ``TIERSLIEUX_WEB_PRODUCTION``), set here from the options.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from tierslieux.i18n import format_datetime
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.accounts import create_setup_link, has_administrator
from tierslieux.pipeline.database import open_store

if TYPE_CHECKING:
    from collections.abc import Callable

    from tierslieux.web.settings import WebSettings

__all__ = ["prepare", "serve"]


def prepare(settings: WebSettings, *, base_url: str) -> list[str]:
    """Check the settings (secret key, database) and return the lines to print.

    When no administrator exists, a one-time setup link is created and printed.

    Raises
    ------
    SecretKeyError, StoreError
    """
    settings = settings.with_secret()
    repos = open_store(settings.core)
    lines = [_("Application web tierslieux : {url}", url=base_url)]
    if settings.basemap_origin:
        lines.append(
            _(
                "Fond de carte en tuiles : {origin} (seul hôte extérieur autorisé par la "
                "politique de sécurité des contenus).",
                origin=settings.basemap_origin,
            )
        )
    if not has_administrator(repos):
        token, expires = create_setup_link(repos)
        lines.append(
            _(
                "Aucun administrateur : créez-le avec ce lien à usage unique (valable "
                "jusqu'au {date}, heure de Paris) : {url}/installation/{token}",
                date=format_datetime(expires),
                url=base_url,
                token=token,
            )
        )
    return lines


def serve(
    settings: WebSettings,
    *,
    host: str,
    port: int,
    workers: int,
    echo: Callable[[str], None],
) -> None:
    """Serve the application with uvicorn until interrupted."""
    import uvicorn  # noqa: PLC0415 - only when serving

    base_url = f"http://{host}:{port}"
    for line in prepare(settings, base_url=base_url):
        echo(line)
    if workers > 1:
        if settings.core.database_url:
            os.environ["TIERSLIEUX_DATABASE_URL"] = settings.core.database_url
        if settings.production:
            os.environ["TIERSLIEUX_WEB_PRODUCTION"] = "1"
        if settings.workspace is not None:
            os.environ["TIERSLIEUX_WORKSPACE"] = str(settings.workspace)
        if settings.basemap_url:
            os.environ["TIERSLIEUX_BASEMAP_URL"] = settings.basemap_url
            os.environ["TIERSLIEUX_BASEMAP_ATTRIBUTION"] = settings.basemap_attribution
        if settings.public_base_url:
            os.environ["TIERSLIEUX_WEB_PUBLIC_URL"] = settings.public_base_url
        uvicorn.run(
            "tierslieux.web.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            log_level="info",
        )
        return
    from tierslieux.web.app import create_app  # noqa: PLC0415

    uvicorn.run(create_app(settings), host=host, port=port, proxy_headers=True, log_level="info")
