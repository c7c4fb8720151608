"""The command-line framework's own words (Typer and its Click) in the language of the run.

Typer 0.29 carries its own copy of Click (``typer._click``), which writes its messages
in English with f-strings, not through gettext; Typer's help panels read module
constants of :mod:`typer.rich_utils`, set once at import.  So nothing of Click's
vocabulary can be translated by installing a gettext catalogue.  This module puts
these texts through our own catalogue instead, where they are ordinary French
messages (the source language of ``tierslieux.po``), translated back to Typer's own
English wording in ``locales/en`` — ``tools/i18n.py check`` keeps both complete:

* the **errors** of the command line (``No such option``, ``Missing argument``,
  ``Invalid value for``...) are rebuilt from the exception's fields
  (:func:`framework_message`), by :class:`LocalisedGroup` around the parsing and the
  invocation of every command;
* the **help and usage** words (``Usage:``, ``[OPTIONS]``, ``Show this message and
  exit.``, panel titles, ``[default: ...]``, types such as ``<int>``) are set on the
  command tree (:func:`localise`) and on Typer's constants while a command runs
  (:func:`framework_words`).

:class:`LocalisedGroup` is the class of the root command: whatever runs it (the
``tierslieux`` entry point, Typer's test runner), the language is read from the line
first (:func:`~tierslieux.cli.common.language_from`).
"""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from pydantic import ValidationError
from typer import rich_utils
from typer._click.exceptions import (
    BadParameter,
    ClickException,
    FileError,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchOption,
    UsageError,
)
from typer._click.formatting import HelpFormatter
from typer.core import TyperGroup

from tierslieux.cli.common import language_from, translate_help
from tierslieux.i18n import N_, use_language
from tierslieux.i18n import gettext as _

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from typer._click.core import Command, Context, Parameter

__all__ = [
    "LocalisedGroup",
    "framework_message",
    "framework_words",
    "localise",
    "missing_framework_texts",
    "prompt_secret",
]

#: Types of the help (``<int>``), as Typer names them, in words (flags show none).
TYPE_LABELS: dict[str, str] = {
    "<str>": N_("<texte>"),
    "<int>": N_("<entier>"),
    "<float>": N_("<nombre>"),
    "<path>": N_("<chemin>"),
    "<list[Path]>": N_("<chemins>"),
    "<list[str]>": N_("<textes>"),
}
_QUOTED = re.compile(r"'([^']*)'")
_LOCALISED = "_tierslieux_localised"


def _quoted(text: str) -> str:
    """French quotes around what Click quotes with apostrophes: ``'--x'`` -> ``« --x »``."""
    return _QUOTED.sub(lambda match: _("« {name} »", name=match.group(1)), text)


# --- the errors ------------------------------------------------------------------------

#: Messages Click and Typer build as text, matched whole: pattern -> message (French).
_TEXTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"No such command (?P<name>'.*')\.(?: Did you mean (?P<matches>.+)\?)?"),
        N_("Commande inconnue : {name}."),
    ),
    (re.compile(r"Missing command\."), N_("Commande manquante.")),
    (
        re.compile(r"Got unexpected extra argument\(s\) \((?P<args>.*)\)", re.DOTALL),
        N_("Argument(s) en trop : {args}."),
    ),
    (
        re.compile(r"Option (?P<name>'.*') requires an argument\."),
        N_("L'option {name} attend une valeur."),
    ),
    (
        re.compile(r"Option (?P<name>'.*') requires (?P<count>\d+) arguments\."),
        N_("L'option {name} attend {count} valeurs."),
    ),
    (
        re.compile(r"Option (?P<name>'.*') does not take a value\."),
        N_("L'option {name} ne prend pas de valeur."),
    ),
    (
        re.compile(r"Argument (?P<name>'.*') takes (?P<count>\d+) values\."),
        N_("L'argument {name} attend {count} valeurs."),
    ),
    (
        re.compile(r"Value (?P<value>.+) is not a valid (?P<kind>.+)\.", re.DOTALL),
        N_("Valeur invalide : {value} (type attendu : {kind})."),
    ),
)
#: Values Typer refuses while converting (Pydantic error types) -> message.
_CONVERSIONS: dict[str, str] = {
    "int_parsing": N_("« {value} » n'est pas un nombre entier."),
    "int_from_float": N_("« {value} » n'est pas un nombre entier."),
    "int_type": N_("« {value} » n'est pas un nombre entier."),
    "float_parsing": N_("« {value} » n'est pas un nombre."),
    "float_type": N_("« {value} » n'est pas un nombre."),
    "finite_number": N_("« {value} » n'est pas un nombre fini."),
    "bool_parsing": N_("« {value} » n'est ni vrai ni faux (true, false, 1 ou 0)."),
}


