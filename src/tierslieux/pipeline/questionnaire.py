"""The questionnaire as a document: shown, printed or loaded into a survey tool.

``tierslieux survey show`` and ``tierslieux survey questionnaire`` read the
questionnaire definition (the packaged version, or a file given with
``--questionnaire``) together with what a respondent must be told before answering:
the purpose of the survey and how long answers are kept (RGPD, from the settings).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tierslieux.errors import SourceError
from tierslieux.i18n import gettext as _
from tierslieux.model.survey import CURRENT_VERSION, Questionnaire, load_questionnaire

if TYPE_CHECKING:
    from tierslieux.config import Settings

__all__ = ["QuestionnaireDocument", "questionnaire_document"]


@dataclass(frozen=True, slots=True)
class QuestionnaireDocument:
    """A questionnaire and its RGPD notice.

    ``purpose`` is the purpose recorded with each consent and ``retention_days`` how
    many days answers are kept after it (``survey_purpose`` and
    ``survey_retention_days`` of the settings); ``where`` names the definition read
    (a path, or ``questionnaire_v1`` for the packaged one).
    """

    questionnaire: Questionnaire
    purpose: str
    retention_days: int
    where: str

    def translated(self) -> QuestionnaireDocument:
        """The document with its questionnaire in the current language, for display
        (:meth:`~tierslieux.model.survey.Questionnaire.translated`)."""
        return replace(self, questionnaire=self.questionnaire.translated())


def questionnaire_document(settings: Settings, path: Path | None = None) -> QuestionnaireDocument:
    """Read the questionnaire ``path`` (default: the packaged current version).

    Raises
    ------
    SourceError
        When the file is missing or unreadable.
    SchemaError
        When it is not a valid questionnaire (every problem listed).
    """
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise SourceError(
                _("Fichier {role} introuvable : {path}.", role="questionnaire", path=path)
            )
    try:
        questionnaire = load_questionnaire(path)
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(
            _(
                "Le fichier {role} {path} est illisible ({error}).",
                role="questionnaire",
                path=path,
                error=error,
            )
        ) from error
    return QuestionnaireDocument(
        questionnaire=questionnaire,
        purpose=settings.purpose(),
        retention_days=settings.survey_retention_days,
        where=str(path) if path is not None else f"questionnaire_v{CURRENT_VERSION}",
    )
