"""`python -m bot.bench.ack`: how fast Vigil acknowledges Slack while a big sweep runs.

Signed slash commands (`/task progress`, `/task list`) and button clicks (progress select) go
to the HTTP app at a steady 100 requests a second for 30 s, from a process of their own (the
Slack stand-in, where the app's replies and Web API calls go, is a third), while the app's
monitor sweeps a
100,000-task database over and over, judging every task each time (a sweep after a change of
settings; between ordinary sweeps only the tasks that changed are judged). The time to the HTTP
answer (the ack) is measured per request, and so is the time until the app's answer reaches
the response URL. The same load then goes, in the same run, to a bare Bolt app that only
acks: the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from sqlalchemy import update

from bot.app.factory import build_app, build_context, start_decide_worker
from bot.app.server import build_web_app, freeze_heap, tune_for_latency
from bot.bench import sweep as bench
from bot.bench.ack_load import SECRET, TOKEN, USER, load
from bot.commands import service
from bot.commands.grammar import Command
from bot.config import Settings
from bot.db import transaction
from bot.models import Task
from bot.monitor.gateway import make_client, slack_session
from bot.monitor.sweep import run_sweep
from bot.slack import ids


def start_standin(port: int) -> subprocess.Popen:
    """`python -m bot standin`, as a process of its own; returns once it listens."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "standin",
            "--port",
            str(port),
            "--user",
            f"{USER}:Europe/London",
            "--user",
            "UP0000:Europe/London",
            "--channel",
            "CMANAGERS",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    ready = proc.stdout.readline() if proc.stdout else ""
    if not ready.startswith("Slack stand-in at"):
        proc.kill()
        raise RuntimeError(f"the stand-in did not start: {ready!r}")
    return proc


# -- the apps ----------------------------------------------------------------------------
def bare_app(api_url: str) -> AsyncApp:
    app = AsyncApp(signing_secret=SECRET, client=make_client(TOKEN, api_url))

    async def just_ack(ack) -> None:
        await ack()

    app.command("/task")(just_ack)
    app.action(ids.matching(ids.ACTION_PROGRESS_SELECT))(just_ack)
    return app


