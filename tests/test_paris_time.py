"""Times people read are in Paris time (the store keeps UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tierslieux.i18n import format_date, format_datetime, local_time
from tierslieux.reports.templates import environment


def test_winter_and_summer_offsets() -> None:
    assert format_datetime(datetime(2026, 12, 2, 15, 30, tzinfo=UTC)) == "02/12/2026 16:30"
    assert format_datetime(datetime(2026, 7, 1, 22, 5, 9, tzinfo=UTC), seconds=True) == (
        "02/07/2026 00:05:09"
    )


def test_naive_values_are_taken_as_utc() -> None:
    assert local_time(datetime(2026, 1, 1, 23, 30))  # noqa: DTZ001 - naive on purpose.hour == 0
    assert format_date(datetime(2026, 12, 31, 23, 30))  # noqa: DTZ001 == "01/01/2027"


def test_missing_values_and_plain_days() -> None:
    assert format_datetime(None) == ""
    assert format_date(None) == ""
    assert format_date(date(2026, 3, 4)) == "04/03/2026"


def test_template_filters() -> None:
    template = environment().from_string("{{ t | date_heure }} {{ t | date }}")
    assert (
        template.render(t=datetime(2026, 3, 29, 1, 30, tzinfo=UTC)) == "29/03/2026 03:30 29/03/2026"
    )
