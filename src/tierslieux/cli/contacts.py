"""``tierslieux contacts``: the directory of structures and the tracking of contacts.

Every command calls one use case of :mod:`tierslieux.pipeline.contacts` on the store
named by ``--database-url`` (else ``TIERSLIEUX_DATABASE_URL``, else the SQLite file
``~/.local/share/tierslieux/contacts.sqlite``): one thing in one transaction.  The
schema is created or upgraded on first use (see ``tierslieux db upgrade``).  Errors
caused by the user (unknown structure, stale version, invalid CSV line...) are
printed on one line in French with exit code 1.
"""

from __future__ import annotations

from pathlib import Path  # noqa: TC003  (Typer reads the annotations at run time)
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.table import Table

from tierslieux.cli.common import (
    CommunesOpt,
    DataOpt,
    DebugOpt,
    LangOpt,
    accept_language,
    guarded,
    settings_from,
    shown,
    table_console,
)
from tierslieux.cli.common import err_console as _err
from tierslieux.cli.common import out_console as _out
from tierslieux.i18n import format_date, format_datetime
from tierslieux.i18n import gettext as _
from tierslieux.model.structures import category_labels
from tierslieux.pipeline import contacts as use_cases
from tierslieux.pipeline.contacts import (
    CONSENT_BASES,
    export_person,
    load_structures,
    parse_day,
    parse_person_ref,
    status_labels,
)
from tierslieux.privacy import contact_details_flag, terminal_safe

if TYPE_CHECKING:
    from datetime import date, datetime

    from tierslieux.config import Settings
    from tierslieux.pipeline.contacts import (
        ContactRow,
        ContactView,
        EventView,
        ImportConflict,
        ImportIssue,
    )

__all__ = ["contacts_app"]

contacts_app = typer.Typer(
    help="Suivi des contacts avec les structures de la communauté-base.",
    no_args_is_help=True,
)
contacts_app.callback()(accept_language)

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Base des contacts (sqlite:///chemin.sqlite ou postgresql+psycopg://…) ; "
        "défaut : TIERSLIEUX_DATABASE_URL, sinon ~/.local/share/tierslieux/contacts.sqlite.",
    ),
]
IdArg = Annotated[
    str, typer.Argument(help="Identifiant de la structure (siret:…, rna:…, acteur:…).")
]
AuthorOpt = Annotated[
    str, typer.Option("--auteur", help="Qui fait la modification (gardé dans l'historique).")
]
VersionOpt = Annotated[
    int | None,
    typer.Option(
        "--version",
        help="Version de la fiche sur laquelle porte la modification (voir « contacts show ») ; "
        "refusée si quelqu'un l'a modifiée depuis.",
    ),
]


def _settings(database_url: str | None, lang: str | None) -> Settings:
    return settings_from(database_url=database_url, lang=lang)


def _day(value: date | None) -> str:
    return format_date(value)


def _moment(value: datetime | None) -> str:
    """A stored moment (UTC) as a person reads it: Paris time."""
    return format_datetime(value)


def _print(text: str) -> None:
    _out.print(terminal_safe(text), highlight=False, markup=False)


def _print_issues(title: str, issues: tuple[ImportIssue, ...]) -> None:
    if not issues:
        return
    _err.print(f"[bold yellow]{shown(title)}[/]", highlight=False)
    for issue in issues:
        _err.print(
            shown(_("{where} : {message}", where=issue.where(), message=issue.message)),
            highlight=False,
        )


def _saved(contact: ContactView) -> None:
    _print(
        _(
            "{identifiant} ({nom}) : statut {status}, version {version}.",
            identifiant=contact.identifiant,
            nom=contact.nom,
            status=contact.status_label,
            version=contact.version,
        )
    )


