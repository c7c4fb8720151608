"""Exceptions of tierslieux, and the structured messages they carry.

Every error a user can trigger derives from :class:`TierslieuxError`; specific
errors also inherit a built-in (``ValueError``, ``OSError``) so that generic
callers can catch them.  The CLI prints one line and exits 1; the web app answers
4xx and marks the faulty fields.

Structured messages
-------------------
A :class:`Problem` (an error) or a :class:`Note` (a warning returned with a result)
is a :class:`Message`: the French source text with ``{placeholders}`` (also the
gettext msgid), its parameters, and ``field``, the name of the faulty input (a
use-case parameter such as ``territory`` or ``minutes``, or a questionnaire's
question id).  Nothing is translated when a message is built: :meth:`Message.render`
translates through :func:`tierslieux.i18n.gettext` when the message is shown, so the
language is the reader's.

Input names are never written in the text below the interfaces: a placeholder that
is not among the parameters names an input (one of :data:`INPUTS`), and the
interface renders it with its *labeller*, a function ``name -> text``::

    Problem("Indiquez {territory} (par exemple dep:05) ou {demo}.", field="territory")

reads « Indiquez --territory (par exemple dep:05) ou --demo. » in the CLI (see
:func:`tierslieux.cli.common.cli_label`), and « Indiquez « territoire » (par
exemple dep:05) ou « démonstration ». » with :func:`default_label` (the Python API;
the web application passes its own labeller or uses ``field``).  The labeller in
force is a context variable, set by an interface with :func:`use_labels` around a
use case (like :func:`tierslieux.i18n.use_language`); ``render(label)`` overrides it.

An input chosen at run time is a parameter holding an :class:`Input`
(``{"option": Input("minutes")}``).  ``Problem.of(msgid, field=..., **params)`` builds
a message the way :func:`~tierslieux.i18n.gettext` is called.

Errors carry every problem found: gather them (:class:`Problems`), then raise once,
``raise SchemaError(*problems)``.  ``error.problems`` is the tuple of problems;
``str(error)`` renders them joined by a space, or, with ``summary``, the summary
with ``{problems}`` replaced by ``field : message`` items joined by ``; ``.  The
historical style ``raise SchemaError(_("..."))`` still works: an already translated
string becomes one :class:`Problem` with no field, rendered as is.

Notes: result objects that hold ``tuple[str, ...]`` keep doing so; code adding a note
that names an input appends ``Note.text(msgid, **params)``, that is ``str(Note(...))``,
rendered with the language and the labeller of the context, which the interface set
before calling the use case (a job runner must therefore run the use case in a copy of
the caller's context, :func:`contextvars.copy_context`).  New result types may hold
:class:`Note` objects and render them where they are shown with :func:`render_all`
(``str`` items pass through unchanged).  ``Note`` is deliberately not a ``str``
subclass: a string's value is fixed when it is built, so it could not be translated
or relabelled by the reader.
"""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Self, TypeAlias

from tierslieux.i18n import gettext

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

__all__ = [
    "INPUTS",
    "DownloadError",
    "InfeasibleError",
    "Input",
    "Labeller",
    "Message",
    "Note",
    "Problem",
    "Problems",
    "SchemaError",
    "SourceError",
    "StoreError",
    "TerritoryError",
    "TierslieuxError",
    "current_labeller",
    "default_label",
    "render_all",
    "use_labels",
]