def _text(message: str) -> str:
    """Translate a message Click or Typer wrote as text (ours, already translated, as is)."""
    for pattern, msgid in _TEXTS:
        match = pattern.fullmatch(message.strip())
        if match is None:
            continue
        fields = {k: _quoted(v) for k, v in match.groupdict().items() if v is not None}
        matches = fields.pop("matches", None)
        text = _(msgid, **fields)
        if matches:
            text += " " + _("Vouliez-vous dire {matches} ?", matches=matches)
        return text
    return message


def _conversion(error: BadParameter) -> str:
    """The reason a value was refused: from the conversion error when there is one."""
    cause = error.__cause__
    if isinstance(cause, ValidationError) and cause.errors():
        first = cause.errors()[0]
        msgid = _CONVERSIONS.get(str(first.get("type")))
        if msgid is not None:
            return _(msgid, value=first.get("input"))
    return _text(error.message)


def _hint(error: BadParameter) -> str | None:
    """The parameter an error is about, as Click names it (``'--count'``), in French quotes."""
    hint: Sequence[str] | str | None = error.param_hint
    if hint is None and error.param is not None:
        hint = error.param.get_error_hint()
    if hint is None:
        return None
    text = hint if isinstance(hint, str) else " / ".join(f"'{part}'" for part in hint)
    return _quoted(text)


def _missing(error: MissingParameter) -> str:
    hint = _hint(error) or ""
    kind = error.param_type or (error.param.param_type_name if error.param else "")
    if kind == "argument":
        text = _("Argument manquant : {name}.", name=hint)
    elif kind == "option":
        text = _("Option manquante : {name}.", name=hint)
    else:
        text = _("Paramètre manquant : {name}.", name=hint)
    return f"{text} {_text(error.message)}" if error.message else text


def framework_message(error: ClickException) -> str:
    """Return the message of an error of the command-line framework in the current language.

    Rebuilt from the fields of the exception (the parameter, its kind, the value
    refused, the options that exist) where Click keeps them, else from its text;
    a message of ours (``typer.BadParameter(_("..."))``) keeps its text.
    """
    if isinstance(error, MissingParameter):
        return _missing(error)
    if isinstance(error, BadParameter):
        hint = _hint(error)
        detail = _conversion(error)
        if hint is None:
            return _("Valeur invalide : {detail}", detail=detail)
        return _("Valeur invalide pour {name} : {detail}", name=hint, detail=detail)
    if isinstance(error, NoSuchOption):
        if error.message.startswith("No such option:"):
            text = _("Option inconnue : {name}", name=error.option_name)
        else:
            text = _text(error.message)
        if error.possibilities:
            text += " " + _(
                "(options possibles : {options})", options=", ".join(sorted(error.possibilities))
            )
        return text
    if isinstance(error, FileError):
        return _(
            "Impossible d'ouvrir le fichier {name} : {reason}",
            name=error.ui_filename,
            reason=_text(error.message),
        )
    return _text(error.message)


class _LocalisedUsageError(UsageError):
    """A usage error whose message is already in the language of the run."""

    def __init__(self, message: str, ctx: Context | None, exit_code: int) -> None:
        super().__init__(message, ctx)
        self.exit_code = exit_code


