"""Contact records: statuses, notes, next actions, owners, history, stale writes."""

from __future__ import annotations

from datetime import date

import pytest
from store_sample import ASSO, CAE, PARC, STRUCTURES

from tierslieux.store import (
    ImportRejectedError,
    InvalidValueError,
    Repositories,
    StaleWriteError,
    UnknownStatusError,
    UnknownStructureError,
    parse_status,
)


def test_upsert_is_idempotent_and_updates_changes(store: Repositories) -> None:
    report = store.structures.upsert_structures(STRUCTURES)
    assert (report.inserted, report.updated, report.unchanged) == (0, 0, 3)
    renamed = [{**STRUCTURES[0], "nom": "CAE des Alpes du Sud"}, *STRUCTURES[1:]]
    report = store.structures.upsert_structures(renamed)
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 2)
    assert store.contacts.get_contact(CAE).nom == "CAE des Alpes du Sud"


def test_upsert_keeps_the_contact_record_of_an_updated_structure(store: Repositories) -> None:
    store.contacts.set_status(CAE, "interesse", author="alice")
    store.structures.upsert_structures([{**STRUCTURES[0], "code_commune": "05023"}])
    view = store.contacts.get_contact(CAE)
    assert (view.status, view.code_commune, len(view.history)) == ("interesse", "05023", 1)


def test_upsert_rejects_rows_without_identifier_and_writes_nothing(store: Repositories) -> None:
    rows = [{"identifiant": "siret:999", "nom": "Nouvelle"}, {"identifiant": "", "nom": "X"}]
    with pytest.raises(ImportRejectedError, match="ligne 3"):
        store.structures.upsert_structures(rows)
    with pytest.raises(UnknownStructureError):
        store.contacts.get_contact("siret:999")


def test_new_structure_starts_to_contact(store: Repositories) -> None:
    view = store.contacts.get_contact(ASSO)
    assert (view.status, view.status_label, view.version) == ("a_contacter", "à contacter", 1)
    assert view.history == ()
    assert view.updated_at is None


def test_statuses_accept_codes_and_french_labels() -> None:
    assert parse_status("Pas intéressé") == "pas_interesse"
    assert parse_status("à contacter") == "a_contacter"
    assert parse_status("CONTACTE") == "contacte"
    with pytest.raises(UnknownStatusError, match="Statut inconnu : « fini »"):
        parse_status("fini")


def test_unknown_status_and_structure_are_refused(store: Repositories) -> None:
    with pytest.raises(UnknownStatusError):
        store.contacts.set_status(CAE, "fini", author="alice")
    with pytest.raises(UnknownStructureError, match="Structure inconnue : « siret:0 »"):
        store.contacts.set_status("siret:0", "contacte", author="alice")
    with pytest.raises(UnknownStructureError):
        store.contacts.get_contact("siret:0")
    assert store.contacts.get_contact(CAE).version == 1


def test_history_is_never_overwritten(store: Repositories) -> None:
    first = store.contacts.set_status(CAE, "contacte", author="alice", note="Premier appel")
    store.contacts.add_note(CAE, "Rendez-vous pris", author="bob")
    store.contacts.set_status(CAE, "interesse", author="bob")
    store.contacts.set_next_action(CAE, "Envoyer la plaquette", date(2025, 6, 2), author="bob")
    store.contacts.set_owner(CAE, "Claire", author="alice")
    last = store.contacts.set_status(CAE, "partenaire", author="claire")
    history = last.history
    assert [event.kind for event in history] == [
        "statut",
        "note",
        "statut",
        "prochaine_action",
        "responsable",
        "statut",
    ]
    assert history[0] == first.history[0]
    assert [event.version for event in history] == [2, 3, 4, 5, 6, 7]
    assert (history[0].old_value, history[0].new_value, history[0].text) == (
        "a_contacter",
        "contacte",
        "Premier appel",
    )
    assert (history[2].old_value, history[2].new_value) == ("contacte", "interesse")
    assert history[3].new_date == date(2025, 6, 2)
    assert all(event.occurred_at.tzinfo is not None for event in history)
    assert len({event.uuid for event in history}) == 6
    assert (last.status, last.owner, last.version) == ("partenaire", "Claire", 7)
    assert (last.next_action, last.next_action_date) == ("Envoyer la plaquette", date(2025, 6, 2))
    assert last.updated_by == "claire"


