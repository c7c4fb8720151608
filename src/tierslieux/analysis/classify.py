"""Classify structures into the study's four steps with rules written as data.

The rules live in a CSV table (``tierslieux/data/classification_rules.csv``, documented
in ``classification_rules.md`` next to it) that users can read, extend and override.
A rule matches a row when *all* its non-empty conditions hold (legal categories, NAF
prefixes, ESS flag, RNA social-object prefixes, name / text patterns, no exclusion
pattern); write several rules for an "or". Rules without a category only add themes
and explanations to rows that another rule classified.

Matching is vectorised: each condition is evaluated over whole columns, patterns with
``Series.str.contains`` on accent-free, lower-cased text, and only on the rows that
passed the cheaper conditions.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tierslieux.errors import SchemaError, SourceError
from tierslieux.i18n import gettext as _
from tierslieux.model.structures import CATEGORIES, STEP_OF, THEMES

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

__all__ = [
    "RULE_COLUMNS",
    "Rule",
    "Rules",
    "classify",
    "load_rules",
    "network_lines_found",
    "normalise_text",
]

#: Columns of a rules table, in order; ``actif`` is optional (``non`` disables a rule).
RULE_COLUMNS: tuple[str, ...] = (
    "id",
    "categorie",
    "source",
    "categories_juridiques",
    "naf",
    "ess",
    "objet_social",
    "nom_motif",
    "texte_motif",
    "exclusion_motif",
    "themes",
    "score",
    "raison",
    "reference",
)
_SOURCES = ("sirene", "rna", "any")
_ID = re.compile(r"^[a-z0-9_]+$")
_CJ = re.compile(r"^\d{4}$")
_NAF = re.compile(r"^\d{2}(\.\d{1,2}[A-Z]?)?$")
_OBJET_SOCIAL = re.compile(r"^\d{1,6}$")
#: Bonus added to the best rule's score for each other concordant rule.
CONCORDANCE_BONUS = 5
_QUOTES = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "`": "'",
        "´": "'",
        "œ": "oe",
        "Œ": "OE",
        "æ": "ae",
        "Æ": "AE",
        "\u00a0": " ",
    }
)


@dataclass(frozen=True)
class Rule:
    """One classification rule (one line of the rules table).

    Attributes
    ----------
    id
        Unique identifier (``[a-z0-9_]+``); a user table overrides the rule of same id.
    categorie
        Category given to matching rows, or ``None`` for a theme-only rule.
    source
        Register the rule applies to: ``{"sirene", "rna", "any"}``.
    categories_juridiques
        INSEE legal categories (4 digits), any of which must match; empty: no condition.
    naf
        NAF rév. 2 prefixes (``"62"``, ``"70.21"``), any of which must match.
    ess
        Required value of the ESS flag, or ``None``.
    objet_social
        Prefixes of RNA social-object codes (``objet_social1`` or ``objet_social2``).
    nom_motif, texte_motif, exclusion_motif
        Compiled patterns on the name, on name + object, and excluding pattern.
    themes
        Theme ids added to matching rows.
    score
        Relevance, 0 to 100 (theme-only rules: 0).
    raison
        French sentence explaining the match; ``{nom}``, ``{naf}``,
        ``{categorie_juridique}``, ``{code_commune}`` are filled in.
    reference
        Source of the rule (nomenclature, law, study).
    origin
        File and line the rule was read from.
    """

    id: str
    categorie: str | None
    source: str
    categories_juridiques: tuple[str, ...]
    naf: tuple[str, ...]
    ess: bool | None
    objet_social: tuple[str, ...]
    nom_motif: re.Pattern[str] | None
    texte_motif: re.Pattern[str] | None
    exclusion_motif: re.Pattern[str] | None
    themes: tuple[str, ...]
    score: int
    raison: str
    reference: str
    origin: str


@dataclass(frozen=True)
class Rules:
    """An ordered, validated set of rules and the files they came from."""

    rules: tuple[Rule, ...]
    files: tuple[str, ...]

    def __len__(self) -> int:
        """Return the number of active rules."""
        return len(self.rules)

    def by_id(self) -> dict[str, Rule]:
        """Return the rules keyed by id."""
        return {r.id: r for r in self.rules}


def normalise_text(series: pd.Series) -> pd.Series:
    """Lower-case, accent-free text with straight apostrophes (for pattern matching)."""
    text = series.astype("string").fillna("").str.translate(_QUOTES)
    text = text.str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
    return text.str.lower()


def _strip_accents(pattern: str) -> str:
    decomposed = unicodedata.normalize("NFKD", pattern.translate(_QUOTES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _split(value: str) -> tuple[str, ...]:
    return tuple(v for v in re.split(r"[\s;,|]+", value.strip()) if v)


def _default_rules_text() -> tuple[str, str]:
    path = resources.files("tierslieux") / "data" / "classification_rules.csv"
    return path.read_text(encoding="utf-8"), "tierslieux/data/classification_rules.csv"


def load_rules(path: Path | None = None) -> Rules:
    """Load the package rules, extended or overridden by a user table.

    Parameters
    ----------
    path
        Optional user CSV with the same columns (:data:`RULE_COLUMNS`, plus an optional
        ``actif`` column: ``non`` disables the rule of that id). A rule whose id exists
        in the package table replaces it; a new id is added.

    Returns
    -------
    Rules
        The validated rules, package order first, new user rules after.

    Raises
    ------
    SourceError
        The user file cannot be read.
    SchemaError
        Any rule is invalid; every problem is listed with its file and line.
    """
    text, origin = _default_rules_text()
    base, disabled = _parse(text, origin)
    files = [origin]
    if path is not None:
        try:
            user_text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError as error:
            raise SourceError(_("Fichier de règles introuvable : {path}.", path=path)) from error
        except UnicodeDecodeError as error:
            raise SchemaError(
                _("{path} : le fichier de règles doit être en UTF-8.", path=path)
            ) from error
        user, user_disabled = _parse(user_text, str(path))
        merged = {r.id: r for r in base}
        for rule in user:
            merged[rule.id] = rule
        base = list(merged.values())
        disabled |= user_disabled
        files.append(str(path))
    active = tuple(r for r in base if r.id not in disabled)
    return Rules(rules=active, files=tuple(files))


def _parse(text: str, origin: str) -> tuple[list[Rule], set[str]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in RULE_COLUMNS if c not in header]
    if missing:
        raise SchemaError(
            _(
                "{path}, ligne 1 : colonne(s) {missing} absente(s) du tableau de règles "
                "(attendu : {expected}).",
                path=origin,
                missing=", ".join(missing),
                expected=", ".join(RULE_COLUMNS),
            )
        )
    problems: list[str] = []
    rules: list[Rule] = []
    disabled: set[str] = set()
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        clean = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        where = f"{origin}, ligne {line}"
        if clean.get("id", "") in seen:
            problems.append(_("{where} : identifiant {id} en double.", where=where, id=clean["id"]))
        seen.add(clean.get("id", ""))
        if clean.get("actif", "").lower() in {"non", "no", "false", "0"}:
            disabled.add(clean.get("id", ""))
            continue
        rule = _build_rule(clean, where, problems)
        if rule is not None:
            rules.append(rule)
    if problems:
        raise SchemaError(" ".join(problems))
    return rules, disabled


def _compile(pattern: str, column: str, where: str, problems: list[str]) -> re.Pattern[str] | None:
    if not pattern:
        return None
    try:
        return re.compile(_strip_accents(pattern), re.IGNORECASE)
    except re.error as error:
        problems.append(
            _(
                "{where}, colonne {column} : expression régulière invalide ({error}).",
                where=where,
                column=column,
                error=error,
            )
        )
        return None


def _build_rule(row: Mapping[str, str], where: str, problems: list[str]) -> Rule | None:
    start = len(problems)
    rid = row["id"]
    if not _ID.match(rid):
        problems.append(
            _(
                "{where} : identifiant « {id} » invalide (attendu : a-z, 0-9, _).",
                where=where,
                id=rid,
            )
        )
    categorie = row["categorie"] or None
    if categorie is not None and categorie not in CATEGORIES:
        problems.append(
            _(
                "{where} : catégorie « {value} » inconnue (attendu : {expected} ou vide).",
                where=where,
                value=categorie,
                expected=", ".join(CATEGORIES),
            )
        )
    if row["source"] not in _SOURCES:
        problems.append(
            _(
                "{where} : source « {value} » inconnue (attendu : {expected}).",
                where=where,
                value=row["source"],
                expected=", ".join(_SOURCES),
            )
        )
    cj = _split(row["categories_juridiques"])
    problems.extend(
        _(
            "{where} : catégorie juridique « {value} » invalide (4 chiffres attendus).",
            where=where,
            value=v,
        )
        for v in cj
        if not _CJ.match(v)
    )
    naf = _split(row["naf"])
    problems.extend(
        _(
            "{where} : préfixe NAF « {value} » invalide (attendu : « 62 », « 70.21 », « 62.01Z »).",
            where=where,
            value=v,
        )
        for v in naf
        if not _NAF.match(v)
    )
    objet_social = _split(row["objet_social"])
    problems.extend(
        _(
            "{where} : code d'objet social « {value} » invalide (1 à 6 chiffres).",
            where=where,
            value=v,
        )
        for v in objet_social
        if not _OBJET_SOCIAL.match(v)
    )
    ess_text = row["ess"].upper()
    if ess_text not in {"", "O", "N"}:
        problems.append(
            _(
                "{where} : valeur ESS « {value} » invalide (attendu : O, N ou vide).",
                where=where,
                value=row["ess"],
            )
        )
    themes = _split(row["themes"])
    problems.extend(
        _(
            "{where} : thème « {value} » inconnu (attendu : {expected}).",
            where=where,
            value=t,
            expected=", ".join(THEMES),
        )
        for t in themes
        if t not in THEMES
    )
    score = int(row["score"]) if re.fullmatch(r"\d{1,3}", row["score"]) else -1
    if not 0 <= score <= 100:
        problems.append(
            _(
                "{where} : score « {value} » invalide (entier de 0 à 100 attendu).",
                where=where,
                value=row["score"],
            )
        )
        score = 0
    if not row["raison"]:
        problems.append(_("{where} : la raison (phrase en français) est obligatoire.", where=where))
    if not row["reference"]:
        problems.append(
            _("{where} : la référence (source de la règle) est obligatoire.", where=where)
        )
    patterns = {
        column: _compile(row[column], column, where, problems)
        for column in ("nom_motif", "texte_motif", "exclusion_motif")
    }
    if categorie is not None and not (
        cj or naf or objet_social or ess_text or patterns["nom_motif"] or patterns["texte_motif"]
    ):
        problems.append(_("{where} : la règle n'a aucune condition.", where=where))
    if len(problems) > start:
        return None
    return Rule(
        id=rid,
        categorie=categorie,
        source=row["source"],
        categories_juridiques=cj,
        naf=naf,
        ess={"O": True, "N": False}.get(ess_text),
        objet_social=objet_social,
        nom_motif=patterns["nom_motif"],
        texte_motif=patterns["texte_motif"],
        exclusion_motif=patterns["exclusion_motif"],
        themes=themes,
        score=score,
        raison=row["raison"],
        reference=row["reference"],
        origin=where,
    )


class _Columns:
    """Lazily prepared columns of the structures frame, shared by every rule."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.n = len(frame)
        registry = next(
            (frame[c] for c in ("source_registre", "source") if c in frame),
            pd.Series("any", index=frame.index),
        )
        self.registry = registry.astype("string").fillna("any").to_numpy()
        self._cache: dict[str, pd.Series] = {}

    def text(self, column: str) -> pd.Series:
        """Normalised text of ``column`` (``"texte"``: name and object together)."""
        if column not in self._cache:
            if column == "texte":
                self._cache[column] = self.text("nom") + " " + self.text("objet")
            elif column == "nom" and "noms_connus" in self.frame:
                # Every known name (trade names, usual names, sigle) is searched.
                own = normalise_text(self.frame["nom"]).reset_index(drop=True)
                known = normalise_text(self.frame["noms_connus"]).reset_index(drop=True)
                self._cache[column] = own + " ; " + known
            elif column in self.frame:
                self._cache[column] = normalise_text(self.frame[column]).reset_index(drop=True)
            else:
                self._cache[column] = pd.Series("", index=range(self.n), dtype="string")
        return self._cache[column]

    def raw(self, column: str) -> pd.Series:
        if column in self.frame:
            return self.frame[column].astype("string")
        return pd.Series(pd.NA, index=self.frame.index, dtype="string")


