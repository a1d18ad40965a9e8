"""Judging tasks in a process of its own.

A sweep's deciding step is CPU work in Python. In the bot's own process it competes with the
event loop that acknowledges Slack for the interpreter; in a worker process it competes for
nothing but a core. The worker opens its own engine on the same database (SQLite in WAL mode
and PostgreSQL both serve several processes) and returns what it counted; the lease, delivery
and everything else stay in the bot.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from bot.calendar import WorkCalendar
from bot.monitor.policy import Policy


@dataclass(frozen=True)
class WorkerSpec:
    database_url: str
    cal: WorkCalendar
    policy: Policy
    page_size: int


_MONITOR = None  # the worker process's own monitor, built once


def _init(spec: WorkerSpec) -> None:
    global _MONITOR
    from bot.db import make_engine
    from bot.monitor.monitor import Monitor

    _MONITOR = Monitor(
        engine=make_engine(spec.database_url),
        cal=spec.cal,
        policy=spec.policy,
        page_size=spec.page_size,
        settings_checked=True,  # the bot's own process checks the settings fingerprint
    )


def _decide(now: datetime) -> tuple[int, int, int]:
    from bot.monitor.sweep import SweepReport, _decide_and_commit

    report = SweepReport(now=now)
    _decide_and_commit(now, _MONITOR, report)
    return report.checked, report.opened, report.resolved


class DecideWorker:
    def __init__(self, spec: WorkerSpec) -> None:
        # "spawn": a clean interpreter, not a copy of the bot's sockets and event loop.
        self.pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init,
            initargs=(spec,),
        )

    async def decide(self, now: datetime) -> tuple[int, int, int]:
        return await asyncio.wrap_future(self.pool.submit(_decide, now))

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
