"""Campaign answers on SQLite and PostgreSQL: one row per idempotency key, even racing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from tierslieux.model.survey import SurveyResponse
from tierslieux.store import InvitationRefusedError


def _campaign(store):
    now = datetime.now(UTC)
    return store.campaigns.create_campaign(
        project_id=1,
        slug="s" * 24,
        title="Enquête",
        questionnaire_version="1",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=1),
        controller_name="Mairie",
        controller_contact="dpo@exemple.fr",
        purpose="Étudier.",
        retention_months=12,
        invitation_only=False,
        created_by="alice",
    )


def _response(fingerprint: str) -> SurveyResponse:
    return SurveyResponse(
        commune="00101",
        questionnaire_version="1",
        consent_text="texte",
        consented_at=datetime.now(UTC),
        answers={"statut": "salarie"},
        fingerprint=fingerprint,
        source="en ligne",
    )


def test_same_submission_key_racing_stores_one_answer(store) -> None:
    campaign = _campaign(store)

    def send(index: int):
        return store.campaigns.submit(
            campaign.id,
            _response(f"f{index}"),  # different fingerprints: only the key is the same
            submission_key="k" * 64,
            receipt_hash="r" * 64,
            consent_version="campagne-1",
            consent_language="fr",
        )

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(send, range(12)))
    assert len({o.respondent_id for o in outcomes}) == 1
    assert sum(o.created for o in outcomes) == 1
    assert store.campaigns.get_campaign(campaign.id).answers == 1
    stored = store.campaigns.by_receipt(campaign.id, "r" * 64)
    assert (stored.channel, stored.consent_language) == ("en_ligne", "fr")


def test_invitation_is_consumed_with_the_answer(store) -> None:
    campaign = _campaign(store)
    store.campaigns.add_invitations(campaign.id, ["i" * 64], actor="alice")
    assert store.campaigns.invitation_usable(campaign.id, "i" * 64)
    store.campaigns.submit(
        campaign.id,
        _response("a"),
        submission_key="a" * 64,
        receipt_hash="b" * 64,
        consent_version="campagne-1",
        consent_language="en",
        invitation_hash="i" * 64,
    )
    assert not store.campaigns.invitation_usable(campaign.id, "i" * 64)
    with pytest.raises(InvitationRefusedError):
        store.campaigns.submit(
            campaign.id,
            _response("c"),
            submission_key="c" * 64,
            receipt_hash="d" * 64,
            consent_version="campagne-1",
            consent_language="fr",
            invitation_hash="i" * 64,
        )
    assert store.campaigns.get_campaign(campaign.id).answers == 1
    assert store.campaigns.delete_by_receipt(campaign.id, "b" * 64) == 1
    assert store.campaigns.get_campaign(campaign.id).answers == 0