def _search(pattern: re.Pattern[str], values: pd.Series) -> np.ndarray:
    with warnings.catch_warnings():
        # Groups in user patterns are for alternation, not extraction.
        warnings.filterwarnings(
            "ignore", message="This pattern is interpreted", category=UserWarning
        )
        found = values.str.contains(pattern, regex=True)
    return found.to_numpy(dtype=bool, na_value=False)


def _rule_mask(rule: Rule, cols: _Columns) -> np.ndarray:
    mask = np.ones(cols.n, dtype=bool)
    if rule.source != "any":
        mask &= cols.registry == rule.source
    if rule.categories_juridiques:
        mask &= (
            cols.raw("categorie_juridique")
            .isin(rule.categories_juridiques)
            .to_numpy(dtype=bool, na_value=False)
        )
    if rule.naf:
        mask &= cols.raw("naf").str.startswith(rule.naf).to_numpy(dtype=bool, na_value=False)
    if rule.ess is not None:
        ess = cols.frame["ess"] if "ess" in cols.frame else pd.Series(pd.NA, index=cols.frame.index)
        mask &= ess.astype("boolean").eq(rule.ess).to_numpy(dtype=bool, na_value=False)
    if rule.objet_social:
        hit = np.zeros(cols.n, dtype=bool)
        for column in ("objet_social1", "objet_social2"):
            hit |= (
                cols.raw(column)
                .str.startswith(rule.objet_social)
                .to_numpy(dtype=bool, na_value=False)
            )
        mask &= hit
    for pattern, column, expected in (
        (rule.nom_motif, "nom", True),
        (rule.texte_motif, "texte", True),
        (rule.exclusion_motif, "texte", False),
    ):
        if pattern is None or not mask.any():
            continue
        index = np.flatnonzero(mask)
        found = _search(pattern, cols.text(column).iloc[index])
        mask[index] = found if expected else ~found
    return mask