#: A function giving the text that names an input in one interface (``"territory"``
#: -> ``"--territory"`` in the CLI).
Labeller: TypeAlias = Callable[[str], str]


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark ``message`` for extraction into the catalogues without translating it."""
    return message


#: Inputs a message may name, with their French label (the default rendering).  The
#: keys are the use cases' parameter names; the CLI maps each to its option.
INPUTS: dict[str, str] = {
    "acteurs": N_("acteurs"),
    "auteur": N_("auteur"),
    "candidates": N_("candidats"),
    "communes": N_("communes"),
    "count": N_("nombre de sites"),
    "data": N_("dossier de données"),
    "date": N_("date"),
    "days_per_week": N_("jours par semaine"),
    "definition": N_("définition du bassin"),
    "demand": N_("demande"),
    "demo": N_("démonstration"),
    "densite": N_("grille de densité"),
    "distinct_themes": N_("thèmes libres"),
    "due_before": N_("échéance avant"),
    "exclusion_minutes": N_("minutes d'exclusion"),
    "gain_minimal": N_("gain minimal"),
    "groups": N_("groupes"),
    "mapping": N_("correspondance des colonnes"),
    "min_members": N_("membres minimum"),
    "min_group_size": N_("taille minimale d'un groupe"),
    "min_per_epci": N_("minimum par intercommunalité"),
    "min_structures": N_("structures minimum"),
    "minutes": N_("minutes"),
    "mobpro": N_("fichier MOBPRO"),
    "neighbours": N_("sans communes voisines"),
    "reseaux": N_("réseaux"),
    "respondents": N_("répondants"),
    "rna": N_("RNA"),
    "rural": N_("ruralité"),
    "sirene_etablissements": N_("établissements Sirene"),
    "structures": N_("annuaire des structures"),
    "territory": N_("territoire"),
    "tiers_lieux": N_("tiers-lieux existants"),
    "tiers_lieux_mode": N_("mode des tiers-lieux existants"),
    "time_limit": N_("temps limite"),
    "travel_times": N_("temps de trajet"),
    "users_share": N_("part d'usagers"),
    "working_days": N_("jours ouvrés"),
    "zonages": N_("zonages"),
}


def default_label(name: str) -> str:
    """Name an input outside the CLI: its French label, translated, in quotes.

    Names that are not in :data:`INPUTS` (question ids, form fields) are kept as is.
    """
    if name not in INPUTS:
        return name
    return gettext("« {label} »", label=gettext(INPUTS[name]))


_labeller: ContextVar[Labeller] = ContextVar("tierslieux_labeller", default=default_label)


def current_labeller() -> Labeller:
    """Return the labeller in force in this context (:func:`default_label` by default)."""
    return _labeller.get()


@contextmanager
def use_labels(label: Labeller) -> Iterator[None]:
    """Render input names with ``label`` for the duration of a ``with`` block."""
    token = _labeller.set(label)
    try:
        yield
    finally:
        _labeller.reset(token)


def _placeholders(text: str) -> set[str]:
    names: set[str] = set()
    for _literal, name, _spec, _conversion in string.Formatter().parse(text):
        if name:
            names.add(name.split(".", 1)[0].split("[", 1)[0])
    return names


@dataclasses.dataclass(frozen=True, slots=True)
class Input:
    """A parameter value naming an input chosen at run time (rendered by the labeller).

    ``Problem("{option} vaut {value}.", {"option": Input("minutes"), "value": 0})``.
    """

    name: str


@dataclasses.dataclass(frozen=True, slots=True)
class Message:
    """A message to show a user, translated and rendered when shown.

    Parameters
    ----------
    msgid
        The French source text with ``str.format`` placeholders (the gettext msgid).
        Placeholders not given in ``params`` name inputs (keys of :data:`INPUTS`).
    params
        Values of the other placeholders; a :class:`Message` value is rendered too, an
        :class:`Input` value is named by the labeller.
    field
        The faulty input: a parameter name (``territory``, ``minutes``...) or a form
        field / question id; ``None`` when the message is about no single input.
    path, line, column
        Where, in an input file, when it applies (1-based line and column).
    translated
        ``True`` for a text already translated (the historical ``_("...")`` style):
        it is shown as is.
    """

    msgid: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict, hash=False)
    field: str | None = dataclasses.field(default=None, kw_only=True)
    path: str | None = dataclasses.field(default=None, kw_only=True)
    line: int | None = dataclasses.field(default=None, kw_only=True)
    column: int | None = dataclasses.field(default=None, kw_only=True)
    translated: bool = dataclasses.field(default=False, kw_only=True)

    @classmethod
    def of(cls, msgid: str, /, *, field: str | None = None, **params: Any) -> Self:  # noqa: ANN401
        """Build a message the way :func:`~tierslieux.i18n.gettext` is called.

        ``Problem.of("{minutes} vaut {v}.", field="minutes", v=0)`` is
        ``Problem("{minutes} vaut {v}.", {"v": 0}, field="minutes")``.
        """
        return cls(msgid, params, field=field)

    @classmethod
    def text(cls, msgid: str, /, **params: Any) -> str:  # noqa: ANN401
        """Render a message now, for the results that hold notes as ``str``.

        ``Note.text("Limité au territoire ({neighbours}).")`` is ``_(...)`` naming inputs
        with the labeller in force (see the module docstring).
        """
        return cls(msgid, params).render()

    @property
    def inputs(self) -> tuple[str, ...]:
        """The inputs named in the text (placeholders that are not parameters)."""
        if self.translated:
            return ()
        return tuple(sorted(_placeholders(self.msgid) - set(self.params)))

    def render(self, label: Labeller | None = None) -> str:
        """Return the text in the current language, inputs named by ``label``.

        Parameters
        ----------
        label
            Labeller of input names; default: the one in force (:func:`use_labels`).
        """
        if self.translated:
            return self.msgid
        labeller = label or current_labeller()
        values = {
            key: value.render(labeller)
            if isinstance(value, Message)
            else labeller(value.name)
            if isinstance(value, Input)
            else value
            for key, value in self.params.items()
        }
        for name in self.inputs:
            values[name] = labeller(name)
        return gettext(self.msgid, **values)

    def __str__(self) -> str:
        return self.render()


@dataclasses.dataclass(frozen=True, slots=True)
class Problem(Message):
    """One problem found in the inputs (see :class:`Message`)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Note(Message):
    """A warning returned with a result: what a reader must know (see :class:`Message`)."""


