"""Judging tasks in a process of its own.

A sweep's deciding step is CPU work in Python. In the bot's own process it competes with the
event loop that acknowledges Slack for the interpreter; in a worker process it competes for
nothing but a core. The worker opens its own engine on the same database (SQLite in WAL mode
and PostgreSQL both serve several processes) and returns what it counted; the lease, delivery
and everything else stay in the bot.

The worker ends with the bot: the bot closes it when it stops, and a worker whose bot died
without closing it (SIGKILL, a crash) notices within a second and exits, rather than waiting
for work forever with multiprocessing's resource tracker beside it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from bot.calendar import WorkCalendar
from bot.db import RightOfWay
from bot.monitor.policy import Policy


@dataclass(frozen=True)
class WorkerSpec:
    database_url: str
    cal: WorkCalendar
    policy: Policy
    page_size: int
    way: RightOfWay | None = None  # on SQLite, the worker's writes give way to the bot's


_MONITOR = None  # the worker process's own monitor, built once


PARENT_CHECK_SECONDS = 0.5


def _exit_with(parent: int) -> None:
    """Exit when the bot that started this worker is gone: its orphan is adopted by another
    process, so the parent id changes."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)  # nothing to save: a page judged halfway rolls back with its transaction


def _init(spec: WorkerSpec) -> None:
    global _MONITOR
    # Ctrl-C in a terminal reaches the whole process group: the bot decides when its worker
    # stops, not the keyboard.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
    from bot.db import make_engine
    from bot.monitor.monitor import Monitor

    engine = make_engine(spec.database_url)
    if spec.way is not None:
        spec.way.gives_way(engine)
    _MONITOR = Monitor(
        engine=engine,
        cal=spec.cal,
        policy=spec.policy,
        page_size=spec.page_size,
        settings_checked=True,  # the bot's own process checks the settings fingerprint
    )


def _decide(now: datetime) -> tuple[int, int, int]:
    from bot.monitor.judging import decide_and_commit
    from bot.monitor.sweep_report import SweepReport

    report = SweepReport(now=now)
    decide_and_commit(now, _MONITOR, report)
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

    def close(self, grace: float = 5.0) -> None:
        """Stop the worker: a page being judged gets `grace` seconds to finish, then the
        worker is ended (its transaction rolls back; the next sweep judges that page)."""
        processes = list((self.pool._processes or {}).values())  # the pool's only handle on them
        self.pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + grace
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.terminate()
                process.join(1.0)
