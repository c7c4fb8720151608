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
    values translated too) come in English, a user's own rule (no message) and a user's
    text stay as written; French is unchanged."""
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


def _classified_reasons() -> list[str]:
    import pandas as pd  # noqa: PLC0415

    from tierslieux.analysis.classify import classify, load_rules  # noqa: PLC0415

    structures = pd.DataFrame(
        [
            {
                # A name with « . » (cut like a sentence end); another name that is also
                # a message (« Carte », "Map"): names are data, kept as they are.
                "nom": "S.A. Coopérative d'activité et d'emploi du Buëch",
                "noms_connus": "Carte",
                "source": "sirene",
                "categorie_juridique": "5458",
                "naf": "70.22Z",
                "ess": True,
            },
            {
                "nom": "Tiers-lieu La Grange",
                "source": "sirene",
                "categorie_juridique": "9220",
                "naf": "94.99Z",
            },
        ]
    )
    return [str(r) for r in classify(structures, load_rules())["raison"]]


def test_a_rule_reason_is_shown_in_the_chosen_language_with_its_values() -> None:
    """The sentences of the package's classification rules are messages: a reason stored
    in French is shown in English with the structure's name and codes as they were (a
    rule of two sentences, a name with « S.A. » included); a classification run in
    English writes the same text; French is unchanged."""
    from tierslieux.i18n import gettext, translate_stored  # noqa: PLC0415

    french = _classified_reasons()
    cae, coworking = french
    assert "[cae_nom] Coopérative d'activité et d'emploi : le nom « S.A. Coopérative " in cae
    assert "Une SCOP de conseil ordinaire n'est retenue que si son nom le suggère." in cae
    assert (
        "[asso_coworking_sirene] Association (catégorie juridique 9220) dont le nom "
        "« Tiers-lieu La Grange » évoque" in coworking
    )
    assert [translate_stored(r) for r in french] == french
    with use_language("en"):
        shown = [translate_stored(r) for r in french]
        assert _classified_reasons() == shown
        # a name that is a message stays the name
        stored = gettext("Comité de bassin d'emploi : le nom « {nom} » le dit.", nom="Carte")
    assert stored == 'Employment area committee: the name "Carte" says so.'
    with use_language("en"):
        assert translate_stored(
            "[dev_bassin_emploi] Comité de bassin d'emploi : le nom « Carte » le dit."
        ) == ('[dev_bassin_emploi] Employment area committee: the name "Carte" says so.')
    cae, coworking = shown
    assert cae.startswith(
        "Step 1 of the method. [cae_nom] Activity and employment cooperative: the name "
        "\"S.A. Coopérative d'activité et d'emploi du Buëch (also: Carte)\" contains "
        "\"coopérative d'activité et d'emploi\". [cae_marque_cooperative] Probable activity "
        "and employment cooperative, to be checked: cooperative form (legal category 5458), "
        "activity 70.22Z (consulting"
    )
    assert "An ordinary consulting SCOP is kept only if its name suggests it." in cae
    assert "[theme_ess] Social and solidarity economy enterprise (ESS flag = O)." in cae
    assert cae.endswith("other matching clue(s).")
    assert (
        "[asso_coworking_sirene] Association (legal category 9220) whose name "
        '"Tiers-lieu La Grange" suggests coworking' in coworking
    )


def test_the_sources_reasons_stored_in_french_are_shown_as_an_english_build_writes_them() -> None:
    """A place's reason (a station, a tiers-lieu, a digital inclusion venue, an actor of
    the demonstration) is whole messages: stored in French, it is shown in English as an
    English build would have written it."""
    from importlib import resources  # noqa: PLC0415

    from tierslieux.i18n import translate_stored  # noqa: PLC0415
    from tierslieux.sources import gares, mediation, tiers_lieux  # noqa: PLC0415
    from tierslieux.sources.actors import load_actors  # noqa: PLC0415

    def reasons() -> list[str]:
        both = {mediation._MEDIATION_FRANCE_SERVICES, mediation._MEDIATION_CNFS}
        demo = resources.files("tierslieux") / "data" / "demo" / "acteurs_fictifs.csv"
        with resources.as_file(demo) as path:
            actors, _ = load_actors(path)
        return [
            mediation._mediation_reason(both, from_ftl=True, resolution="plus_proche"),
            mediation._mediation_reason(set(), from_ftl=False, resolution=None),
            gares._gare_reason("A"),
            gares._gare_reason(None),
            tiers_lieux._tiers_lieu_reason(
                "coworking", is_cget=True, source="CGET", vintage="2018"
            ),
            tiers_lieux._tiers_lieu_reason(
                None, is_cget=False, source="France Tiers-Lieux 2023", vintage=None
            ),
            *(str(r) for r in actors["raison"]),
        ]

    french = reasons()
    assert french[2] == (
        "Gare SNCF, gare d'intérêt national (segment DRG A) : point d'appui pour la mobilité "
        "des télétravailleurs et l'accueil d'un tiers-lieu près des trains."
    )
    assert french[1] == "Lieu de médiation numérique : point d'appui pour l'inclusion numérique."
    with use_language("en"):
        english = reasons()
        assert [translate_stored(r) for r in french] == english
    assert english[0].startswith(
        "France Services centre (digital inclusion venue), with a digital adviser, listed by "
        "France Tiers-Lieux: a public base"
    )
    assert english[2].startswith("SNCF railway station, station of national interest (DRG ")
    assert english[5].startswith("Listed tiers-lieu (France Tiers-Lieux 2023): a base")
    assert "FICTITIOUS structure of the demonstration: short supply chains." in english