class _LocalisedError(ClickException):
    """Another error of the framework, its message in the language of the run."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@contextmanager
def _localised_errors() -> Iterator[None]:
    """Raise the framework's errors of the block again with their message translated."""
    try:
        yield
    except NoArgsIsHelpError:  # the help of a group called alone: shown as it is
        raise
    except (_LocalisedUsageError, _LocalisedError):
        raise
    except UsageError as error:
        raise _LocalisedUsageError(framework_message(error), error.ctx, error.exit_code) from error
    except ClickException as error:
        raise _LocalisedError(framework_message(error), error.exit_code) from error


# --- help and usage ----------------------------------------------------------------------


class LocalHelpFormatter(HelpFormatter):
    """Click's formatter with the usage line's prefix in the language of the run."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        """Write ``Utilisation : tierslieux ...`` (``Usage:`` in English)."""
        super().write_usage(prog, args, _("Utilisation :") + " " if prefix is None else prefix)


class LocalContext(typer.Context):
    """Typer's context, with :class:`LocalHelpFormatter` for usage lines and help."""

    formatter_class = LocalHelpFormatter


def _type_label(param: Parameter) -> None:
    """Show the type of ``param`` in words in the help (``<entier>``), none for a flag."""
    display = getattr(param, "display_type_rich", None)
    if display is None or getattr(param, _LOCALISED, False):
        return
    flag = bool(getattr(param, "is_flag", False))

    def shown_type(ctx: Context) -> str | None:
        if flag:
            return None
        label = display(ctx)
        return _(TYPE_LABELS[label]) if label in TYPE_LABELS else label

    setattr(param, "display_type_rich", shown_type)  # noqa: B010 - on this instance only
    setattr(param, _LOCALISED, True)


def _walk(command: Command) -> Iterator[Command]:
    yield command
    subcommands: dict[str, Command] = getattr(command, "commands", {})
    for sub in subcommands.values():
        yield from _walk(sub)


def localise(command: Command) -> Command:
    """Put ``command``'s tree in the current language: help texts and framework words.

    The help texts (French docstrings and ``help=``) are translated
    (:func:`~tierslieux.cli.common.translate_help`); every command gets
    :class:`LocalContext` (the usage line), its help option's text, its metavars
    (``[OPTIONS]``, ``COMMAND [ARGS]...``) and its types in words.
    """
    translate_help(command)
    for cmd in _walk(command):
        cmd.context_class = LocalContext
        if cmd.options_metavar:
            cmd.options_metavar = _("[OPTIONS]")
        if getattr(cmd, "subcommand_metavar", None):
            setattr(cmd, "subcommand_metavar", _("COMMANDE [ARGUMENTS]..."))  # noqa: B010
        help_option = cmd.get_help_option(LocalContext(cmd, info_name=cmd.name))
        if help_option is not None:
            help_option.help = _("Afficher cette aide et quitter.")
        for param in [*cmd.params, *([help_option] if help_option is not None else [])]:
            _type_label(param)
    return command


#: Typer's constants of :mod:`typer.rich_utils` (help panels, errors) -> message.
_WORDS: dict[str, str] = {
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commandes"),
    "ERRORS_PANEL_TITLE": N_("Erreur"),
    "ABORTED_TEXT": N_("Interrompu."),
    "RICH_HELP": N_("Aide : [blue]{command_path} {help_option}[/]"),
}
#: Constants written ``[word: {}]`` or ``(word) ``, built in :func:`framework_words`.
_BRACKETED = ("DEFAULT_STRING", "ENVVAR_STRING", "REQUIRED_LONG_STRING", "DEPRECATED_STRING")


