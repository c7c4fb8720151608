"""Translation catalogues: extract, update, check (Babel).

Usage (from the repository root)::

    python tools/i18n.py extract      # code -> src/tierslieux/locales/tierslieux.pot
    python tools/i18n.py update       # extract, then merge the .pot into every <lang>.po
    python tools/i18n.py check        # .pot up to date, every message translated (exit 1 if not)
    python tools/i18n.py todo [LANG]  # untranslated (or fuzzy) messages as JSON {msgid: ""}
    python tools/i18n.py fill FILE.json [LANG]  # write translations from a JSON {msgid: msgstr}
    python tools/i18n.py compile      # optional: .po -> .mo (the package reads the .po)

Messages are the first argument of ``_(...)``, ``gettext(...)``, ``N_(...)`` and the
structured messages (``Problem(...)``, ``Message.of(...)``, ``Note.text(...)``) in
``src/tierslieux/**/*.py`` and in the Jinja templates of ``reports/templates``, and the
texts of the packaged questionnaire definitions (``data/questionnaire_v*.yaml``:
title, source, labels, criteria, units), which
:meth:`tierslieux.model.survey.Questionnaire.translated` looks up, and the ``raison``
sentences of the packaged data tables (:data:`CSV_TEXT_COLUMNS`: the classification
rules, the demonstration's actors), which the classification and
:func:`tierslieux.i18n.translate_stored` look up.
A message with ``{placeholders}`` is flagged ``python-brace-format``; ``check`` fails
when a translation's placeholders differ from the French text's.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import logging
import string
import sys
from datetime import UTC, datetime
from io import BytesIO, StringIO
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import yaml
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterator, Mapping

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "tierslieux"
LOCALES = PACKAGE / "locales"
DOMAIN = "tierslieux"
POT = LOCALES / f"{DOMAIN}.pot"
TRANSLATIONS = ("en",)
KEYWORDS: dict[str, None] = {"_": None, "gettext": None, "N_": None}
BRACE_FLAG = "python-brace-format"


def extract_python_ast(
    fileobj: BinaryIO,
    keywords: Mapping[str, object],
    comment_tags: Collection[str],  # noqa: ARG001 - Babel's extractor signature
    options: Mapping[str, object],  # noqa: ARG001
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extractor for Python through :mod:`ast`.

    Babel's own tokenizer-based extractor does not see ``_("...")`` calls inside
    f-strings (``f"<h2>{_('Carte')}</h2>"``), which the reports use; the syntax tree
    does. The message is the first argument when it is a string literal (implicit
    concatenation included); keyword arguments are placeholders' values.
    """
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and _is_message_call(node, keywords)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, "_", node.args[0].value, []


#: Keys of a questionnaire definition whose (string) value is shown to people.
QUESTIONNAIRE_TEXT_KEYS = frozenset({"titre", "source", "label", "critere", "unit"})


