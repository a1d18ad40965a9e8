"""Reading a card's values: dates in the team's day/month order, times kept, percentages in
the forms the exports write them; anything else refused with what to write instead."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.calendar import WorkCalendar
from bot.importing.card import RawCard, Refused, read_due, read_progress, settle
from tests.conftest import london

LONDON = WorkCalendar("Europe/London")
NEW_YORK = WorkCalendar("America/New_York")


@pytest.mark.parametrize(
    ("raw", "month_first", "expected"),
    [
        ("2026-03-04", False, (LONDON.end_of_day(date(2026, 3, 4)), False)),
        ("04/03/2026", False, (LONDON.end_of_day(date(2026, 3, 4)), False)),
        ("03/04/2026", True, (LONDON.end_of_day(date(2026, 3, 4)), False)),
        ("4.3.26", False, (LONDON.end_of_day(date(2026, 3, 4)), False)),
        ("04/03/2026 17:30", False, (london("2026-03-04T17:30"), True)),
        ("4/Mar/26 5:00 PM", False, (london("2026-03-04T17:00"), True)),  # Jira
        ("2026-03-04T17:00:00.000Z", False, (london("2026-03-04T17:00"), True)),  # Trello
        ("Wednesday, March 4th 2026", False, (LONDON.end_of_day(date(2026, 3, 4)), False)),
        ("1772643600000", False, (london("2026-03-04T17:00"), True)),  # ClickUp (Unix) ms
        (datetime(2026, 3, 4), False, (LONDON.end_of_day(date(2026, 3, 4)), False)),  # a cell
        ("", False, None),
    ],
)
def test_dates_as_the_exports_write_them(raw, month_first, expected):
    assert read_due(raw, LONDON, month_first) == expected


@pytest.mark.parametrize("raw", ["31/31/2026", "next sprint", "2026-02-30", "13/13/13"])
def test_a_date_that_cannot_be_read_is_refused_with_the_form_to_use(raw):
    refused = settle(RawCard("1", "line 2", title="Budget", due=raw), NEW_YORK, True)
    assert isinstance(refused, Refused) and "2026-03-14" in refused.reason


@pytest.mark.parametrize(
    ("raw", "expected"), [("40", 40), ("40%", 40), (0.4, 40), (40.0, 40), ("", None), (None, None)]
)
def test_progress_in_the_forms_the_exports_write(raw, expected):
    assert read_progress(raw) == expected


def test_progress_from_a_checklist_or_the_status():
    half = settle(RawCard("1", "x", title="A", checklist=(1, 2)), LONDON, False)
    done = settle(RawCard("2", "x", title="B", status="Completed"), LONDON, False)
    stuck = settle(RawCard("3", "x", title="C", status="Stuck"), LONDON, False)
    assert (half.progress, half.progress_given) == (50, True)
    assert (done.progress, done.finished) == (100, True)
    assert (stuck.progress, stuck.blocked, stuck.progress_given) == (0, True, False)
