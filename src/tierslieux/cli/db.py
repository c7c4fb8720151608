"""``tierslieux db``: the schema of the operational store (contacts, answers, web data).

``db upgrade`` creates or upgrades the schema (the other commands also do it on
first use, so this is only needed as an explicit deployment step, e.g. before
starting a web server); ``db status`` shows the revision without changing anything.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tierslieux.cli.common import DebugOpt, LangOpt, accept_language, guarded, settings_from
from tierslieux.cli.common import out_console as _out
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.database import database_status, upgrade_database

__all__ = ["db_app"]

db_app = typer.Typer(
    help="Schéma de la base opérationnelle (contacts, réponses, application web).",
    no_args_is_help=True,
)
db_app.callback()(accept_language)

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Base (sqlite:///chemin.sqlite ou postgresql+psycopg://…) ; défaut : "
        "TIERSLIEUX_DATABASE_URL, sinon ~/.local/share/tierslieux/contacts.sqlite.",
    ),
]


def _print(text: str) -> None:
    _out.print(text, highlight=False, markup=False)


@db_app.command("upgrade")
@guarded
def upgrade(
    database_url: DatabaseOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Créer ou mettre à jour le schéma de la base (sans rien perdre)."""
    before = upgrade_database(settings_from(database_url=database_url, lang=lang))
    if before.current is None:
        message = _("Base {url} : schéma créé (révision {head}).", url=before.url, head=before.head)
    elif before.up_to_date:
        message = _(
            "Base {url} : schéma déjà à jour (révision {head}).", url=before.url, head=before.head
        )
    else:
        message = _(
            "Base {url} : schéma mis à jour de la révision {current} à la révision {head}.",
            url=before.url,
            current=before.current,
            head=before.head,
        )
    _print(message)


@db_app.command("status")
@guarded
def status(
    database_url: DatabaseOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Afficher la révision du schéma de la base et la dernière connue (ne change rien)."""
    state = database_status(settings_from(database_url=database_url, lang=lang))
    if state.current is None:
        verdict = _("base vide, à créer avec « tierslieux db upgrade »")
    elif not state.known:
        verdict = _("écrite par une version plus récente de tierslieux")
    elif state.up_to_date:
        verdict = _("à jour")
    else:
        verdict = _("à mettre à jour avec « tierslieux db upgrade »")
    _print(
        _(
            "Base {url} : révision {current} (dernière connue : {head}) — {verdict}.",
            url=state.url,
            current=state.current or "—",
            head=state.head,
            verdict=verdict,
        )
    )
