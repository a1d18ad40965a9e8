"""Working time: which days count, and how much of the working day has passed.

Everything inside Vigil is an aware UTC datetime; a calendar converts to the team's (or a
person's) zone only to ask "is this a working day, is it working hours". Working time is
counted in working hours (09:00-18:00 by default) on working days (Monday-Friday minus the
holidays of one country).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib

WEEKEND = (5, 6)


class UnknownHolidays(ValueError):
    """A holiday code the `holidays` package does not know; the message gives examples."""


def parse_holiday_code(code: str) -> str:
    """`GB`, `GB-ENG` or `US-CA`, normalised to upper case: a country, optionally with one of
    its subdivisions. Without one, a country's national holidays only: `GB` alone has no
    Easter Monday or August bank holiday, which are England's and Wales's."""
    code = code.strip().upper()
    country, _, subdiv = code.partition("-")
    supported = holidays_lib.list_supported_countries()
    if country not in supported:
        raise UnknownHolidays(
            f"{code!r} is not a known country code; write a country such as US or GB, "
            "or a country and region such as GB-ENG or US-CA"
        )
    if subdiv and subdiv not in supported[country]:
        raise UnknownHolidays(
            f"{code!r}: {country} has no region {subdiv!r}; "
            f"known: {', '.join(supported[country][:12])}{' ...' if len(supported[country]) > 12 else ''}"
        )
    return code


@lru_cache(maxsize=64)
def _holiday_dates(code: str, year: int) -> frozenset[date]:
    country, _, subdiv = code.partition("-")
    return frozenset(
        holidays_lib.country_holidays(country, subdiv=subdiv or None, years=year).keys()
    )


def _is_working(country: str | None, day: date) -> bool:
    return day.weekday() not in WEEKEND and not (
        country and day in _holiday_dates(country, day.year)
    )


@lru_cache(maxsize=256)
def _year_prefix(country: str | None, year: int) -> tuple[int, ...]:
    """Running count of working days through each day of one year."""
    counts, running, day = [], 0, date(year, 1, 1)
    while day.year == year:
        running += _is_working(country, day)
        counts.append(running)
        day += timedelta(days=1)
    return tuple(counts)


@lru_cache(maxsize=8192)
def _window(timezone: str, day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """A working day's hours as UTC instants (cached: sweeps ask for the same days a lot)."""
    tz = ZoneInfo(timezone)
    return (
        datetime.combine(day, start, tz).astimezone(UTC),
        datetime.combine(day, end, tz).astimezone(UTC),
    )


def _yday(day: date) -> int:
    return day.timetuple().tm_yday - 1


