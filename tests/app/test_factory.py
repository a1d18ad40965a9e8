"""The bot's parts as built from its settings: the clock it reads (CLOCK_FILE, for rehearsals
and tests), and the sweep lease sized by the sweep interval."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.app.factory import build_context
from bot.config import ConfigError, Settings
from bot.monitor.gateway import make_client
from tests.conftest import TOKEN


def context(tmp_path, **settings):  # type: ignore[no-untyped-def]
    s = Settings(database_url=f"sqlite:///{tmp_path / 'vigil.db'}", **settings)
    return build_context(s, make_client(TOKEN, "http://127.0.0.1:1/api/"))


def test_the_clock_file_moves_every_clock_that_reads_it(tmp_path):
    clock = tmp_path / "now"
    clock.write_text("2026-03-02T09:00:00+00:00")
    ctx = context(tmp_path, clock_file=str(clock))
    assert ctx.clock() == datetime(2026, 3, 2, 9, tzinfo=UTC)
    clock.write_text("2026-03-09T15:00:00+00:00\n")
    assert ctx.clock() == datetime(2026, 3, 9, 15, tzinfo=UTC)
    clock.write_text("next tuesday")
    with pytest.raises(ConfigError, match="CLOCK_FILE"):
        ctx.clock()
    ctx.engine.dispose()


def test_without_a_clock_file_the_bot_reads_the_system_clock(tmp_path):
    ctx = context(tmp_path)
    assert abs((ctx.clock() - datetime.now(UTC)).total_seconds()) < 5
    ctx.engine.dispose()


def test_the_lease_follows_the_sweep_interval(tmp_path):
    assert context(tmp_path, sweep_interval_seconds=300).monitor.lease_seconds == 60
    assert context(tmp_path, sweep_interval_seconds=30).monitor.lease_seconds == 30