def extract_questionnaire_yaml(
    fileobj: BinaryIO,
    keywords: Mapping[str, object],  # noqa: ARG001 - Babel's extractor signature
    comment_tags: Collection[str],  # noqa: ARG001
    options: Mapping[str, object],  # noqa: ARG001
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extractor for a questionnaire definition (YAML).

    Every scalar value of a key of :data:`QUESTIONNAIRE_TEXT_KEYS`, wherever it is
    (the questionnaire, a question, an option), is a message; ids, codes and types are
    not (they are stored and never translated).
    """
    stack = [yaml.compose(fileobj.read().decode("utf-8"))]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if (
                    isinstance(key, yaml.ScalarNode)
                    and key.value in QUESTIONNAIRE_TEXT_KEYS
                    and isinstance(value, yaml.ScalarNode)
                    and value.value.strip()
                ):
                    yield value.start_mark.line + 1, "_", value.value, []
                else:
                    stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


#: Columns of the packaged CSV tables whose cells are sentences shown to people (each one
#: a message, with the rules' ``{placeholders}``); ids, codes and patterns are not.
CSV_TEXT_COLUMNS = frozenset({"raison"})


def extract_data_csv(
    fileobj: BinaryIO,
    keywords: Mapping[str, object],  # noqa: ARG001 - Babel's extractor signature
    comment_tags: Collection[str],  # noqa: ARG001
    options: Mapping[str, object],  # noqa: ARG001
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extractor for a packaged CSV table (UTF-8, comma-separated, a header line).

    Every non-empty cell of a column of :data:`CSV_TEXT_COLUMNS` is a message; its line
    is the one the record starts on. A table without such a column gives nothing.
    """
    reader = csv.DictReader(StringIO(fileobj.read().decode("utf-8-sig"), newline=""))
    columns = [c for c in reader.fieldnames or () if c in CSV_TEXT_COLUMNS]
    line = reader.line_num + 1
    for record in reader:
        for column in columns:
            text = (record.get(column) or "").strip()
            if text:
                yield line, "_", text, []
        line = reader.line_num + 1


#: Structured messages of :mod:`tierslieux.errors`: ``Problem("…")``, ``Note.text("…")``…
MESSAGE_CLASSES = frozenset({"Message", "Problem", "Note"})
MESSAGE_METHODS = frozenset({"of", "text"})


def _is_message_call(node: ast.Call, keywords: Mapping[str, object]) -> bool:
    """Whether ``node`` is a call whose first argument is a message id.

    ``_()``, ``gettext()``, ``N_()``; the structured messages ``Problem(...)``,
    ``Message.of(...)``, ``Note.text(...)``; and ``Problems.add(...)`` (recognised as an
    ``.add()`` whose literal first argument reads as a sentence: sets of codes do not).
    """
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in keywords or func.id in MESSAGE_CLASSES
    if not isinstance(func, ast.Attribute):
        return False
    if isinstance(func.value, ast.Name) and func.value.id in MESSAGE_CLASSES:
        return func.attr in MESSAGE_METHODS
    first = node.args[0] if node.args else None
    return (
        func.attr == "add"
        and isinstance(first, ast.Constant)
        and isinstance(first.value, str)
        and " " in first.value
    )


METHOD_MAP: list[tuple[str, str | Callable[..., Iterator[tuple[int, str, str, list[str]]]]]] = [
    ("reports/templates/**.j2", "jinja2.ext:babel_extract"),
    ("reports/templates/**.html", "jinja2.ext:babel_extract"),
    ("web/templates/**.html", "jinja2.ext:babel_extract"),
    ("data/questionnaire_v*.yaml", extract_questionnaire_yaml),
    ("data/classification_rules.csv", extract_data_csv),
    ("data/demo/acteurs_fictifs.csv", extract_data_csv),
    ("**.py", extract_python_ast),
]
WIDTH = 100
# A fixed header date: the files change only when a message does (no churn, easier merges).
HEADER_DATE = datetime(2026, 1, 1, tzinfo=UTC)


def po_path(lang: str) -> Path:
    """Return the path of the catalogue of ``lang``."""
    return LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def placeholders(text: str) -> set[str]:
    """Return the ``str.format`` field names of ``text`` (``{n}``, ``{value!r}`` -> n, value)."""
    try:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError:
        return {"<unbalanced braces>"}


def extract() -> Catalog:
    """Extract every message of the package into a template catalogue."""
    logging.getLogger("babel").setLevel(logging.ERROR)
    catalog = Catalog(
        project=DOMAIN,
        copyright_holder="tierslieux contributors",
        msgid_bugs_address="",
        domain=DOMAIN,
        charset="utf-8",
        creation_date=HEADER_DATE,
        revision_date=HEADER_DATE,
        fuzzy=False,
    )
    found = extract_from_dir(
        str(PACKAGE), METHOD_MAP, {}, keywords=KEYWORDS, strip_comment_tags=True
    )
    found = [*found, *cli_help_messages()]
    for filename, lineno, message, comments, context in found:
        if not isinstance(message, str) or not message:
            continue
        flags = [BRACE_FLAG] if placeholders(message) else []
        catalog.add(
            message,
            None,
            [(Path(filename).as_posix(), lineno)],
            auto_comments=comments,
            flags=flags,
            context=context,
        )
    return catalog


def cli_help_messages() -> Iterator[tuple[str, int, str, list[str], None]]:
    """Help texts of the command line (docstrings and ``help=``), as Click holds them.

    They are French literals evaluated by Typer at import; the entry point translates
    them once the language is known (``tierslieux.cli.common.translate_help``), so the
    catalogue takes them from the Click command tree itself: exactly the rendered text.
    """
    import typer  # noqa: PLC0415 - only when extracting

    from tierslieux.cli import app  # noqa: PLC0415
    from tierslieux.cli.common import help_texts  # noqa: PLC0415

    for where, text in help_texts(typer.main.get_command(app)):
        location = "cli/--help/" + where.replace(" ", "/")
        yield location, 0, text, [], None


def _render(catalog: Catalog) -> bytes:
    out = BytesIO()
    write_po(
        out,
        catalog,
        width=WIDTH,
        sort_output=True,
        include_lineno=False,
        ignore_obsolete=True,
    )
    return out.getvalue()


def _write_if_changed(path: Path, content: bytes) -> bool:
    if path.is_file() and path.read_bytes() == content:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(content)
    tmp.replace(path)
    return True


def read_catalog(path: Path, lang: str | None = None) -> Catalog:
    """Read a ``.po`` or ``.pot`` file."""
    with path.open("rb") as handle:
        return read_po(handle, locale=lang, domain=DOMAIN)


def msgids(catalog: Catalog) -> set[str]:
    """Return the message identifiers of ``catalog`` (without the header)."""
    return {m.id for m in catalog if m.id and isinstance(m.id, str)}


def write_template() -> Catalog:
    """Extract and write the ``.pot``; return the template."""
    template = extract()
    changed = _write_if_changed(POT, _render(template))
    print(f"{POT.relative_to(ROOT)}: {len(msgids(template))} messages" + (" (written)" * changed))
    return template


def update(template: Catalog) -> None:
    """Merge ``template`` into the catalogue of every translation."""
    for lang in TRANSLATIONS:
        path = po_path(lang)
        if path.is_file():
            catalog = read_catalog(path, lang)
        else:
            catalog = Catalog(locale=lang, domain=DOMAIN, project=DOMAIN, fuzzy=False)
        catalog.creation_date = HEADER_DATE
        catalog.revision_date = HEADER_DATE
        catalog.last_translator = "tierslieux contributors"
        catalog.language_team = f"{lang} (tierslieux)"
        catalog.msgid_bugs_address = ""
        catalog.copyright_holder = "tierslieux contributors"
        catalog.update(template, update_header_comment=False)
        catalog.fuzzy = False
        changed = _write_if_changed(path, _render(catalog))
        print(f"{path.relative_to(ROOT)}" + (" (written)" * changed))


def problems(lang: str) -> list[str]:
    """Return one line per message of ``lang`` that is missing, fuzzy or has wrong placeholders."""
    catalog = read_catalog(po_path(lang), lang)
    lines = []
    for message in catalog:
        if not message.id or not isinstance(message.id, str):
            continue
        text = message.string if isinstance(message.string, str) else ""
        if not text:
            lines.append(f"untranslated: {message.id!r}")
        elif message.fuzzy:
            lines.append(f"fuzzy (review, then remove the flag): {message.id!r}")
        elif placeholders(text) != placeholders(message.id):
            lines.append(
                f"placeholders {sorted(placeholders(text))} != "
                f"{sorted(placeholders(message.id))}: {message.id!r}"
            )
    return lines


def fstring_messages() -> list[str]:
    """Return ``file:line`` of every ``_(f"...")``: an f-string cannot be a catalogue entry."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found.extend(
            f"{path.relative_to(ROOT)}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in KEYWORDS
            and node.args
            and isinstance(node.args[0], ast.JoinedStr)
        )
    return found


def framework_texts_missing() -> list[str]:
    """What the translation of Typer's and Click's own words relies on and no longer finds.

    See :func:`tierslieux.cli.framework.missing_framework_texts`: its French messages are
    in the catalogue like any other; this checks that Typer still writes the texts they
    replace.
    """
    from tierslieux.cli.framework import missing_framework_texts  # noqa: PLC0415

    return missing_framework_texts()


def check() -> int:
    """Check the template against the code and every translation; return the exit status."""
    code = msgids(extract())
    status = 0
    for where in fstring_messages():
        status = 1
        print(f'{where}: f-string message; write _("... {{name}} ...", name=value)')
    pot = msgids(read_catalog(POT)) if POT.is_file() else set()
    if pot != code:
        status = 1
        for message in sorted(code - pot):
            print(f"not in the .pot (run `python tools/i18n.py update`): {message!r}")
        for message in sorted(pot - code):
            print(f"in the .pot but no longer in the code (run update): {message!r}")
    for text in framework_texts_missing():
        status = 1
        print(
            f"command-line framework: no longer found, its words may be left untranslated: {text}"
        )
    for lang in TRANSLATIONS:
        path = po_path(lang)
        catalog_ids = msgids(read_catalog(path, lang)) if path.is_file() else set()
        if catalog_ids != code:
            status = 1
            print(f"{path.relative_to(ROOT)} is not merged with the code (run update).")
        lines = problems(lang) if path.is_file() else []
        for line in lines:
            print(f"{lang}: {line}")
        if lines:
            status = 1
        print(f"{lang}: {len(catalog_ids)} messages, {len(lines)} to translate or fix.")
    return status


def todo(lang: str) -> dict[str, str]:
    """Return the untranslated or fuzzy messages of ``lang`` (msgid -> current msgstr)."""
    catalog = read_catalog(po_path(lang), lang)
    return {
        m.id: m.string if isinstance(m.string, str) else ""
        for m in catalog
        if m.id and isinstance(m.id, str) and (not m.string or m.fuzzy)
    }


def fill(source: Path, lang: str) -> None:
    """Write the translations of ``source`` (JSON msgid -> msgstr) into the catalogue."""
    given: dict[str, str] = json.loads(source.read_text(encoding="utf-8"))
    path = po_path(lang)
    catalog = read_catalog(path, lang)
    done = unknown = 0
    for msgid, msgstr in given.items():
        message = catalog.get(msgid)
        if message is None:
            unknown += 1
            print(f"not in the catalogue (ignored): {msgid!r}")
            continue
        if msgstr:
            message.string = msgstr
            message.flags.discard("fuzzy")
            done += 1
    _write_if_changed(path, _render(catalog))
    print(f"{path.relative_to(ROOT)}: {done} translations written, {unknown} unknown.")


def compile_catalogues() -> None:
    """Write a ``.mo`` next to every ``.po`` (not needed by the package, which reads the .po)."""
    for lang in TRANSLATIONS:
        catalog = read_catalog(po_path(lang), lang)
        out = BytesIO()
        write_mo(out, catalog)
        path = po_path(lang).with_suffix(".mo")
        path.write_bytes(out.getvalue())
        print(f"{path.relative_to(ROOT)} written")


def main(argv: list[str] | None = None) -> int:
    """Run the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("extract", help="code -> .pot")
    sub.add_parser("update", help="extract, then merge into every .po")
    sub.add_parser("check", help="fail when the .pot is stale or a message is untranslated")
    todo_parser = sub.add_parser("todo", help="untranslated messages as JSON")
    todo_parser.add_argument("lang", nargs="?", default="en")
    fill_parser = sub.add_parser("fill", help="write translations from a JSON file")
    fill_parser.add_argument("source", type=Path)
    fill_parser.add_argument("lang", nargs="?", default="en")
    sub.add_parser("compile", help=".po -> .mo (optional)")
    args = parser.parse_args(argv)
    if args.command == "extract":
        write_template()
    elif args.command == "update":
        update(write_template())
    elif args.command == "check":
        return check()
    elif args.command == "todo":
        print(json.dumps(todo(args.lang), ensure_ascii=False, indent=1))
    elif args.command == "fill":
        fill(args.source, args.lang)
    else:
        compile_catalogues()
    return 0


if __name__ == "__main__":
    sys.exit(main())
