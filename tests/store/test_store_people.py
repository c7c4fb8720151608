"""Personal data of contact persons: minimal, exportable, erasable (RGPD)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from store_sample import ASSO, CAE

from tierslieux.store import InvalidValueError, Repositories, UnknownPersonError


def test_add_person_validates_its_fields(store: Repositories) -> None:
    person = store.people.add_person(
        CAE,
        name="Marie Dupont",
        role="gérante",
        email="marie@cae.fr",
        consent_basis="intérêt légitime",
    )
    assert (person.consent_basis, person.identifiant) == ("interet_legitime", CAE)
    assert store.contacts.get_contact(CAE).people == (person,)
    with pytest.raises(InvalidValueError, match="base légale inconnue") as caught:
        store.people.add_person(CAE, name="", email="pas-une-adresse", consent_basis="parce que")
    assert "nom de la personne est obligatoire" in str(caught.value)
    assert "adresse e-mail invalide" in str(caught.value)


def test_export_person_data_lists_records_and_mentions(store: Repositories) -> None:
    person = store.people.add_person(
        CAE, name="Marie Dupont", email="marie@cae.fr", consent_basis="consentement"
    )
    store.contacts.add_note(CAE, "Appel avec MARIE DUPONT", author="alice")
    store.contacts.add_note(ASSO, "Sans rapport", author="alice")
    data = store.people.export_person_data("Marie@CAE.fr")
    assert [p["id"] for p in data["personnes"]] == [person.id]
    assert [m["texte"] for m in data["mentions"]] == ["Appel avec MARIE DUPONT"]
    assert store.people.export_person_data(person.id)["personnes"][0]["email"] == "marie@cae.fr"


def test_forget_person_erases_and_scrubs(store: Repositories, tmp_path: Path) -> None:
    person = store.people.add_person(
        CAE,
        name="Marie Dupont",
        email="marie@cae.fr",
        phone="06 12 34 56 78",
        consent_basis="consentement",
    )
    store.people.add_person(ASSO, name="Paul Durand", consent_basis="consentement")
    store.contacts.add_note(CAE, "Appel de Marie Dupont (06 12 34 56 78)", author="alice")
    store.contacts.set_next_action(ASSO, "Écrire à marie@cae.fr", date(2025, 5, 1), author="bob")
    assert store.people.forget_person(str(person.id), author="dpo") == 1
    cae, asso = store.contacts.get_contact(CAE), store.contacts.get_contact(ASSO)
    assert cae.people == ()
    assert [p.name for p in asso.people] == ["Paul Durand"]
    assert cae.history[0].text == "Appel de [donnée effacée] ([donnée effacée])"
    assert asso.next_action == "Écrire à [donnée effacée]"
    assert asso.history[0].new_value == "Écrire à [donnée effacée]"
    for view in (cae, asso):
        erasure = view.history[-1]
        assert (erasure.kind, erasure.author) == ("effacement", "dpo")
        assert "Marie" not in (erasure.text or "")
        assert view.version == len(view.history) + 1
    path = tmp_path / "contacts.csv"
    store.contacts.export_csv(path)
    text = path.read_text(encoding="utf-8")
    assert "Marie" not in text
    assert "marie@cae.fr" not in text
    with pytest.raises(UnknownPersonError, match="Aucune personne"):
        store.people.forget_person(person.id, author="dpo")
