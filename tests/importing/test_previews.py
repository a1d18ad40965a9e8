"""Exports waiting for their preview's button, in the database: taken once, by the one who
uploaded it, within half an hour; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.db import reading
from bot.importing import previews
from bot.models import ImportPreview
from tests.importing.helpers import NOW

CSV = b"title,owner\nBudget,UDANA\n"


def kept(engine) -> int:
    with reading(engine) as s:
        return s.scalar(select(func.count()).select_from(ImportPreview))


def test_the_uploader_takes_it_once(engine):
    key = previews.keep(engine, user="UMARCUS", name="board.csv", content=CSV, now=NOW)
    assert previews.take(engine, key, user="UMARCUS", now=NOW) == ("board.csv", CSV)
    assert previews.take(engine, key, user="UMARCUS", now=NOW) is None  # a second click
    assert kept(engine) == 0


def test_someone_else_cannot_take_it_and_the_uploader_still_can(engine):
    key = previews.keep(engine, user="UMARCUS", name="board.csv", content=CSV, now=NOW)
    assert previews.take(engine, key, user="UOTHER", now=NOW) is None
    assert previews.take(engine, key, user="UMARCUS", now=NOW) == ("board.csv", CSV)


def test_after_half_an_hour_it_is_gone_and_cleared_when_the_next_comes(engine):
    old = previews.keep(engine, user="UMARCUS", name="old.csv", content=CSV, now=NOW)
    just_in_time = previews.keep(engine, user="UMARCUS", name="b.csv", content=CSV, now=NOW)
    assert previews.take(engine, just_in_time, user="UMARCUS", now=NOW + previews.KEEP)
    late = NOW + previews.KEEP + timedelta(seconds=1)
    previews.keep(engine, user="UMARCUS", name="new.csv", content=CSV, now=late)
    assert kept(engine) == 1  # the old one went when the new one came
    assert previews.take(engine, old, user="UMARCUS", now=late) is None
