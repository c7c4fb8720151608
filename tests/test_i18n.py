from __future__ import annotations

import pytest

from tierslieux.i18n import format_figure, use_language


@pytest.mark.parametrize(
    ("value", "french", "english"),
    [
        (218.0, "218", "218"),
        (14055.186, "14\u202f055", "14,055"),
        (29.341, "29,3", "29.3"),
        (1.4, "1,4", "1.4"),
        (0.034, "0,034", "0.034"),
        (0.0, "0", "0"),
    ],
)
def test_format_figure_keeps_the_decimals_that_matter(
    value: float, french: str, english: str
) -> None:
    assert format_figure(value) == french
    with use_language("en"):
        assert format_figure(value) == english


def test_a_stored_french_text_is_translated_sentence_by_sentence() -> None:
    """A directory's reason, written in French by a run: the catalogue's sentences (their
    values translated too) come in English, a rule of the classification table (no
    message) and a user's text stay as written; French is unchanged."""
    from tierslieux.i18n import gettext, translate_stored  # noqa: PLC0415
    from tierslieux.model.structures import category_labels  # noqa: PLC0415

    reason = " ".join(
        [
            gettext("Étape {step} de la méthode.", step=1),
            "[cae_nom] Coopérative d'activité et d'emploi : le nom « Coop {x} » le dit.",
            gettext("Score {score}/100 : règle {rule}.", score=95, rule="cae_nom"),
        ]
    )
    assert translate_stored(reason) == reason
    with use_language("en"):
        assert translate_stored(reason) == (
            "Step 1 of the method. [cae_nom] Coopérative d'activité et d'emploi : le nom "
            "« Coop {x} » le dit. Score 95/100: rule cae_nom."
        )
        assert translate_stored("Une note libre.") == "Une note libre."
        assert translate_stored("") == ""
    # a category's label as a value of a sentence
    french = category_labels()["cae"]
    actor = gettext("Acteur signalé par l'équipe du projet : {label}.", label=french)
    with use_language("en"):
        assert translate_stored(actor) == (
            f"Actor reported by the project team: {category_labels()['cae']}."
        )
