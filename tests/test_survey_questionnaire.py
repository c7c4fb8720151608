"""The questionnaire definition: packaged version, study criteria, validation."""

from __future__ import annotations

import pytest

from tierslieux.errors import SchemaError
from tierslieux.model.survey import (
    CURRENT_VERSION,
    QUESTION_TYPES,
    fingerprint,
    load_questionnaire,
    parse_questionnaire,
)


def test_packaged_questionnaire_covers_the_study_criteria() -> None:
    questionnaire = load_questionnaire()
    assert questionnaire.version == CURRENT_VERSION
    assert {q.type for q in questionnaire.questions} == set(QUESTION_TYPES)
    for question in questionnaire.questions:
        assert question.critere, question.id
        assert question.label, question.id
    wishes = questionnaire.question("envies")
    assert wishes.codes == ("proche", "flexible", "moins_cher", "outils", "convivial", "rencontres")
    assert all(option.critere for option in wishes.options)
    assert set(questionnaire.question("vie_quotidienne").codes) == {
        "enfants",
        "circuits_courts",
        "loisirs_culture",
    }
    assert len(questionnaire.question("partages").codes) == 8
    travel = questionnaire.question("temps_trajet")
    assert (travel.minimum, travel.maximum) == (0.0, 300.0)
    assert "30 minutes" in travel.critere
    assert questionnaire.question("commune_residence").required
    assert not questionnaire.question("sexe").required
    assert questionnaire.consent is not None
    assert questionnaire.consent.required


def test_invalid_definition_lists_every_problem() -> None:
    data = {
        "questions": [
            {"id": "a", "type": "choice", "label": "A ?", "critere": "x"},
            {"id": "a", "type": "slider", "label": "B ?"},
        ]
    }
    with pytest.raises(SchemaError) as caught:
        parse_questionnaire(data, where="essai.yaml")
    message = str(caught.value)
    assert "version manquante" in message
    assert "question a : options manquantes" in message
    assert "type « slider » inconnu" in message
    assert "critère de l'étude manquant" in message


def test_fingerprint_depends_on_answers_and_submission() -> None:
    answers = {"statut": "salarie", "envies": ("proche",)}
    assert fingerprint("1", answers) == fingerprint("1", dict(reversed(answers.items())))
    assert fingerprint("1", answers) != fingerprint("1", answers, "2025-03-01 10:00")
    assert fingerprint("1", answers) != fingerprint("1", {"statut": "independant"})
