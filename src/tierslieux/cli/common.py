"""What every command-line module shares: consoles, common options, settings, errors.

:func:`guarded` turns the errors a user can cause into one line (in French by
default) and exit code 1, with no traceback unless ``--debug`` is given, and names the
inputs of structured messages by their option (:func:`cli_label`, see
:mod:`tierslieux.errors`);
:func:`settings_from` builds the :class:`~tierslieux.config.Settings` of one command.
"""

from __future__ import annotations

import math
import os
import sys
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from tierslieux import _interrupt
from tierslieux.config import Settings
from tierslieux.errors import INPUTS, TierslieuxError, use_labels
from tierslieux.i18n import LANGUAGES, current_language, use_language
from tierslieux.i18n import gettext as _
from tierslieux.privacy import mask_urls_in, terminal_safe

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from typer._click.core import Command  # Typer's own (vendored) Click

__all__ = [
    "ActeursOpt",
    "CacheOpt",
    "CommunesOpt",
    "DataOpt",
    "DebugOpt",
    "DefinitionOpt",
    "DemoOpt",
    "DensiteOpt",
    "GaresOpt",
    "GroupsOpt",
    "LangOpt",
    "MediationOpt",
    "MinMembersOpt",
    "MinStructuresOpt",
    "MinutesOpt",
    "MobproOpt",
    "NoNeighboursOpt",
    "ObjectiveOpt",
    "OfflineOpt",
    "OsrmOpt",
    "OutOpt",
    "PnrOpt",
    "RnaOpt",
    "SireneEtablissementsOpt",
    "SireneUnitesLegalesOpt",
    "TerritoryOpt",
    "TiersLieuxOpt",
    "TimeLimitOpt",
    "TravelTimesOpt",
    "ZonagesOpt",
    "accept_language",
    "check_language_option",
    "cli_label",
    "err_console",
    "guarded",
    "help_texts",
    "language_from",
    "out_console",
    "settings_from",
    "shown",
    "siting_settings",
    "table_console",
    "terminal_width",
    "translate_help",
]

P = ParamSpec("P")
R = TypeVar("R")

#: Messages, progress and errors (standard error).
err_console = Console(stderr=True, soft_wrap=True)
#: Results (standard output).
out_console = Console(soft_wrap=True)
#: Width of a table when the width of the terminal is unknown (output to a file or a pipe).
DEFAULT_WIDTH = 80


def terminal_width(*, stderr: bool = False, environ: Mapping[str, str] | None = None) -> int:
    """Return the width tables are laid out for, in columns.

    ``COLUMNS`` when set (what a shell, ``COLUMNS=120 tierslieux ...`` or a test asks
    for), else the width of the terminal the output goes to, else 80 columns.
    """
    columns = (os.environ if environ is None else environ).get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    stream = sys.stderr if stderr else sys.stdout
    try:
        width = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):  # not a terminal (pipe, file, test runner)
        return DEFAULT_WIDTH
    return width or DEFAULT_WIDTH


def table_console(*, stderr: bool = False) -> Console:
    """Return a console as wide as the terminal, for the commands that print tables.

    Built when the command prints (not at import), so that ``COLUMNS`` and the size of
    the terminal of this run are honoured: Rich then wraps and truncates the cells so
    that no line is wider than the terminal.
    """
    return Console(stderr=stderr, width=terminal_width(stderr=stderr), highlight=False)


