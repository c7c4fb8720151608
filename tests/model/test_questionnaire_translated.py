"""The questionnaire's texts through the translation catalogue (issue 14: English complete)."""

from __future__ import annotations

from tierslieux.i18n import use_language
from tierslieux.model.survey import load_questionnaire, parse_questionnaire

#: Texts that English writes as French does.
SAME_IN_ENGLISH = {"minutes", "euros"}


def _texts(questionnaire) -> list[str]:
    texts = [questionnaire.title, questionnaire.source]
    for q in questionnaire.questions:
        texts += [q.label, q.critere, *([q.unit] if q.unit else [])]
        for option in q.options:
            texts += [option.label, *([option.critere] if option.critere else [])]
    return texts


def test_french_is_the_definition_itself() -> None:
    questionnaire = load_questionnaire()
    assert questionnaire.translated() is questionnaire


def test_every_text_of_the_definition_has_an_english_translation() -> None:
    french = load_questionnaire()
    with use_language("en"):
        english = french.translated()
    untranslated = [
        fr
        for fr, en in zip(_texts(french), _texts(english), strict=True)
        if fr == en and fr not in SAME_IN_ENGLISH
    ]
    assert not untranslated
    assert english.question("statut").label == "What is your employment situation?"


def test_ids_codes_and_bounds_do_not_change_with_the_language() -> None:
    french = load_questionnaire()
    with use_language("en"):
        english = french.translated()
    assert english.version == french.version
    assert english.ids == french.ids
    for fr_q, en_q in zip(french.questions, english.questions, strict=True):
        assert (en_q.type, en_q.codes, en_q.required) == (fr_q.type, fr_q.codes, fr_q.required)
        assert (en_q.minimum, en_q.maximum, en_q.max_length) == (
            fr_q.minimum,
            fr_q.maximum,
            fr_q.max_length,
        )


def test_a_text_not_in_the_catalogue_stays_as_written() -> None:
    own = parse_questionnaire(
        {
            "version": "x",
            "questions": [
                {"id": "q", "type": "text", "label": "Ma question {pas un champ}", "critere": "c"}
            ],
        }
    )
    with use_language("en"):
        assert own.translated().question("q").label == "Ma question {pas un champ}"
