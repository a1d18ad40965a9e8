"""Running an import in a test: the real file, a real database, people found through the
Slack stand-in by the real AsyncWebClient."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from bot.calendar import WorkCalendar
from bot.db import reading
from bot.importing.people import People
from bot.importing.run import Options, prepare, store
from bot.models import Event, Task
from tests.conftest import london

CAL = WorkCalendar("Europe/London", "GB")
NOW = london("2026-01-05T09:00")  # a Monday
FIXTURES = Path(__file__).parents[1] / "fixtures" / "imports"


def eod(day: str):
    """A deadline given as a date: the end of that day in London."""
    return CAL.end_of_day(date.fromisoformat(day))


async def run_import(engine, path, client=None, *, now=NOW, save=True, **options):
    prepared = await prepare(Path(path), engine, CAL, People(client), Options(**options))
    done = None
    if save and prepared.storable:
        done = store(prepared, engine, creator="UMARCUS", now=now)
    return prepared, done


def tasks_by_title(engine) -> dict[str, Task]:
    with reading(engine) as s:
        return {t.title: t for t in s.execute(select(Task)).scalars()}


def events(engine, task_id: int) -> list[Event]:
    with reading(engine) as s:
        return list(
            s.execute(select(Event).where(Event.task_id == task_id).order_by(Event.id)).scalars()
        )