def test_unchanged_values_write_nothing(store: Repositories) -> None:
    store.contacts.set_status(CAE, "contacte", author="alice")
    view = store.contacts.set_status(CAE, "contacté", author="alice")
    assert view.version == 2
    view = store.contacts.set_status(CAE, "contacte", author="alice", note="Relancé")
    assert view.version == 3
    assert store.contacts.set_owner(CAE, None, author="alice").version == 3


def test_stale_write_is_refused_with_who_and_when(store: Repositories) -> None:
    seen = store.contacts.get_contact(CAE)
    store.contacts.set_status(CAE, "contacte", author="Bob", expected_version=seen.version)
    with pytest.raises(StaleWriteError, match=r"modifiée par Bob le .* rechargez") as caught:
        store.contacts.set_status(
            CAE, "pas_interesse", author="Alice", expected_version=seen.version
        )
    assert (caught.value.expected_version, caught.value.current_version) == (1, 2)
    assert caught.value.changed_by == "Bob"
    view = store.contacts.get_contact(CAE)
    assert (view.status, view.version, len(view.history)) == ("contacte", 2, 1)
    with pytest.raises(StaleWriteError):
        store.contacts.add_note(CAE, "trop tard", author="Alice", expected_version=1)
    assert store.contacts.add_note(CAE, "à jour", author="Alice", expected_version=2).version == 3


def test_empty_author_or_note_is_refused(store: Repositories) -> None:
    with pytest.raises(InvalidValueError, match="auteur"):
        store.contacts.add_note(CAE, "texte", author="  ")
    with pytest.raises(InvalidValueError, match="note est vide"):
        store.contacts.add_note(CAE, " ", author="alice")


def test_list_filters(store: Repositories) -> None:
    store.contacts.set_status(CAE, "interesse", author="alice")
    store.contacts.set_owner(CAE, "alice", author="alice")
    store.contacts.set_next_action(ASSO, "Rappeler", date(2025, 3, 1), author="bob")
    store.contacts.set_next_action(PARC, "Réunion", date(2025, 9, 1), author="bob")
    assert [v.identifiant for v in store.contacts.list_contacts(status="intéressé")] == [CAE]
    assert [v.identifiant for v in store.contacts.list_contacts(owner="alice")] == [CAE]
    assert {v.identifiant for v in store.contacts.list_contacts(commune="05063")} == {ASSO, PARC}
    due = store.contacts.list_contacts(due_before=date(2025, 3, 1))
    assert [v.identifiant for v in due] == [ASSO]
    assert len(store.contacts.list_contacts()) == 3
    assert all(v.history == () for v in store.contacts.list_contacts())
    detailed = store.contacts.list_contacts(status="interesse", details=True)
    assert len(detailed[0].history) == 2
    with pytest.raises(UnknownStatusError):
        store.contacts.list_contacts(status="bof")


def test_next_action_can_be_cleared(store: Repositories) -> None:
    store.contacts.set_next_action(CAE, "Rappeler", date(2025, 3, 1), author="bob")
    view = store.contacts.set_next_action(CAE, None, None, author="bob")
    assert (view.next_action, view.next_action_date, view.version) == (None, None, 3)
    assert view.history[-1].old_value == "Rappeler"


def test_lists_sort_names_as_a_french_dictionary(store: Repositories) -> None:
    """Case and accents ignored: « abeille » before « Écart » before « Zèbre » (the
    database's binary order put every capital first, « abeille » after « Zèbre »)."""
    rows = [
        {**STRUCTURES[0], "identifiant": f"acteur:{ident}", "nom": name}
        for ident, name in (("z", "Zèbre"), ("a", "abeille"), ("e", "Écart"), ("o", "Œuvre"))
    ]
    store.structures.upsert_structures(rows)
    store.contacts.set_owner("acteur:z", "zoé", author="alice")
    store.contacts.set_owner("acteur:a", "Émile", author="alice")
    store.contacts.set_owner("acteur:e", "Bruno", author="alice")
    expected = [
        "abeille",
        "Coopérative d'activité Alpes",
        "Écart",
        "Les Télé-actifs du Queyras",
        "Œuvre",
        "Parc naturel régional du Queyras",
        "Zèbre",
    ]
    assert [v.nom for v in store.contacts.list_contacts()] == expected
    among = {v.identifiant for v in store.contacts.list_contacts()}
    total, page = store.contacts.contacts_page(among, offset=0, limit=3)
    assert total == 7
    assert [v.nom for v in page] == expected[:3]
    assert [v.nom for v in store.contacts.contacts_page(among, offset=3, limit=3)[1]] == (
        expected[3:6]
    )
    assert store.contacts.contacts_overview(among)[1] == ["Bruno", "Émile", "zoé"]