def _fill(template: str, row: Mapping[str, object]) -> str:
    class _Default(dict[str, str]):
        def __missing__(self, key: str) -> str:
            return "?"

    values = _Default()
    for key in ("nom", "naf", "categorie_juridique", "code_commune"):
        value = row.get(key)
        values[key] = "?" if value is None or pd.isna(value) else str(value)  # type: ignore[call-overload]
    known = row.get("noms_connus")
    if isinstance(known, str) and values["nom"] != "?":
        shown = values["nom"].casefold()
        other = [n for n in known.split(" ; ") if n.casefold() not in shown]
        if other:
            values["nom"] = _("{nom} (aussi : {names})", nom=values["nom"], names=" ; ".join(other))
    try:
        return template.format_map(values)
    except (ValueError, IndexError):
        return template


#: Score of a structure found in a user-supplied network list (valeur de l'outil: a
#: listed member is near-certain, above every rule of the table, which stay concordant).
NETWORK_SCORE = 98
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _name_key(series: pd.Series) -> pd.Series:
    """Names reduced for matching: no case, accents or punctuation."""
    return normalise_text(series).str.replace(_NON_ALNUM, " ", regex=True).str.strip()


def _network_rules(networks: pd.DataFrame) -> list[Rule]:
    rules = []
    for rec in networks.to_dict("records"):
        how = []
        if isinstance(rec.get("siren"), str):
            how.append(_("SIREN {siren}", siren=rec["siren"]))
        if isinstance(rec.get("nom"), str):
            how.append(_("nom « {nom} »", nom=rec["nom"]))
        raison = _(
            "Membre du réseau « {reseau} » selon la liste fournie ({file}, ligne {line} : {how}).",
            reseau=rec["reseau"],
            file=rec.get("fichier", "?"),
            line=rec["ligne"],
            how=" / ".join(how),
        )
        rules.append(
            Rule(
                id=f"reseau_ligne_{rec['ligne']}",
                categorie=str(rec["categorie"]),
                source="any",
                categories_juridiques=(),
                naf=(),
                ess=None,
                objet_social=(),
                nom_motif=None,
                texte_motif=None,
                exclusion_motif=None,
                themes=("ess_cooperation",) if rec["categorie"] == "cae" else (),
                score=NETWORK_SCORE,
                # Braces of a member's name must not be read as placeholders.
                raison=raison.replace("{", "{{").replace("}", "}}"),
                reference=_(
                    "Liste de réseau fournie par l'utilisateur ({file})",
                    file=rec.get("fichier", "?"),
                ),
                origin=f"{rec.get('fichier', '?')}, ligne {rec['ligne']}",
            )
        )
    return rules


