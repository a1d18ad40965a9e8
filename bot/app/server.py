"""`python -m bot`: the Bolt app served over HTTP (`POST /slack/events`, `GET /healthz`) or
Socket Mode, with the monitor sweeping in-process."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import signal
import sys
from datetime import timedelta

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.async_app import AsyncApp

from bot.app.endpoint import events_handler
from bot.app.factory import build_app, open_context, start_decide_worker
from bot.app.scheduler import start_scheduler
from bot.commands.context import Context
from bot.config import ConfigError, Settings
from bot.db import reading
from bot.models import State
from bot.monitor.delivery import MANAGER_HEALTH
from bot.monitor.gateway import make_client, slack_session
from bot.slack import ids

log = logging.getLogger(__name__)


def tune_for_latency() -> None:
    """Sweeps run in a worker thread beside the event loop that acks Slack. Python hands the
    interpreter between threads every 5 ms by default; 1 ms keeps acks quick while a long
    sweep runs, for a small cost in sweep throughput (see docs/benchmarks.md)."""
    sys.setswitchinterval(0.001)


def freeze_heap() -> None:
    """What is built by now (the libraries, the app, the engine) lives as long as the process.
    Frozen, the garbage collector stops walking it: left in, a full collection took 60 to 70 ms
    here, and every ack waiting behind it waited that long (docs/benchmarks.md)."""
    gc.collect()
    gc.freeze()


def health(ctx: Context) -> tuple[int, dict]:
    """200 with the last completed sweep; 503 when none completed in three intervals."""
    interval = ctx.settings.sweep_interval_seconds
    last = ctx.monitor.last_sweep
    body: dict = {"last_sweep": last.isoformat() if last else None}
    with reading(ctx.engine) as session:
        problem = session.get(State, MANAGER_HEALTH)
        if problem is not None and problem.value:
            body["managers_channel"] = problem.value
    fresh = last is not None and ctx.clock() - last <= timedelta(seconds=3 * interval)
    body["status"] = "ok" if fresh else "no sweep completed in the last three intervals"
    return (200 if fresh else 503), body


def build_web_app(app: AsyncApp, ctx: Context) -> web.Application:
    """`POST /slack/events` (signed requests only) and `GET /healthz`."""
    web_app = web.Application()
    web_app.router.add_post(ids.EVENTS_PATH, events_handler(app, ctx.settings.signing_secret or ""))

    async def healthz(_request: web.Request) -> web.Response:
        status, body = await asyncio.to_thread(health, ctx)
        return web.json_response(body, status=status)

    web_app.router.add_get("/healthz", healthz)
    return web_app


# At a stop, the work in flight (a sweep, the replies that follow acks) gets this long to
# finish before it is cancelled; process managers wait about ten seconds before SIGKILL.
STOP_GRACE_SECONDS = 8.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def serve(settings: Settings, *, host: str = "0.0.0.0") -> None:  # noqa: S104 (a server)
    """`python -m bot`: Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP on $PORT,
    until SIGTERM or SIGINT.

    The port is taken before the monitor starts, so that a bot that cannot listen stops at once
    instead of sweeping (and sending DMs) with no way for Slack to reach it. A stop ends what
    the bot started: no new sweep, no new request, the work in flight finished (or, after
    STOP_GRACE_SECONDS, abandoned: a message is marked sent only after Slack said ok, so an
    abandoned one goes at the next start), then the judging worker."""
    tune_for_latency()
    stop = _stop_on_signals()
    already = asyncio.all_tasks()  # the caller's, not the bot's to wait for at the stop
    session = slack_session()
    client = make_client(settings.bot_token or "", settings.slack_api_url, session=session)
    try:
        ctx = open_context(settings, client)
    except BaseException:
        await session.close()
        _forget_signals()
        raise
    scheduler: AsyncIOScheduler | None = None
    runner: web.AppRunner | None = None
    try:
        app = build_app(ctx, client)
        freeze_heap()
        if not settings.app_token:
            runner = web.AppRunner(build_web_app(app, ctx), shutdown_timeout=STOP_GRACE_SECONDS)
            await runner.setup()
            try:
                await web.TCPSite(runner, host, settings.port).start()
            except OSError as exc:
                raise ConfigError(port_problem(settings.port, exc)) from None
        start_decide_worker(ctx)
        scheduler = start_scheduler(ctx)
        await _run_until(stop, app, client, settings)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if runner is not None:
            await runner.cleanup()  # no new requests; those in flight are answered
        await _finish_in_flight(STOP_GRACE_SECONDS, already)
        if ctx.monitor.worker is not None:
            ctx.monitor.worker.close()
        await session.close()
        ctx.engine.dispose()
        _forget_signals()


async def _run_until(stop: asyncio.Event, app: AsyncApp, client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    if settings.app_token:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        handler = AsyncSocketModeHandler(app, settings.app_token, web_client=client)
        await handler.connect_async()
        log.warning("Vigil is running in Socket Mode")
        try:
            await stop.wait()
        finally:
            await handler.close_async()
    else:
        log.warning(
            "Vigil is listening on port %d (POST %s, GET /healthz)",
            settings.port,
            ids.EVENTS_PATH,
        )
        await stop.wait()
    log.warning("Vigil is stopping")


def _stop_on_signals() -> asyncio.Event:
    """SIGTERM (a process manager) or SIGINT (Ctrl-C) asks for a clean stop, whether it
    reaches the whole process group or the main process alone."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    return stop


def _forget_signals() -> None:
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.remove_signal_handler(sig)


async def _finish_in_flight(grace: float, already: set[asyncio.Task]) -> None:
    """Wait up to `grace` seconds for the bot's other tasks (a sweep, listeners still
    answering, App Home republishing), then cancel what is left."""
    others = asyncio.all_tasks() - already - {asyncio.current_task()}
    if not others:
        return
    _done, pending = await asyncio.wait(others, timeout=grace)
    for task in pending:
        task.cancel()
    if pending:
        log.warning("stopped %d unfinished task(s) after %.0f s", len(pending), grace)
        await asyncio.wait(pending, timeout=1.0)


def port_problem(port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"PORT {port} is already in use; stop what holds it or set PORT to a free port"
    if exc.errno == errno.EACCES:
        return f"PORT {port} needs privileges this process lacks; use a port above 1023"
    return f"PORT {port}: cannot listen ({exc.strerror or exc})"
