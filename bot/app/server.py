"""`python -m bot`: the Bolt app served over HTTP (`POST /slack/events`, `GET /healthz`) or
Socket Mode, with the monitor sweeping in-process."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
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


async def serve(settings: Settings, *, host: str = "0.0.0.0") -> None:  # noqa: S104 (a server)
    """`python -m bot`: Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP on $PORT.

    The port is taken before the monitor starts, so that a bot that cannot listen stops at once
    instead of sweeping (and sending DMs) with no way for Slack to reach it."""
    tune_for_latency()
    session = slack_session()
    client = make_client(settings.bot_token or "", settings.slack_api_url, session=session)
    try:
        ctx = open_context(settings, client)
    except BaseException:
        await session.close()
        raise
    scheduler: AsyncIOScheduler | None = None
    runner: web.AppRunner | None = None
    try:
        app = build_app(ctx, client)
        freeze_heap()
        if not settings.app_token:
            runner = web.AppRunner(build_web_app(app, ctx))
            await runner.setup()
            try:
                await web.TCPSite(runner, host, settings.port).start()
            except OSError as exc:
                raise ConfigError(port_problem(settings.port, exc)) from None
        start_decide_worker(ctx)
        scheduler = start_scheduler(ctx)
        if settings.app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            handler = AsyncSocketModeHandler(app, settings.app_token, web_client=client)
            log.warning("Vigil is running in Socket Mode")
            await handler.start_async()
        else:
            log.warning(
                "Vigil is listening on port %d (POST %s, GET /healthz)",
                settings.port,
                ids.EVENTS_PATH,
            )
            await asyncio.Event().wait()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if ctx.monitor.worker is not None:
            ctx.monitor.worker.close()
        if runner is not None:
            await runner.cleanup()
        await session.close()
        ctx.engine.dispose()


def port_problem(port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"PORT {port} is already in use; stop what holds it or set PORT to a free port"
    if exc.errno == errno.EACCES:
        return f"PORT {port} needs privileges this process lacks; use a port above 1023"
    return f"PORT {port}: cannot listen ({exc.strerror or exc})"