DataOpt = Annotated[
    Path | None,
    typer.Option(
        "--data", help="Dossier de fichiers déjà téléchargés (lus à la place d'Internet)."
    ),
]
CacheOpt = Annotated[
    Path | None,
    typer.Option("--cache-dir", help="Dossier du cache (défaut : ~/.cache/tierslieux)."),
]
OfflineOpt = Annotated[
    bool, typer.Option("--offline", help="N'utiliser que des fichiers locaux, sans téléchargement.")
]
LangOpt = Annotated[str | None, typer.Option("--lang", help="Langue des messages : fr ou en.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Afficher la trace complète des erreurs.")]
# Input options shared by the analysis commands (diagnose, communities, sites, survey).
# The definition of a base community (communities and sites: one definition).
GroupsOpt = Annotated[
    Path | None,
    typer.Option(
        "--groups",
        help="groups.csv de « tierslieux survey analyse » : groupes = communautés-base.",
    ),
]
MinStructuresOpt = Annotated[
    int,
    typer.Option(
        "--min-structures",
        help="Structures des étapes 1, 2 ou 4 (CAE, SCOP/SCIC, associations) faisant une "
        "communauté-base dans le bassin (défaut 1 ; les acteurs de l'étape 3 ne comptent pas).",
    ),
]
MinMembersOpt = Annotated[
    int,
    typer.Option(
        "--min-membres", help="Membres d'un groupe du questionnaire exigés dans le bassin."
    ),
]
OutOpt = Annotated[Path, typer.Option("--out", help="Dossier de sortie (créé si besoin).")]
CommunesOpt = Annotated[
    list[Path] | None,
    typer.Option("--communes", help="Fichier(s) des communes (GeoJSON, GPKG, SHP, CSV, JSON)."),
]
ZonagesOpt = Annotated[
    Path | None, typer.Option("--zonages", help="Table d'appartenance des communes (Insee).")
]
DensiteOpt = Annotated[
    Path | None,
    typer.Option(
        "--densite",
        help="Grille communale de densité de l'Insee (grille_densite_7_niveaux_*.xlsx, "
        "fichier_diffusion_*.xlsx ou communes-france-*.csv ; cherchée dans --data).",
    ),
]
MobproOpt = Annotated[
    Path | None,
    typer.Option(
        "--mobpro", help="Fichier MOBPRO (FD_MOBPRO_*.csv/.zip, RP*_mobpro.parquet, flux)."
    ),
]
TravelTimesOpt = Annotated[
    Path | None, typer.Option("--travel-times", help="Matrice CSV origin,destination,minutes.")
]
OsrmOpt = Annotated[
    str | None, typer.Option("--osrm-url", help="Serveur OSRM pour les temps routiers.")
]
DemoOpt = Annotated[
    bool, typer.Option("--demo", help="Territoire fictif de démonstration, hors ligne.")
]
DefinitionOpt = Annotated[
    str,
    typer.Option(
        "--definition-bassin",
        help="centre : communes à N minutes de la commune centre (défaut) ; mutuelle : "
        "communes à N minutes les unes des autres.",
    ),
]
NoNeighboursOpt = Annotated[
    bool,
    typer.Option(
        "--sans-communes-voisines",
        help="Bassins limités au territoire (sans les communes voisines à portée).",
    ),
]
# Options of the commands that take a territory and the registries of the directory
# (communities, sites, dossier).
TerritoryOpt = Annotated[
    str,
    typer.Option(
        "--territory", help="region:93, dep:05, epci:<SIREN>, bv:<code>, communes:<fichier>."
    ),
]
MinutesOpt = Annotated[float | None, typer.Option("--minutes", help="Seuil du bassin (défaut 20).")]
ObjectiveOpt = Annotated[
    str, typer.Option("--objective", help="couverture (usagers) ou co2 (kg CO₂e évités).")
]
TimeLimitOpt = Annotated[
    float, typer.Option("--time-limit", help="Secondes accordées au solveur exact.")
]
SireneEtablissementsOpt = Annotated[
    Path | None,
    typer.Option("--sirene-etablissements", help="StockEtablissement (Parquet, CSV, zip)."),
]
SireneUnitesLegalesOpt = Annotated[
    Path | None,
    typer.Option("--sirene-unites-legales", help="StockUniteLegale (Parquet, CSV, zip)."),
]
RnaOpt = Annotated[Path | None, typer.Option("--rna", help="Export RNA (rna_waldec_*.zip).")]
TiersLieuxOpt = Annotated[
    Path | None, typer.Option("--tiers-lieux", help="Recensement des tiers-lieux (CGET 2019).")
]
GaresOpt = Annotated[Path | None, typer.Option("--gares", help="Gares de voyageurs (SNCF).")]
MediationOpt = Annotated[
    Path | None, typer.Option("--mediation", help="Lieux de médiation numérique (JSON).")
]
ActeursOpt = Annotated[
    Path | None, typer.Option("--acteurs", help="Acteurs ajoutés à la main (CSV).")
]
PnrOpt = Annotated[
    Path | None, typer.Option("--pnr", help="Parcs naturels régionaux et leurs communes (CSV).")
]


def settings_from(**overrides: object) -> Settings:
    """Build the settings from the options given (``None`` and ``False`` are left out).

    Raises
    ------
    TierslieuxError
        When a value is invalid (message names the setting).
    """
    values = {k: v for k, v in overrides.items() if v is not None and v is not False}
    try:
        return Settings(**values)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise TierslieuxError(
            _("Paramètre {field} invalide : {msg}.", field=field, msg=first["msg"])
        ) from error


