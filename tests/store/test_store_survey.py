"""Questionnaire answers in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tierslieux.model.survey import SurveyResponse, fingerprint
from tierslieux.store import InvalidValueError, Repositories, UnknownPersonError


def _response(commune: str, statut: str, line: int = 2) -> SurveyResponse:
    answers = {"commune_residence": commune, "statut": statut, "envies": ("proche", "outils")}
    return SurveyResponse(
        commune=commune,
        questionnaire_version="1",
        consent_text="J'accepte",
        consented_at=datetime(2025, 3, 1, 10, tzinfo=UTC),
        answers=answers,
        fingerprint=fingerprint("1", answers),
        source="essai.csv",
        line=line,
    )


def test_add_list_and_forget(store: Repositories) -> None:
    report = store.responses.add_responses(
        [_response("05061", "salarie"), _response("05179", "startup")]
    )
    assert report.added == 2
    assert not report.duplicates
    stored = store.responses.list_responses()
    assert [r.commune for r in stored] == ["05061", "05179"]
    assert stored[0].answers["envies"] == ("proche", "outils")
    assert stored[0].consent_text == "J'accepte"
    assert stored[0].consented_at == datetime(2025, 3, 1, 10, tzinfo=UTC)
    assert {r.id for r in stored} == set(report.ids)
    assert store.responses.forget_respondent(report.ids[0]) == 1
    assert [r.commune for r in store.responses.list_responses()] == ["05179"]
    with pytest.raises(UnknownPersonError, match="Aucun répondant"):
        store.responses.forget_respondent(report.ids[0])


def test_duplicates_are_skipped_or_refuse_everything(store: Repositories) -> None:
    store.responses.add_responses([_response("05061", "salarie")])
    report = store.responses.add_responses(
        [_response("05061", "salarie", line=2), _response("05023", "startup", line=3)]
    )
    assert report.added == 1
    assert [d.line for d in report.duplicates] == [2]
    with pytest.raises(InvalidValueError, match="rien n'a été enregistré"):
        store.responses.add_responses(
            [_response("05046", "associatif", line=2), _response("05061", "salarie", line=3)],
            skip_duplicates=False,
        )
    assert sorted(r.commune for r in store.responses.list_responses()) == ["05023", "05061"]
