from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.calendar import UnknownHolidays, WorkCalendar, parse_holiday_code

LONDON = WorkCalendar("Europe/London", "GB")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 1, 5), date(2026, 1, 9), 4),  # Mon -> Fri: Tue..Fri
        (date(2026, 1, 9), date(2026, 1, 12), 1),  # Fri -> Mon: the weekend does not count
        (date(2026, 4, 2), date(2026, 4, 7), 2),  # Good Friday (GB-wide; Easter Monday is not)
        (date(2026, 12, 24), date(2027, 1, 4), 4),  # Christmas, Boxing Day (Mon 28), New Year
        (date(2026, 1, 5), date(2026, 1, 5), 0),
    ],
)
def test_working_days_between_skips_weekends_and_holidays(start, end, expected):
    assert LONDON.working_days_between(start, end) == expected


def test_deadline_is_the_end_of_the_day_in_the_team_zone():
    ny = WorkCalendar("America/New_York")
    assert ny.end_of_day(date(2026, 1, 30)) == at("2026-01-31T05:00")


def test_working_hours_follow_the_zone_across_summer_time():
    # 09:00 in London is 08:00 UTC in summer and 09:00 UTC in winter.
    assert LONDON.next_working_time(at("2026-07-01T07:00")) == at("2026-07-01T08:00")
    assert LONDON.next_working_time(at("2026-01-06T07:00")) == at("2026-01-06T09:00")
    # Friday evening waits for Monday morning.
    assert LONDON.next_working_time(at("2026-01-09T18:30")) == at("2026-01-12T09:00")


def test_working_seconds_count_only_working_hours():
    # Monday 09:00 to Wednesday 09:00 = two 9-hour days.
    assert LONDON.working_seconds(at("2026-01-05T09:00"), at("2026-01-07T09:00")) == 18 * 3600
    # Across a weekend: Friday 17:00 to Monday 10:00 = 1 h + 1 h.
    assert LONDON.working_seconds(at("2026-01-09T17:00"), at("2026-01-12T10:00")) == 2 * 3600


def _naive_working_days(cal: WorkCalendar, start: date, end: date) -> int:
    return sum(
        1
        for n in range(1, (end - start).days + 1)
        if cal.is_working_day(date.fromordinal(start.toordinal() + n))
    )


@given(
    st.dates(min_value=date(2024, 1, 1), max_value=date(2029, 12, 31)),
    st.integers(min_value=0, max_value=800),
)
def test_fast_working_day_count_matches_counting_day_by_day(start, span):
    end = date.fromordinal(start.toordinal() + span)
    assert LONDON.working_days_between(start, end) == _naive_working_days(LONDON, start, end)


@given(
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
    st.integers(min_value=0, max_value=200 * 3600),
)
def test_after_working_seconds_inverts_working_seconds(start, seconds):
    start = start.replace(tzinfo=UTC)
    end = LONDON.after_working_seconds(start, seconds)
    assert LONDON.working_seconds(start, end) == pytest.approx(seconds, abs=1e-3)


def test_a_region_adds_its_own_holidays_to_the_nations():
    # Easter Monday and the August bank holiday are England's, not the whole UK's.
    england = WorkCalendar("Europe/London", "GB-ENG")
    assert LONDON.is_working_day(date(2026, 4, 6))
    assert not england.is_working_day(date(2026, 4, 6))
    assert not england.is_working_day(date(2026, 8, 31))
    assert not england.is_working_day(date(2026, 4, 3))  # Good Friday, nationwide


@pytest.mark.parametrize(
    ("code", "says"),
    [("XX", "not a known country"), ("GB-XYZ", "no region"), ("US-ZZ", "no region")],
)
def test_an_unknown_holiday_code_says_how_to_write_one(code, says):
    with pytest.raises(UnknownHolidays, match=says):
        parse_holiday_code(code)
    assert parse_holiday_code(" gb-eng ") == "GB-ENG"