#: Largest travel-time threshold accepted by ``--minutes`` and alike: one day (valeur de
#: l'outil: beyond it a "catchment" covers the whole country and the figure means nothing).
MAX_OPTION_MINUTES = 24 * 60.0
#: Largest ``--time-limit`` accepted: one day of solver time (valeur de l'outil).
MAX_OPTION_SECONDS = 24 * 3600.0


def check_positive_option(value: float | None, option: str, *, maximum: float) -> None:
    """Refuse an option value that is not a finite number in ``(0, maximum]``.

    Raises
    ------
    TierslieuxError
        Naming the option and what was expected (never the catch-all message).
    """
    if value is None:
        return
    if not math.isfinite(value) or value <= 0 or value > maximum:
        raise TierslieuxError(
            _(
                "Option {option} invalide : {value} (attendu un nombre fini strictement "
                "positif, au plus {maximum}).",
                option=option,
                value=value,
                maximum=f"{maximum:g}",
            )
        )


def check_count_option(value: int, option: str) -> None:
    """Refuse a count option below 1 (``--count 0`` or ``-1``), naming the option."""
    if value < 1:
        raise TierslieuxError(
            _(
                "Option {option} invalide : {value} (attendu un nombre entier au moins égal à 1).",
                option=option,
                value=value,
            )
        )


def siting_settings(
    *,
    territory: str,
    demo: bool,
    count: int,
    minutes: float | None,
    time_limit: float,
    data: Path | None,
    cache_dir: Path | None,
    offline: bool,
    osrm_url: str | None,
    lang: str | None,
) -> Settings:
    """Check the options shared by ``sites`` and ``dossier``; return the run's settings.

    Raises
    ------
    TierslieuxError
        Naming the faulty option (no territory nor ``--demo``, a count below 1, minutes
        or seconds out of range) or setting.
    """
    if not territory and not demo:
        raise TierslieuxError(_("Indiquez --territory (par exemple dep:05) ou --demo."))
    check_count_option(count, "--count")
    check_positive_option(minutes, "--minutes", maximum=MAX_OPTION_MINUTES)
    check_positive_option(time_limit, "--time-limit", maximum=MAX_OPTION_SECONDS)
    return settings_from(
        data_dir=data, cache_dir=cache_dir, offline=offline or demo, osrm_url=osrm_url, lang=lang
    )


#: Inputs whose option is not ``--`` + the name with dashes (French option names).
CLI_OPTIONS: dict[str, str] = {
    "candidates": "--candidats",
    "days_per_week": "--jours-par-semaine",
    "definition": "--definition-bassin",
    "distinct_themes": "--themes-libres",
    "due_before": "--echeance-avant",
    "min_members": "--min-membres",
    "min_per_epci": "--min-par-epci",
    "neighbours": "--sans-communes-voisines",
    "respondents": "--repondants",
    "users_share": "--part-usagers",
    "working_days": "--jours-ouvres",
}


def cli_label(name: str) -> str:
    """Name an input as the command line does: its option (``travel_times`` -> ``--travel-times``).

    Names that are not inputs of the use cases (question ids...) are kept as is.
    """
    if name in CLI_OPTIONS:
        return CLI_OPTIONS[name]
    if name in INPUTS:
        return "--" + name.replace("_", "-")
    return name


def guarded(func: Callable[P, R]) -> Callable[P, R]:
    """Turn user errors into one French line and exit code 1 (2 for unexpected errors).

    The command runs with the CLI's labeller in force (:func:`cli_label`), so that the
    notes and problems of the use cases name their inputs by their option
    (``--travel-times``); the problems of an error are rendered joined on one line.
    """

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        debug = bool(kwargs.get("debug"))
        lang = str(kwargs.get("lang") or current_language())
        with use_language(lang if lang in LANGUAGES else "fr"), use_labels(cli_label):
            return _run(func, debug, lang, *args, **kwargs)

    return wrapper


def shown(text: str) -> str:
    """Return user data ready for a rich console: no control character, no markup.

    Terminal escape sequences and control characters are removed
    (:func:`tierslieux.privacy.terminal_safe`), the secrets of URLs masked and rich
    markup escaped: a stored name cannot rewrite the terminal.
    """
    return escape(mask_urls_in(terminal_safe(text)))