async def serve(web_app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


def run_load(
    port: int, standin: str, task_ids: list[int], rate: int, seconds: int, replies: bool
) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.bench.ack",
            "--load-to",
            f"http://127.0.0.1:{port}/slack/events",
            "--standin",
            standin,
            "--tasks",
            ",".join(map(str, task_ids)),
            "--rate",
            str(rate),
            "--seconds",
            str(seconds),
            *(["--replies"] if replies else []),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _settings(standin_port: int, db: Path) -> Settings:
    return Settings.from_env(
        {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": f"http://127.0.0.1:{standin_port}/api/",
            "DATABASE_URL": f"sqlite:///{db}",
            "MANAGER_CHANNEL": "CMANAGERS",
            "TEAM_TIMEZONE": "Europe/London",
        }
    )


def _context(settings: Settings, client, now):  # type: ignore[no-untyped-def]
    """The app's context as `python -m bot` builds it, judging only, with ten tasks of the
    load's user to click and change."""
    ctx = build_context(settings, client, clock=lambda: now)
    ctx.monitor.gateway = None  # judging only: Slack delivery is not what is measured here
    start_decide_worker(ctx)  # as `python -m bot` does
    task_ids = []
    for n in range(10):
        reply = service.run(ctx, Command("add", title=f"bench {n}", owner=USER, due=None), USER)
        task_ids.append(reply.task_id)
    return ctx, task_ids


async def measure(
    tasks: int, rate: int, seconds: int, workdir: Path, sweeping: bool = True
) -> tuple[dict, dict, int, int]:
    standin_port = bench.free_port()
    standin = f"http://127.0.0.1:{standin_port}"
    db = workdir / "ack.db"
    bench.prepare(tasks, workdir)
    (workdir / f"bench-{tasks}.db").rename(db)
    settings = _settings(standin_port, db)
    tune_for_latency()  # as `python -m bot` does
    http = slack_session()
    client = make_client(TOKEN, settings.slack_api_url, session=http)
    # The synthetic firm's Monday morning (as in `bot.bench.sweep`): mostly healthy tasks, about 1%
    # with a problem. Every sweep judges all of them; the commands happen at the same moment.
    now = bench.START + timedelta(hours=1)
    ctx, task_ids = _context(settings, client, now)

    sweeps = judged = 0
    stop = asyncio.Event()

    async def sweep_storm() -> None:
        nonlocal sweeps, judged
        while not stop.is_set() and sweeping:

            def everything_due() -> None:
                with transaction(ctx.engine) as session:
                    session.execute(update(Task).values(next_check_at=now))

            await asyncio.to_thread(everything_due)
            report = await run_sweep(ctx.monitor, now + timedelta(minutes=sweeps))
            sweeps, judged = sweeps + 1, judged + report.checked

    web_app = build_web_app(build_app(ctx, client), ctx)
    freeze_heap()  # as `python -m bot` does
    runner, port = await serve(web_app)
    standin_proc = start_standin(standin_port)
    storm = asyncio.create_task(sweep_storm())
    await asyncio.sleep(1)  # the first sweep is under way before the load starts
    vigil = await asyncio.to_thread(run_load, port, standin, task_ids, rate, seconds, True)
    stop.set()
    await storm
    await asyncio.gather(*ctx.background, return_exceptions=True)  # App Home republishing
    await runner.cleanup()
    await http.close()
    ctx.monitor.worker.close()
    ctx.engine.dispose()

    runner, port = await serve(bare_app(settings.slack_api_url).web_app(path="/slack/events"))
    bare = await asyncio.to_thread(run_load, port, standin, task_ids, rate, seconds, False)
    await runner.cleanup()
    standin_proc.terminate()
    standin_proc.wait()
    return vigil, bare, sweeps, judged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="100000")
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument(
        "--no-sweep", action="store_true", help="the same load with no sweep running"
    )
    parser.add_argument("--load-to", help=argparse.SUPPRESS)
    parser.add_argument("--standin", help=argparse.SUPPRESS)
    parser.add_argument("--replies", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_to:
        ids_ = [int(x) for x in args.tasks.split(",")]
        print(
            json.dumps(
                asyncio.run(
                    load(
                        args.load_to,
                        args.rate,
                        args.seconds,
                        ids_,
                        args.standin,
                        args.replies,
                    )
                )
            )
        )
        return
    with tempfile.TemporaryDirectory(prefix="vigil-ack-") as tmp:
        vigil, bare, sweeps, judged = asyncio.run(
            measure(int(args.tasks), args.rate, args.seconds, Path(tmp), sweeping=not args.no_sweep)
        )
    print(
        f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d}, load average {os.getloadavg()[0]:.2f} at the end; "
        f"{args.rate} requests/s for {args.seconds} s; {int(args.tasks):,} tasks; "
        f"{sweeps} full sweeps ({judged:,} tasks judged) ran under the Vigil load"
    )
    print("| app | requests | errors | ack p50 | ack p99 | max |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in (
        ("bare Bolt app, ack only (baseline)", bare),
        (f"Vigil, sweeping {int(args.tasks):,} tasks", vigil),
    ):
        print(
            f"| {name} | {r['requests']:,} | {r['errors']} | {r['p50']:.1f} ms "
            f"| {r['p99']:.1f} ms | {r['max']:.1f} ms |"
        )
    print(f"\np99 ratio Vigil / bare: {vigil['p99'] / bare['p99']:.2f}")
    print(
        f"Vigil's answers through the response URL: {vigil['answered']:,} of "
        f"{vigil['requests']:,}, {vigil['failed']} saying something went wrong; "
        f"p50 {vigil['reply_p50']:.0f} ms, p99 {vigil['reply_p99']:.0f} ms after the request"
    )


if __name__ == "__main__":
    main()