def _network_matrix(frame: pd.DataFrame, networks: pd.DataFrame) -> np.ndarray:
    """Rows (of ``frame``, index 0..n-1) x network lines: matched by SIREN or by name."""
    out = np.zeros((len(frame), len(networks)), dtype=bool)
    if not len(frame) or not len(networks):
        return out
    siren = pd.Series(pd.NA, index=frame.index, dtype="string")
    if "siren" in frame:
        siren = frame["siren"].astype("string")
    if "siret" in frame:
        siren = siren.fillna(frame["siret"].astype("string").str.slice(0, 9))
    names = [frame["nom"].astype("string")] if "nom" in frame else []
    names.extend(
        frame[column].astype("string").str.split(" ; ").explode()
        for column in ("denomination_legale", "noms_connus")
        if column in frame
    )
    keys = pd.concat([_name_key(n) for n in names]) if names else pd.Series(dtype="string")
    keys = keys[keys.fillna("").str.len() > 0]
    net_sirens = networks["siren"].astype("string")
    net_keys = _name_key(networks["nom"].astype("string"))
    for j in range(len(networks)):
        if pd.notna(net_sirens.iloc[j]):
            out[:, j] |= siren.eq(net_sirens.iloc[j]).to_numpy(dtype=bool, na_value=False)
        key = net_keys.iloc[j]
        if pd.notna(key) and key:
            hit = keys.index[keys.eq(key).to_numpy(dtype=bool, na_value=False)]
            out[np.unique(hit.to_numpy(dtype=np.int64)), j] = True
    return out