def render_all(items: Iterable[str | Message], label: Labeller | None = None) -> tuple[str, ...]:
    """Render notes or problems (plain strings pass through unchanged)."""
    return tuple(item.render(label) if isinstance(item, Message) else item for item in items)


def _as_problem(item: str | Message) -> Problem:
    if isinstance(item, Problem):
        return item
    if isinstance(item, Message):
        return Problem(
            item.msgid,
            item.params,
            field=item.field,
            path=item.path,
            line=item.line,
            column=item.column,
            translated=item.translated,
        )
    return Problem(str(item), translated=True)


class TierslieuxError(Exception):
    """Base class of every error reported to the user.

    Parameters
    ----------
    *problems
        Every problem found: :class:`Problem` objects, or already translated strings
        (each becomes a problem with no field).
    summary
        Optional heading: a msgid (or a :class:`Message`) with a ``{problems}``
        placeholder, for example ``"Réponses refusées : {problems}."``; the problems
        fill it as ``field : message`` items joined by ``; ``.

    Attributes
    ----------
    problems
        The problems, in the order found.
    """

    def __init__(self, *problems: str | Message, summary: str | Message | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(_as_problem(p) for p in problems)
        self.summary: Message | None = (
            None
            if summary is None
            else summary
            if isinstance(summary, Message)
            else Message(summary)
        )
        super().__init__(*self.problems)

    def render(self, label: Labeller | None = None) -> str:
        """Return every problem as one text, in the current language."""
        labeller = label or current_labeller()
        if self.summary is None:
            return " ".join(p.render(labeller) for p in self.problems)
        items = "; ".join(
            gettext("{field} : {message}", field=labeller(p.field), message=p.render(labeller))
            if p.field
            else p.render(labeller)
            for p in self.problems
        )
        if self.summary.translated:
            return self.summary.msgid.replace("{problems}", items)
        params = {**self.summary.params, "problems": items}
        return dataclasses.replace(self.summary, params=params).render(labeller)

    def __str__(self) -> str:
        return self.render()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.problems, self.summary), self.__dict__)


def _rebuild(
    cls: type[TierslieuxError], problems: tuple[Problem, ...], summary: Message | None
) -> TierslieuxError:
    error = cls.__new__(cls)
    TierslieuxError.__init__(error, *problems, summary=summary)
    return error


class Problems:
    """Problems gathered before raising them together.

    Examples
    --------
    >>> found = Problems()
    >>> found.add("{minutes} doit être positif.", field="minutes")
    >>> found.raise_if_any()  # doctest: +SKIP
    """

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, problem: str | Message, /, *, field: str | None = None, **params: Any) -> None:  # noqa: ANN401
        """Record a problem: a :class:`Problem`, or a msgid with its parameters."""
        if isinstance(problem, Message):
            self.items.append(_as_problem(problem))
        else:
            self.items.append(Problem(problem, params, field=field))

    def extend(self, problems: Iterable[str | Message]) -> None:
        """Record several problems (for example ``error.problems`` of a caught error)."""
        self.items.extend(_as_problem(p) for p in problems)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.items)

    def raise_if_any(
        self,
        error: type[TierslieuxError] | None = None,
        *,
        summary: str | Message | None = None,
    ) -> None:
        """Raise ``error`` (default :class:`SchemaError`) carrying every problem, if any."""
        if self.items:
            raise (error or SchemaError)(*self.items, summary=summary)


class SourceError(TierslieuxError, OSError):
    """An input file or URL cannot be read (missing, empty, truncated archive...)."""


class DownloadError(SourceError):
    """A download failed or its checksum does not match the catalogue."""


class SchemaError(TierslieuxError, ValueError):
    """An input is readable but its content is not what the format expects."""


class TerritoryError(TierslieuxError, ValueError):
    """A territory specification is invalid or selects no commune."""


class InfeasibleError(TierslieuxError, ValueError):
    """An optimisation problem has no solution under the stated constraints."""


class StoreError(TierslieuxError, RuntimeError):
    """The operational store refused a write (stale version, constraint...)."""
