"""Settings of tierslieux, read once by the interfaces and passed down.

Every field can be set by an environment variable ``TIERSLIEUX_<NAME>`` (for
instance ``TIERSLIEUX_CACHE_DIR``) or by the command-line options that mirror it.
``tests/test_docs.py`` checks that the README documents each one.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tierslieux.i18n import N_
from tierslieux.i18n import gettext as _

__all__ = ["DEFAULT_SURVEY_PURPOSE", "Settings", "default_cache_dir"]

#: The questionnaire's purpose when the installation names none: a catalogue message,
#: recorded in the installation's language (:meth:`Settings.purpose`).
DEFAULT_SURVEY_PURPOSE = N_(
    "Étudier la création d'un tiers-lieu sur le territoire et en réunir la communauté de base."
)

# A DuckDB memory limit: a number and a unit or % (DuckDB syntax: 2GB, 512MB, 1.5GiB, 80%).
_MEMORY_LIMIT = re.compile(r"\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB|%)\s*", re.IGNORECASE)


def default_cache_dir() -> Path:
    """Return the per-user cache folder (XDG convention)."""
    import os  # noqa: PLC0415  (only needed here)

    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tierslieux"


class Settings(BaseSettings):
    """Settings of one run (CLI invocation or web application)."""

    model_config = SettingsConfigDict(env_prefix="TIERSLIEUX_", frozen=True, extra="ignore")

    lang: str = Field(
        default="fr", description="Langue des messages et rapports : fr (défaut) ou en."
    )
    cache_dir: Path = Field(
        default_factory=default_cache_dir,
        description="Dossier du cache des téléchargements et des matrices de temps de trajet.",
    )
    data_dir: Path | None = Field(
        default=None,
        description="Dossier de fichiers déjà téléchargés, lus à la place d'Internet.",
    )
    catalog: Path | None = Field(
        default=None,
        description="Catalogue TOML qui remplace ou complète les adresses officielles connues.",
    )
    offline: bool = Field(
        default=False, description="Interdit tout téléchargement (données locales seulement)."
    )
    catchment_minutes: float = Field(
        default=20.0, gt=0, description="Seuil du bassin de vie de l'étude, en minutes."
    )
    long_commute_minutes: float = Field(
        default=30.0, gt=0, description="Seuil du trajet long domicile-travail, en minutes."
    )
    osrm_url: str | None = Field(
        default=None, description="Adresse d'un serveur OSRM pour les temps de trajet routiers."
    )
    duckdb_memory_limit: str = Field(
        default="2GB",
        description="Mémoire maximale de DuckDB pour les agrégations (au-delà : disque).",
    )

    @field_validator("duckdb_memory_limit")
    @classmethod
    def _check_memory_limit(cls, value: str) -> str:
        """Refuse a memory limit DuckDB would reject later with an obscure error."""
        if not _MEMORY_LIMIT.fullmatch(value) or float(re.sub(r"[^\d.]", "", value)) <= 0:
            raise ValueError(
                _(
                    "TIERSLIEUX_DUCKDB_MEMORY_LIMIT = {value!r} : attendu une quantité de "
                    "mémoire positive avec son unité, par exemple 2GB ou 512MB",
                    value=value,
                )
            )
        return value.strip()

    database_url: str | None = Field(
        default=None,
        description=(
            "Base opérationnelle (SQLAlchemy) ; SQLite dans ~/.local/share/tierslieux par défaut."
        ),
    )
    survey_purpose: str = Field(
        default=DEFAULT_SURVEY_PURPOSE,
        min_length=1,
        description="Finalité du questionnaire, enregistrée avec chaque consentement (RGPD).",
    )

    def purpose(self) -> str:
        """The questionnaire's purpose in the current language: the default one
        translated, one the installation set (``TIERSLIEUX_SURVEY_PURPOSE``) as written."""
        purpose = self.survey_purpose.strip()
        return _(purpose) if purpose == DEFAULT_SURVEY_PURPOSE else purpose

    survey_retention_days: int = Field(
        default=730,
        gt=0,
        description=(
            "Durée de conservation des réponses au questionnaire, en jours après le "
            "consentement (« tierslieux survey purge » efface les plus anciennes)."
        ),
    )