def network_lines_found(classified: pd.DataFrame) -> set[int]:
    """Lines of the network list that matched a row of a :func:`classify` result."""
    if "regles" not in classified or classified.empty:
        return set()
    found = classified["regles"].astype("string").str.findall(r"reseau_ligne_(\d+)")
    return {int(n) for hits in found.dropna() for n in hits}


def classify(
    structures: pd.DataFrame,
    rules: Rules,
    *,
    keep_unmatched: bool = False,
    networks: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Classify structures and explain why.

    Parameters
    ----------
    structures
        Canonical rows from the Sirene or RNA readers (``nom``, and as available
        ``objet``, ``categorie_juridique``, ``naf``, ``ess``, ``objet_social1/2``);
        the register is read from ``source_registre`` or ``source``.
    rules
        Rules from :func:`load_rules`.
    keep_unmatched
        Keep rows no category rule matched (``categorie`` missing, score 0).
    networks
        Optional members of known networks (from
        :func:`tierslieux.sources.networks.load_networks`): a row whose SIREN (or the
        first 9 digits of its SIRET) or normalised name (displayed, legal or trade
        name) equals a listed member gets that line's category with score
        :data:`NETWORK_SCORE`, and the network and line in its reason.

    Returns
    -------
    pandas.DataFrame
        A new frame: the input columns plus ``categorie``, ``themes`` (ids joined by
        ``;``), ``score`` (0-100: the best rule's score plus
        :data:`CONCORDANCE_BONUS` per other matching rule), ``raison`` (in the current
        language: every rule that matched and why, and how the score was made; a rule
        sentence that is not in the catalogue, a user's, as written) and ``regles`` (ids).
    """
    frame = structures.reset_index(drop=True)
    cols = _Columns(frame)
    category_rules = [r for r in rules.rules if r.categorie is not None]
    theme_rules = [r for r in rules.rules if r.categorie is None]
    matrix = np.zeros((len(frame), len(category_rules)), dtype=bool)
    for j, rule in enumerate(category_rules):
        matrix[:, j] = _rule_mask(rule, cols)
    if networks is not None and len(networks):
        category_rules = [*category_rules, *_network_rules(networks)]
        matrix = np.hstack([matrix, _network_matrix(frame, networks)])
    matched = matrix.any(axis=1)
    # Theme rules are only worth evaluating on classified rows.
    theme_matrix = np.zeros((len(frame), len(theme_rules)), dtype=bool)
    if matched.any():
        sub = frame.iloc[np.flatnonzero(matched)].reset_index(drop=True)
        sub_cols = _Columns(sub)
        for j, rule in enumerate(theme_rules):
            theme_matrix[matched, j] = _rule_mask(rule, sub_cols)
    n = len(frame)
    categories: list[object] = [pd.NA] * n
    themes_col = [""] * n
    scores = [0] * n
    reasons = [""] * n
    rule_ids = [""] * n
    records: list[dict[str, object]] = [
        {str(k): v for k, v in rec.items()}
        for rec in frame.iloc[np.flatnonzero(matched)].to_dict("records")
    ]
    for row_index, record in zip(np.flatnonzero(matched), records, strict=True):
        hits = [category_rules[j] for j in np.flatnonzero(matrix[row_index])]
        extra = [theme_rules[j] for j in np.flatnonzero(theme_matrix[row_index])]
        categorie, themes, score, raison = _explain(hits, extra, record)
        categories[row_index] = categorie
        themes_col[row_index] = ";".join(themes)
        scores[row_index] = score
        reasons[row_index] = raison
        rule_ids[row_index] = ";".join(r.id for r in (*hits, *extra))
    out = frame.copy()
    out["categorie"] = pd.Series(categories, index=out.index, dtype="string")
    out["themes"] = themes_col
    out["score"] = scores
    out["raison"] = reasons
    out["regles"] = rule_ids
    out["score"] = out["score"].astype("int64")
    if not keep_unmatched:
        out = out.iloc[np.flatnonzero(matched)].reset_index(drop=True)
    return out


def _order(category: str) -> int:
    return CATEGORIES.index(category) if category in CATEGORIES else len(CATEGORIES)


def _explain(
    hits: list[Rule], extra: list[Rule], record: Mapping[str, object]
) -> tuple[str, list[str], int, str]:
    best = max(hits, key=lambda r: (r.score, -_order(str(r.categorie))))
    categorie = str(best.categorie)
    others = len(hits) + len(extra) - 1
    score = min(100, best.score + CONCORDANCE_BONUS * others)
    themes = _ordered_themes(t for r in (*hits, *extra) for t in r.themes)
    ordered = (best, *[h for h in hits if h is not best], *extra)
    # A rule's sentence is a message (the package table's are in the catalogue): written
    # in the current language like the rest of the reason; a user's own stays as written.
    parts = [f"[{r.id}] {_fill(_(r.raison), record)}" for r in ordered]
    if categorie in STEP_OF:
        step = STEP_OF[categorie]
        summary = _("Étape {step} de la méthode.", step=step)
    else:
        summary = _("Lieu ou point d'appui existant.")
    if others:
        scoring = _(
            "Score {score}/100 : règle {rule} ({base}) + {bonus} pour {n} autre(s) indice(s) "
            "concordant(s).",
            score=score,
            rule=best.id,
            base=best.score,
            bonus=CONCORDANCE_BONUS * others,
            n=others,
        )
    else:
        scoring = _("Score {score}/100 : règle {rule}.", score=score, rule=best.id)
    return categorie, themes, score, " ".join([summary, *parts, scoring])


def _ordered_themes(themes: Iterable[str]) -> list[str]:
    unique = set(themes)
    return [t for t in THEMES if t in unique]
