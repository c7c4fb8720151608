"""``tierslieux web`` (serve the web application) and ``tierslieux users`` (its accounts)."""

from __future__ import annotations

import sys
from pathlib import Path  # noqa: TC003 - Typer reads the annotations at run time
from typing import Annotated

import typer

from tierslieux.cli.common import (
    CacheOpt,
    DebugOpt,
    LangOpt,
    accept_language,
    guarded,
    settings_from,
)
from tierslieux.cli.common import out_console as _out
from tierslieux.cli.common import shown as _shown
from tierslieux.cli.db import DatabaseOpt  # noqa: TC001 - Typer reads it at run time
from tierslieux.cli.framework import prompt_secret
from tierslieux.errors import TierslieuxError
from tierslieux.i18n import gettext as _
from tierslieux.pipeline.accounts import add_user, list_users, role_label
from tierslieux.pipeline.database import open_store

__all__ = ["users_app", "web"]

users_app = typer.Typer(
    help="Comptes de l'application web (administrateurs, chargés de mission, lecteurs).",
    no_args_is_help=True,
)
users_app.callback()(accept_language)


@guarded
def web(
    host: Annotated[
        str, typer.Option("--host", help="Adresse d'écoute (défaut 127.0.0.1).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port d'écoute (défaut 8000).")] = 8000,
    database_url: DatabaseOpt = None,
    workers: Annotated[
        int, typer.Option("--workers", help="Processus de service (plusieurs : base PostgreSQL).")
    ] = 1,
    production: Annotated[
        bool,
        typer.Option(
            "--production",
            help="Derrière un proxy HTTPS : cookies Secure, clé TIERSLIEUX_SECRET_KEY exigée.",
        ),
    ] = False,
    workspace: Annotated[
        Path | None,
        typer.Option("--workspace", help="Espace de travail (défaut : <cache>/workspace)."),
    ] = None,
    basemap_url: Annotated[
        str,
        typer.Option(
            "--basemap-url",
            help="Fond de carte en tuiles sous les cartes (modèle https://…/{z}/{x}/{y}.png ; "
            "aucun par défaut).",
        ),
    ] = "",
    basemap_attribution: Annotated[
        str, typer.Option("--basemap-attribution", help="Crédit affiché pour ce fond de carte.")
    ] = "",
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            help="Adresse publique du serveur pour les liens des questionnaires, l'affiche et "
            "son code QR (https://enquete.exemple.fr ; défaut : TIERSLIEUX_WEB_PUBLIC_URL, "
            "sinon l'adresse de la requête).",
        ),
    ] = None,
    cache_dir: CacheOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Servir l'application web (SQLite et espace de travail locaux par défaut)."""
    from tierslieux.web.server import serve  # noqa: PLC0415
    from tierslieux.web.settings import WebSettings  # noqa: PLC0415

    if workers < 1:
        raise TierslieuxError(_("Option --workers invalide : {n} (au moins 1).", n=workers))
    core = settings_from(database_url=database_url, cache_dir=cache_dir, lang=lang)
    settings = WebSettings.from_environment(
        core=core,
        production=production,
        workspace=workspace,
        basemap_url=basemap_url,
        basemap_attribution=basemap_attribution,
        public_base_url=public_url or "",
    )

    def echo(line: str) -> None:
        _out.print(_shown(line), highlight=False)

    serve(settings, host=host, port=port, workers=workers, echo=echo)


@users_app.command("add")
@guarded
def users_add(
    email: Annotated[str, typer.Argument(help="Adresse e-mail (sert aussi d'identifiant).")],
    role: Annotated[
        str,
        typer.Option("--role", help="administrateur, chargé de mission ou lecteur."),
    ] = "charge_de_mission",
    name: Annotated[str | None, typer.Option("--name", help="Nom affiché.")] = None,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Lire le mot de passe sur l'entrée standard."),
    ] = False,
    database_url: DatabaseOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Créer un compte de l'application web (mot de passe demandé, haché en Argon2id)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = prompt_secret(_("Mot de passe"))
    repos = open_store(settings_from(database_url=database_url, lang=lang))
    user = add_user(repos, email, role=role, actor="cli", password=password, display_name=name)
    _out.print(
        _shown(
            _(
                "Compte créé : {login} ({email}), rôle {role}.",
                login=user.login,
                email=user.email or "—",
                role=role_label(user.role),
            )
        ),
        highlight=False,
    )


@users_app.command("list")
@guarded
def users_list(
    database_url: DatabaseOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Lister les comptes de l'application web."""
    repos = open_store(settings_from(database_url=database_url, lang=lang))
    _out.print(
        _shown(
            "\t".join((_("Identifiant"), _("Nom affiché"), _("Courriel"), _("Rôle"), _("État")))
        ),
        highlight=False,
    )
    for user in list_users(repos):
        state = _("actif") if user.active else _("désactivé")
        _out.print(
            _shown(
                f"{user.login}\t{user.display_name or '—'}\t{user.email or '—'}\t"
                f"{role_label(user.role)}\t{state}"
            ),
            highlight=False,
        )