@dataclass(frozen=True)
class WorkCalendar:
    timezone: str = "UTC"
    holiday_country: str | None = None
    day_start: time = time(9, 0)
    day_end: time = time(18, 0)
    tz: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tz", ZoneInfo(self.timezone))
        if self.holiday_country:
            _holiday_dates(self.holiday_country, 2026)  # fail early on an unknown country

    def in_zone(self, timezone: str) -> WorkCalendar:
        """The same working days and hours, seen from another person's time zone."""
        if timezone == self.timezone:
            return self
        return WorkCalendar(timezone, self.holiday_country, self.day_start, self.day_end)

    # -- days ---------------------------------------------------------------------------
    def is_holiday(self, day: date) -> bool:
        return bool(self.holiday_country) and day in _holiday_dates(self.holiday_country, day.year)

    def is_working_day(self, day: date) -> bool:
        return _is_working(self.holiday_country, day)

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    def start_of_day(self, day: date) -> datetime:
        return datetime.combine(day, time(0), self.tz).astimezone(UTC)

    def end_of_day(self, day: date) -> datetime:
        """A deadline given as a date means the end of that day in the team's zone."""
        return self.start_of_day(day + timedelta(days=1))

    def due_day(self, due_at: datetime) -> date:
        """The day a deadline falls on: a date's deadline is the end of that day, which is the
        first instant of the next, so the day is the one just before that instant."""
        return self.local_date(due_at - timedelta(microseconds=1))

    def next_working_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after `day` (n=0: `day` itself). Found by bisecting the
        year's running count, so a sweep pays the same for a week as for a quarter."""
        if n <= 0:
            return day
        country, year = self.holiday_country, day.year
        target = _year_prefix(country, year)[_yday(day)] + n
        while True:
            prefix = _year_prefix(country, year)
            if target <= prefix[-1]:
                return date(year, 1, 1) + timedelta(days=bisect_left(prefix, target))
            target -= prefix[-1]
            year += 1

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many working days have begun after `start`.
        Constant time per year spanned, so that sweeps over long-lived tasks stay cheap."""
        if end <= start:
            return 0
        country = self.holiday_country
        first = _year_prefix(country, start.year)
        if start.year == end.year:
            return _year_prefix(country, end.year)[_yday(end)] - first[_yday(start)]
        total = first[-1] - first[_yday(start)]
        for year in range(start.year + 1, end.year):
            total += _year_prefix(country, year)[-1]
        return total + _year_prefix(country, end.year)[_yday(end)]

    def shift_working_days(self, instant: datetime, n: int) -> datetime:
        """The same local time of day, n working days later (n=0: unchanged)."""
        if n <= 0:
            return instant
        local = instant.astimezone(self.tz)
        day = self.add_working_days(local.date(), n)
        return datetime.combine(day, local.timetz().replace(tzinfo=None), self.tz).astimezone(UTC)

    # -- hours --------------------------------------------------------------------------
    def _window(self, day: date) -> tuple[datetime, datetime]:
        return _window(self.timezone, day, self.day_start, self.day_end)

    def is_working_time(self, instant: datetime) -> bool:
        day = self.local_date(instant)
        if not self.is_working_day(day):
            return False
        start, end = self._window(day)
        return start <= instant < end

    def next_working_time(self, instant: datetime) -> datetime:
        """`instant` if it falls in working hours, else the start of the next working hours."""
        day = self.local_date(instant)
        if self.is_working_day(day):
            start, end = self._window(day)
            if instant < start:
                return start
            if instant < end:
                return instant
        return self._window(self.next_working_day(day))[0]

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Working time between two instants, in seconds."""
        if end <= start:
            return 0.0
        first, last = self.local_date(start), self.local_date(end)
        if first == last:
            return self._seconds_in_day(first, start, end)
        whole_days = self.working_days_between(first, last - timedelta(days=1))
        return (
            self._seconds_in_day(first, start, end)
            + whole_days * self.day_seconds()
            + self._seconds_in_day(last, start, end)
        )

    def _seconds_in_day(self, day: date, start: datetime, end: datetime) -> float:
        if not self.is_working_day(day):
            return 0.0
        lo, hi = self._window(day)
        return max(0.0, (min(hi, end) - max(lo, start)).total_seconds())

    def after_working_seconds(self, start: datetime, seconds: float) -> datetime:
        """The instant at which `seconds` of working time have passed since `start`."""
        day = self.local_date(start)
        remaining = seconds
        if self.is_working_day(day):
            lo, hi = self._window(day)
            lo = max(lo, start)
            if lo < hi:
                span = (hi - lo).total_seconds()
                if remaining <= span:
                    return lo + timedelta(seconds=remaining)
                remaining -= span
        per_day = self.day_seconds()
        # Whole working days in one jump, then the part of the last one.
        whole = int(remaining // per_day)
        if whole and remaining == whole * per_day:
            whole -= 1  # land at the end of the last day, not the start of the one after
        remaining -= whole * per_day
        lo, _ = self._window(self.add_working_days(day, whole + 1))
        return lo + timedelta(seconds=remaining)

    def day_seconds(self) -> float:
        return (
            datetime.combine(date(2000, 1, 1), self.day_end)
            - datetime.combine(date(2000, 1, 1), self.day_start)
        ).total_seconds()