@contacts_app.command("load")
@guarded
def load(
    structures: Annotated[
        Path,
        typer.Argument(help="Annuaire structures.csv écrit par « tierslieux communities »."),
    ],
    database_url: DatabaseOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Charger (ou mettre à jour) l'annuaire des structures dans la base des contacts."""
    report = load_structures(_settings(database_url, lang), structures)
    _print(
        _(
            "{n} structures lues : {inserted} nouvelles, {updated} mises à jour, "
            "{unchanged} inchangées.",
            n=report.total,
            inserted=report.inserted,
            updated=report.updated,
            unchanged=report.unchanged,
        )
    )


#: From this width (columns) ``contacts list`` shows one column per field; below, the
#: commune, category and identifier go on a second line under the name.
WIDE_LISTING = 120


@contacts_app.command("list")
@guarded
def list_(
    categorie: Annotated[
        str | None,
        typer.Option(
            "--categorie",
            help="Seulement cette catégorie de l'étude : code ou libellé (cae, « SCOP/SCIC "
            "numérique », association_vie_quotidienne…).",
        ),
    ] = None,
    statut: Annotated[
        str | None, typer.Option("--statut", help="Seulement ce statut (« intéressé »…).")
    ] = None,
    responsable: Annotated[
        str | None, typer.Option("--responsable", help="Seulement les fiches de ce responsable.")
    ] = None,
    commune: Annotated[
        str | None,
        typer.Option(
            "--commune",
            help="Seulement cette commune : code Insee (05061) ou nom (avec --communes ou --data).",
        ),
    ] = None,
    echeance_avant: Annotated[
        str | None,
        typer.Option(
            "--echeance-avant",
            help="Prochaine action prévue au plus tard ce jour (AAAA-MM-JJ ou JJ/MM/AAAA).",
        ),
    ] = None,
    communes: CommunesOpt = None,
    data: DataOpt = None,
    database_url: DatabaseOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Lister les fiches contact, triées par nom de structure.

    Nom de la structure, commune (nom avec --communes ou --data), catégorie, statut,
    responsable et échéance de la prochaine action, puis l'identifiant ; sur un terminal
    étroit, commune, catégorie et identifiant passent sous le nom.
    """
    settings = settings_from(database_url=database_url, lang=lang, data_dir=data)
    listing = use_cases.find_contacts(
        settings,
        category=categorie,
        status=statut,
        owner=responsable,
        commune=commune,
        due_before=echeance_avant,
        communes=tuple(communes or ()),
    )
    if not listing.rows:
        _err.print(_("Aucune fiche contact ne correspond."), highlight=False)
        return
    console = table_console()
    title = _("Fiches contact ({n})", n=len(listing.rows))
    if console.width >= WIDE_LISTING:
        console.print(_wide_listing(title, listing.rows))
    else:
        console.print(_narrow_listing(title, listing.rows))
    if not listing.communes_named:
        _err.print(
            shown(
                _(
                    "Noms des communes absents : indiquez le fichier des communes avec "
                    "--communes (ou --data)."
                )
            ),
            highlight=False,
        )


def _listing_table(title: str, *, leading: int = 0) -> Table:
    return Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        header_style="bold",
        leading=leading,
        expand=True,
    )


def _commune(row: ContactRow) -> str:
    return row.commune_name or row.contact.code_commune


def _wide_listing(title: str, rows: tuple[ContactRow, ...]) -> Table:
    """One column per field, names first and the identifier last."""
    table = _listing_table(title)
    # Statuses, dates and identifiers are kept whole; the names share the rest, the
    # structure's name the largest part.
    # (A width with a ratio is the least the column gets.)
    table.add_column(_("Structure"), ratio=3)
    table.add_column(_("Commune"), ratio=1, width=10)
    table.add_column(_("Catégorie"), ratio=1, width=14)
    table.add_column(_("Statut"), no_wrap=True)
    table.add_column(_("Responsable"), ratio=1, width=11)
    table.add_column(_("Échéance"), no_wrap=True)
    table.add_column(_("Identifiant"), no_wrap=True, style="dim")
    for row in rows:
        contact = row.contact
        table.add_row(
            shown(contact.nom),
            shown(_commune(row)),
            shown(row.category_label),
            shown(contact.status_label),
            shown(contact.owner or ""),
            format_date(contact.next_action_date),
            shown(contact.identifiant),
        )
    return table


def _narrow_listing(title: str, rows: tuple[ContactRow, ...]) -> Table:
    """The name and, under it, the commune, the category and the identifier."""
    table = _listing_table(title, leading=1)
    table.add_column(_("Structure"), ratio=3)
    table.add_column(_("Statut"), no_wrap=True)
    table.add_column(_("Responsable"), ratio=1, width=11)
    table.add_column(_("Échéance"), no_wrap=True)
    for row in rows:
        contact = row.contact
        details = " · ".join(
            part for part in (_commune(row), row.category_label, contact.identifiant) if part
        )
        table.add_row(
            f"{shown(contact.nom)}\n[dim]{shown(details)}[/]",
            shown(contact.status_label),
            shown(contact.owner or ""),
            format_date(contact.next_action_date),
        )
    return table


def _event_detail(event: EventView) -> str:
    labels = status_labels()
    parts: list[str] = []
    if event.kind == "statut":
        old = labels.get(event.old_value or "", event.old_value or "—")
        new = labels.get(event.new_value or "", event.new_value or "—")
        parts.append(f"{old} → {new}")
    elif event.kind == "responsable":
        parts.append(f"{event.old_value or '—'} → {event.new_value or '—'}")
    elif event.kind == "prochaine_action":
        action = event.new_value or _("(aucune)")
        if event.new_date is not None:
            action += " " + _("pour le {date}", date=_day(event.new_date))
        parts.append(action)
    if event.text:
        parts.append(event.text)
    return _flagged(" — ".join(parts))


def _flagged(text: str) -> str:
    """``text`` followed by « [contient une adresse e-mail] » when it holds contact details."""
    flag = contact_details_flag(text)
    return f"{text} [{flag}]" if flag else text


@contacts_app.command("show")
@guarded
def show(
    identifiant: IdArg,
    database_url: DatabaseOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Afficher une fiche contact : état, version, prochaine action, historique, personnes."""
    contact = use_cases.show_contact(_settings(database_url, lang), identifiant)
    lines = [
        f"[bold]{shown(contact.nom)}[/] ({shown(contact.identifiant)})",
        _(
            "Catégorie : {value}",
            value=shown(category_labels().get(contact.categorie, contact.categorie or "—")),
        ),
        _("Commune : {value}", value=shown(contact.code_commune or "—")),
        _("Statut : {value}", value=shown(contact.status_label)),
        _("Version : {value}", value=contact.version),
        _("Responsable : {value}", value=shown(contact.owner or "—")),
        _(
            "Prochaine action : {value}",
            value=shown(
                _flagged(contact.next_action or "—")
                + (
                    " " + _("pour le {date}", date=_day(contact.next_action_date))
                    if contact.next_action_date
                    else ""
                )
            ),
        ),
    ]
    if contact.updated_at is not None:
        lines.append(
            _(
                "Dernière modification : {when} (heure de Paris) par {author}",
                when=_moment(contact.updated_at),
                author=shown(contact.updated_by or "—"),
            )
        )
    console = table_console()
    for line in lines:
        console.print(line, highlight=False)
    if contact.history:
        table = Table(title=_("Historique"), title_justify="left")
        table.add_column(_("Date (heure de Paris)"), no_wrap=True)
        table.add_column(_("Version"), justify="right")
        table.add_column(_("Nature"))
        table.add_column(_("Auteur"))
        table.add_column(_("Détail"))
        for event in contact.history:
            table.add_row(
                _moment(event.occurred_at),
                str(event.version),
                shown(event.kind_label),
                shown(event.author),
                shown(_event_detail(event)),
            )
        console.print(table)
    else:
        _print(_("Historique : aucune modification."))
    if contact.people:
        table = Table(title=_("Personnes (données personnelles)"), title_justify="left")
        for title in (_("N°"), _("Nom"), _("Rôle"), _("E-mail"), _("Téléphone"), _("Base")):
            table.add_column(title)
        for person in contact.people:
            table.add_row(
                str(person.id),
                shown(person.name),
                shown(person.role or ""),
                shown(person.email or ""),
                shown(person.phone or ""),
                shown(person.consent_basis),
            )
        console.print(table)


@contacts_app.command("set-status")
@guarded
def set_status(
    identifiant: IdArg,
    statut: Annotated[
        str,
        typer.Argument(
            help="à contacter, contacté, intéressé, partenaire ou pas intéressé "
            "(accents et majuscules indifférents)."
        ),
    ],
    auteur: AuthorOpt,
    version: VersionOpt = None,
    note: Annotated[
        str | None, typer.Option("--note", help="Note gardée avec le changement.")
    ] = None,
    database_url: DatabaseOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Changer le statut d'une fiche contact."""
    contact = use_cases.set_status(
        _settings(database_url, lang),
        identifiant,
        statut,
        author=auteur,
        expected_version=version,
        note=note,
    )
    _saved(contact)


@contacts_app.command("note")
@guarded
def note(
    identifiant: IdArg,
    texte: Annotated[str, typer.Argument(help="Texte de la note (datée automatiquement).")],
    auteur: AuthorOpt,
    version: VersionOpt = None,
    database_url: DatabaseOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Ajouter une note datée à l'historique d'une fiche contact."""
    contact = use_cases.add_note(
        _settings(database_url, lang), identifiant, texte, author=auteur, expected_version=version
    )
    _saved(contact)


@contacts_app.command("next")
@guarded
def next_action(
    identifiant: IdArg,
    texte: Annotated[str, typer.Argument(help="Prochaine action (« rappeler la gérante »…).")],
    date_: Annotated[
        str, typer.Option("--date", help="Échéance de l'action (AAAA-MM-JJ ou JJ/MM/AAAA).")
    ],
    auteur: AuthorOpt,
    version: VersionOpt = None,
    database_url: DatabaseOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Fixer la prochaine action d'une fiche contact et son échéance."""
    due = parse_day(date_, option="date")
    contact = use_cases.set_next_action(
        _settings(database_url, lang),
        identifiant,
        texte,
        due,
        author=auteur,
        expected_version=version,
    )
    _saved(contact)


@contacts_app.command("owner")
@guarded
def owner(
    identifiant: IdArg,
    nom: Annotated[str, typer.Argument(help="Responsable du suivi de cette structure.")],
    auteur: AuthorOpt,
    version: VersionOpt = None,
    database_url: DatabaseOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Désigner le responsable du suivi d'une fiche contact."""
    contact = use_cases.set_owner(
        _settings(database_url, lang), identifiant, nom, author=auteur, expected_version=version
    )
    _saved(contact)


@contacts_app.command("person-add")
@guarded
def person_add(
    identifiant: IdArg,
    nom: Annotated[str, typer.Option("--nom", help="Nom de la personne.")],
    base_legale: Annotated[
        str,
        typer.Option(
            "--base-legale",
            help="Base légale RGPD de la conservation : " + ", ".join(CONSENT_BASES) + ".",
        ),
    ],
    role: Annotated[str | None, typer.Option("--role", help="Fonction dans la structure.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="Adresse e-mail.")] = None,
    telephone: Annotated[str | None, typer.Option("--telephone", help="Téléphone.")] = None,
    database_url: DatabaseOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Enregistrer une personne à contacter dans une structure (le strict nécessaire)."""
    person = use_cases.add_person(
        _settings(database_url, lang),
        identifiant,
        name=nom,
        consent_basis=base_legale,
        role=role,
        email=email,
        phone=telephone,
    )
    _print(
        _(
            "Personne n° {id} enregistrée pour {identifiant}.",
            id=person.id,
            identifiant=person.identifiant,
        )
    )


@contacts_app.command("person-export")
@guarded
def person_export(
    personne: Annotated[str, typer.Argument(help="Numéro de la personne ou adresse e-mail.")],
    out: Annotated[Path, typer.Option("--out", help="Fichier JSON à écrire.")],
    database_url: DatabaseOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Exporter tout ce qui est gardé sur une personne (droit d'accès RGPD)."""
    result = export_person(_settings(database_url, lang), parse_person_ref(personne), out)
    _print(
        _(
            "{people} fiche(s) de personne et {mentions} mention(s) écrites dans {path}.",
            people=result.people,
            mentions=result.mentions,
            path=result.path,
        )
    )


@contacts_app.command("forget")
@guarded
def forget(
    personne: Annotated[str, typer.Argument(help="Numéro de la personne ou adresse e-mail.")],
    auteur: AuthorOpt,
    database_url: DatabaseOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Effacer une personne et ses mentions dans l'historique (droit à l'effacement RGPD)."""
    report = use_cases.erase_person(
        _settings(database_url, lang), parse_person_ref(personne), author=auteur
    )
    for change in report.changes:
        _print(
            _(
                "{identifiant}, {where} : {found} effacé(s).",
                identifiant=change.identifiant,
                where=change.where,
                found=", ".join(f"« {piece} »" for piece in change.found),
            )
        )
    _print(
        _(
            "{n} fiche(s) de personne effacée(s) ; leurs mentions dans l'historique sont "
            "remplacées par « [donnée effacée] ».",
            n=report.people,
        )
    )


@contacts_app.command("export")
@guarded
def export(
    out: Annotated[
        Path,
        typer.Argument(
            help="Fichier à écrire : CSV pour Excel (UTF-8 avec BOM, « ; ») ou classeur "
            "XLSX si son nom finit par .xlsx."
        ),
    ],
    format_: Annotated[
        str | None,
        typer.Option(
            "--format", help="csv ou xlsx (défaut : d'après l'extension du fichier, sinon csv)."
        ),
    ] = None,
    communes: CommunesOpt = None,
    data: DataOpt = None,
    database_url: DatabaseOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Exporter les fiches et tout leur historique pour un tableur (sans données personnelles).

    Statuts en toutes lettres, dates au format français et heures de Paris, catégorie et
    nom de la commune (avec --communes ou --data) ; modifiez les lignes « etat » dans
    Excel puis réimportez le fichier avec « contacts import ».
    """
    settings = settings_from(database_url=database_url, lang=lang, data_dir=data)
    report = use_cases.export_contacts(
        settings, out, file_format=format_, communes=tuple(communes or ())
    )
    _print(
        _(
            "{contacts} fiches et {events} événements écrits dans {path}.",
            contacts=report.contacts,
            events=report.events,
            path=report.path,
        )
    )
    if report.contacts and not report.communes_named:
        _err.print(
            shown(
                _(
                    "Noms des communes absents : indiquez le fichier des communes avec "
                    "--communes (ou --data)."
                )
            ),
            highlight=False,
        )


def _paris(value: datetime | None) -> str:
    return "—" if value is None else _moment(value)


def _print_conflicts(conflicts: tuple[ImportConflict, ...]) -> None:
    for conflict in conflicts:
        where = _("ligne {line}", line=conflict.line)
        if conflict.sheet is not None:
            where = _("feuille « {sheet} », {place}", sheet=conflict.sheet, place=where)
        params = {
            "identifiant": conflict.identifiant,
            "nom": conflict.nom,
            "where": where,
            "file": conflict.file_version if conflict.file_version is not None else "—",
            "current": conflict.database_version,
        }
        title = (
            _(
                "{identifiant} ({nom}, {where}) : modifiée dans la base depuis l'export "
                "(version {file} dans le fichier, {current} dans la base) ; vos "
                "modifications ont été appliquées par-dessus (--ecraser) :",
                **params,
            )
            if conflict.overwritten
            else _(
                "{identifiant} ({nom}, {where}) : modifiée dans la base depuis l'export "
                "(version {file} dans le fichier, {current} dans la base) ; rien n'est "
                "appliqué à cette fiche :",
                **params,
            )
        )
        _err.print(shown(title), highlight=False)
        for field in conflict.fields:
            _err.print(
                shown(
                    _(
                        "  {column} : « {file} » dans le fichier, « {database} » dans la "
                        "base (modifiée par {author} le {when}, heure de Paris)",
                        column=field.column,
                        file=field.file_value,
                        database=field.database_value,
                        author=field.changed_by or "—",
                        when=_paris(field.changed_at),
                    )
                ),
                highlight=False,
            )


@contacts_app.command("import")
@guarded
def import_(
    source: Annotated[
        Path,
        typer.Argument(
            help="Fichier écrit par « contacts export » (CSV UTF-8 ou Windows-1252, « ; » "
            "ou « , », ou XLSX), modifié ou non dans un tableur."
        ),
    ],
    auteur: Annotated[
        str | None,
        typer.Option(
            "--auteur",
            help="Qui a fait les modifications des lignes « etat » (obligatoire s'il y en a).",
        ),
    ] = None,
    ecraser: Annotated[
        bool,
        typer.Option(
            "--ecraser",
            help="Appliquer aussi les modifications des fiches changées dans la base depuis "
            "l'export (par-dessus leur état actuel) ; sans cette option, ces fiches sont "
            "laissées telles quelles et l'import se termine en erreur.",
        ),
    ] = False,
    partiel: Annotated[
        bool,
        typer.Option(
            "--partiel",
            help="Importer les lignes valides et lister les autres (sinon : tout ou rien).",
        ),
    ] = False,
    database_url: DatabaseOpt = None,
    lang: LangOpt = None,
    debug: DebugOpt = False,  # noqa: ARG001
) -> None:
    """Importer un fichier de contacts : l'historique et les fiches modifiées dans Excel.

    Les changements des lignes « etat » (statut, responsable, prochaine action, échéance,
    nouvelle_note) sont appliqués ; une fiche modifiée dans la base depuis l'export
    n'est pas touchée (conflit listé, code de sortie 1) sauf avec --ecraser.
    Réimporter le même fichier ne change rien.
    """
    report = use_cases.import_contacts(
        _settings(database_url, lang), source, partial=partiel, force=ecraser, author=auteur
    )
    if report.source:
        _err.print(shown(_("Fichier lu : {source}.", source=report.source)), highlight=False)
    _print_issues(_("Lignes rejetées (non importées) :"), report.issues)
    _print_issues(_("Avertissements :"), report.warnings)
    _print_conflicts(report.conflicts)
    _print(
        _(
            "{added} événement(s) ajouté(s), {skipped} déjà présent(s), {updated} fiche(s) "
            "mise(s) à jour, {rejected} ligne(s) rejetée(s).",
            added=report.events_added,
            skipped=report.events_skipped,
            updated=report.contacts_updated,
            rejected=len(report.issues),
        )
    )
    if report.changes_applied:
        _print(
            _(
                "{n} modification(s) des lignes « etat » appliquée(s).",
                n=report.changes_applied,
            )
        )
    held = [conflict for conflict in report.conflicts if not conflict.overwritten]
    if report.unchanged and not held:
        _print(_("Aucun changement : la base est déjà à jour."))
    if held:
        _err.print(
            shown(
                _(
                    "{n} fiche(s) en conflit non modifiée(s) : vérifiez-les (contacts show), "
                    "puis réexportez et refaites vos modifications, ou relancez avec "
                    "--ecraser pour appliquer les vôtres.",
                    n=len(held),
                )
            ),
            highlight=False,
        )
        raise typer.Exit(code=1)