@contextmanager
def framework_words() -> Iterator[None]:
    """Set Typer's help and error words to the current language for a ``with`` block."""
    saved = {name: getattr(rich_utils, name, None) for name in (*_WORDS, *_BRACKETED)}
    words: dict[str, str] = {name: _(msgid) for name, msgid in _WORDS.items()}
    words["DEFAULT_STRING"] = "[" + _("défaut : {value}", value="{}") + "]"
    words["ENVVAR_STRING"] = "[" + _("variable d'environnement : {value}", value="{}") + "]"
    words["REQUIRED_LONG_STRING"] = "[" + _("obligatoire") + "]"
    words["DEPRECATED_STRING"] = "(" + _("obsolète") + ") "
    for name, text in words.items():
        setattr(rich_utils, name, text)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                delattr(rich_utils, name)
            else:
                setattr(rich_utils, name, old)


class LocalisedGroup(TyperGroup):
    """The root command: Typer's group, speaking the language asked for on the line."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,  # noqa: ANN401 - passed to Click as is
    ) -> Any:  # noqa: ANN401 - what Click returns
        """Run the command line in the language it asks for (``--lang``, ``TIERSLIEUX_LANG``)."""
        argv = list(sys.argv[1:] if args is None else args)
        with use_language(language_from(argv)), framework_words():
            localise(self)
            return super().main(
                argv, prog_name, complete_var, standalone_mode, windows_expand_args, **extra
            )

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Context | None = None,
        **extra: Any,  # noqa: ANN401 - passed to Click as is
    ) -> Context:
        """Parse the root's options; errors in the language of the run."""
        with _localised_errors():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: Context) -> Any:  # noqa: ANN401 - what the command returns
        """Run the subcommands; their parsing errors in the language of the run."""
        with _localised_errors():
            return super().invoke(ctx)


#: What the translations rely on in Typer's sources (its own Click included): the
#: English texts matched or replaced, word for word.  A Typer release that rewords one
#: would bring English back silently; :func:`missing_framework_texts` says so instead.
SOURCE_TEXTS: tuple[str, ...] = (
    "No such command {name!r}.",
    "Did you mean {suggestions}?",
    "Missing command.",
    "Got unexpected extra argument(s) ({extra_args})",
    "requires {msg}",
    "an argument.",
    "does not take a value.",
    "takes {self.nargs} values.",
    "No such option: ",
    "(Possible options: {possibility_str})",
    "Invalid value for {hint}: {self.message}",
    "Missing {param_type}{param_hint}.",
    "Could not open file ",
    "is not a valid {label}.",
    'prefix = "Usage: "',
    "Show this message and exit.",
    '"[OPTIONS]"',
    '"COMMAND [ARGS]..."',
    "get_error_msg(exc)",
)


def missing_framework_texts() -> list[str]:
    """Return what the translation of the framework no longer finds in Typer (``[]``: all).

    Checked by ``tools/i18n.py check``: the texts of :data:`SOURCE_TEXTS` in Typer's
    sources, the constants of :mod:`typer.rich_utils` set by :func:`framework_words`,
    the types of :data:`TYPE_LABELS` in Typer's help.
    """
    folder = Path(typer.__file__).parent
    source = "\n".join(path.read_text(encoding="utf-8") for path in sorted(folder.rglob("*.py")))
    missing = [f"Typer: {text!r}" for text in SOURCE_TEXTS if text not in source]
    names = [name for name in (*_WORDS, *_BRACKETED) if not hasattr(rich_utils, name)]
    missing += [f"typer.rich_utils.{name} (no longer used by Typer)" for name in names]
    for label in TYPE_LABELS:
        kind = label.strip("<>").removeprefix("list[").removesuffix("]")
        if kind not in {"str", "int", "float", "path", "Path"}:
            missing.append(f"type {label}")
    return missing


def prompt_secret(label: str) -> str:
    """Ask a secret twice, hidden, with the prompts and the mismatch in the current language.

    Typer's ``confirmation_prompt`` writes « Repeat for confirmation » and « Error: The
    two entered values do not match. » in English whatever the language.
    """
    while True:
        value = str(typer.prompt(label, hide_input=True))
        again = str(typer.prompt(_("Répétez pour confirmer"), hide_input=True))
        if value == again:
            return value
        typer.echo(_("Erreur : les deux saisies diffèrent ; recommencez."), err=True)
