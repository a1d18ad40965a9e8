"""Stopping the bot stops everything it started: `python -m bot` in HTTP mode runs a judging
worker and multiprocessing's resource tracker beside it, and neither may outlive it, whether
the bot is stopped by SIGTERM or SIGINT sent to its main process alone (as a process manager
does), or killed outright."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from bot import tasks as service
from bot.db import create_schema, make_engine, transaction
from tests.conftest import MANAGERS, TOKEN


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _processes() -> dict[int, tuple[int, str]]:
    """{pid: (parent pid, state)} for every process, read from /proc."""
    found: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it ended while we looked
        # The command name is in parentheses and may hold spaces: the fields follow the last ")".
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        found[int(entry.name)] = (int(ppid), state)
    return found


def descendants(root: int) -> set[int]:
    procs = _processes()
    found, frontier = set(), {root}
    while frontier:
        children = {pid for pid, (ppid, _) in procs.items() if ppid in frontier}
        frontier = children - found
        found |= children
    return found


def alive(pids: set[int]) -> set[int]:
    """Those still running (a zombie has ended; only its entry waits to be collected)."""
    procs = _processes()
    return {pid for pid in pids if pid in procs and procs[pid][1] != "Z"}


async def until(done, limit: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit
    while not done() and time.monotonic() < deadline:  # noqa: ASYNC110 (another process's exit)
        await asyncio.sleep(0.05)


async def started_bot(standin, tmp_path) -> tuple[asyncio.subprocess.Process, set[int]]:
    """`python -m bot` serving HTTP, after its first sweep (which judged a task in its worker),
    and the processes it started."""
    db = f"sqlite:///{tmp_path / 'vigil.db'}"
    engine = make_engine(db)
    create_schema(engine)
    with transaction(engine) as s:
        service.create_task(s, title="Payroll", creator="UMARCUS", now=datetime.now(UTC))
    engine.dispose()
    port = _free_port()
    env = {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": "s3cret",
        "SLACK_API_URL": standin.url,
        "DATABASE_URL": db,
        "PORT": str(port),
        "MANAGER_CHANNEL": MANAGERS,
        "TEAM_TIMEZONE": "Europe/London",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        env={"PATH": os.environ.get("PATH", ""), **env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await _healthy(port)
        await until(lambda: len(descendants(proc.pid)) >= 2, 5.0)
        return proc, descendants(proc.pid)
    except BaseException:
        await _end(proc)
        raise


async def _end(proc: asyncio.subprocess.Process) -> None:
    """Whatever a failed test left running: the bot and everything it started."""
    for pid in [proc.pid, *descendants(proc.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    await proc.wait()


async def _healthy(port: int) -> None:
    async with aiohttp.ClientSession() as http:
        status = None
        for _ in range(400):  # bounded: start-up and the first sweep take a second or two
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    status = resp.status
                    if status == 200:
                        break
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    assert status == 200


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_to_the_main_process_stops_the_worker_and_the_tracker(
    standin, tmp_path, how
):
    proc, children = await started_bot(standin, tmp_path)
    try:
        assert len(children) >= 2, children  # the judging worker and the resource tracker
        proc.send_signal(how)
        code = await asyncio.wait_for(proc.wait(), 15)
        assert code == 0
        await until(lambda: not alive(children), 5.0)
        assert not alive(children)
    finally:
        await _end(proc)
        for pid in alive(children):
            os.kill(pid, signal.SIGKILL)


async def test_when_the_main_process_is_killed_its_worker_notices_and_exits(standin, tmp_path):
    proc, children = await started_bot(standin, tmp_path)
    try:
        assert len(children) >= 2, children
        proc.kill()
        await proc.wait()
        await until(lambda: not alive(children), 10.0)
        assert not alive(children)
    finally:
        for pid in alive(children):
            os.kill(pid, signal.SIGKILL)