def language_from(args: Sequence[str], environ: Mapping[str, str] | None = None) -> str:
    """Return the language a command line asks for, before Click parses it.

    The last ``--lang xx`` or ``--lang=xx`` of ``args`` (anywhere: before or after the
    command name), else ``TIERSLIEUX_LANG``, else French. An unknown language gives
    French here: the command itself then reports it.
    """
    lang = (os.environ if environ is None else environ).get("TIERSLIEUX_LANG", "")
    for index, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and index + 1 < len(args):
            lang = args[index + 1]
        elif arg.startswith("--lang="):
            lang = arg.removeprefix("--lang=")
    return lang if lang in LANGUAGES else "fr"


def _walk(command: Command) -> Iterator[Command]:
    yield command
    subcommands: dict[str, Command] = getattr(command, "commands", {})
    for sub in subcommands.values():
        yield from _walk(sub)


def help_texts(command: Command) -> Iterator[tuple[str, str]]:
    """Yield ``(where, text)`` for every help text of ``command`` and its subcommands.

    The texts are the French docstrings and ``help=`` of the commands and options,
    as Click holds them; ``tools/i18n.py`` adds them to the catalogue.
    """
    for cmd in _walk(command):
        for attr in ("help", "short_help", "epilog"):
            text = getattr(cmd, attr, None)
            if isinstance(text, str) and text:
                yield cmd.name or "", text
        for param in cmd.params:
            text = getattr(param, "help", None)
            if isinstance(text, str) and text:
                yield f"{cmd.name} {param.name}", text


def translate_help(command: Command) -> Command:
    """Translate, in place, the help texts of ``command`` into the current language.

    Typer evaluates the help texts (French) at import, before ``--lang`` is read; the
    entry point calls this on the Click command tree once the language is known, before
    Click renders anything. Click's and Typer's own words (« Usage », « Options »,
    « Missing option ») stay in English in every language.
    """
    for cmd in _walk(command):
        for attr in ("help", "short_help", "epilog"):
            text = getattr(cmd, attr, None)
            if isinstance(text, str) and text:
                setattr(cmd, attr, _(text))
        for param in cmd.params:
            text = getattr(param, "help", None)
            if isinstance(text, str) and text:
                param.help = _(text)  # type: ignore[attr-defined]
    return command


def check_language_option(lang: str | None) -> None:
    """Refuse an unknown ``--lang`` given to a group (``tierslieux contacts --lang de``).

    The language itself is read from the whole line before Click parses it
    (:func:`language_from`); a group only checks its value.

    Raises
    ------
    typer.BadParameter
        Naming the languages accepted.
    """
    if lang and lang not in LANGUAGES:
        raise typer.BadParameter(
            _(
                "Langue inconnue : {lang} (attendu : {expected}).",
                lang=lang,
                expected=", ".join(LANGUAGES),
            ),
            param_hint="--lang",
        )


def accept_language(lang: LangOpt = None) -> None:
    """Take ``--lang`` on a group too (``tierslieux contacts --lang en list``)."""
    check_language_option(lang)


def _check_language(lang: str) -> None:
    if lang not in LANGUAGES:
        raise TierslieuxError(
            _(
                "Langue inconnue : {lang} (attendu : {expected}).",
                lang=lang,
                expected=", ".join(LANGUAGES),
            )
        )


def _report_interrupt() -> NoReturn:
    err_console.print(_("Interrompu."))
    _interrupt.mark_reported()
    raise typer.Exit(_interrupt.EXIT_CODE) from None


def _interrupted_query(error: BaseException) -> bool:
    """Whether ``error`` is Ctrl-C seen by DuckDB (which turns SIGINT into its own error)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, KeyboardInterrupt):
            return True
        if type(current).__name__ == "InterruptException" or str(current).startswith(
            "Query interrupted"
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def _run(
    func: Callable[P, R],
    debug: bool,
    lang: str,
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> R:
    """Call ``func`` and print user errors in the current language."""
    try:
        _check_language(lang)
        return func(*args, **kwargs)
    except (TierslieuxError, ValueError) as error:
        if debug:
            raise
        # Every problem, inputs named by their option; messages may quote user text with
        # brackets ("[donnée effacée]"): no markup.
        text = error.render(cli_label) if isinstance(error, TierslieuxError) else str(error)
        err_console.print(f"[bold red]{_('Erreur :')}[/] {shown(text)}", highlight=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        _report_interrupt()
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except Exception as error:
        if _interrupted_query(error) and not debug:
            _report_interrupt()
        if debug:
            raise
        err_console.print(
            f"[bold red]{_('Erreur inattendue :')}[/] "
            + shown(f"{type(error).__name__}: {error}. ")
            + escape(_("Relancez avec --debug pour la trace et signalez-la.")),
            highlight=False,
        )
        raise typer.Exit(2) from None
