"""The monitor's schedule inside the bot: a sweep every `SWEEP_INTERVAL_SECONDS`, and one
soon after any change made from Slack (the nudge)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.commands.context import Context
from bot.commands.home import republish
from bot.monitor.sweep import run_sweep

log = logging.getLogger(__name__)
SWEEP_JOB = "vigil-sweep"


async def sweep_now(ctx: Context) -> None:
    """The scheduled job: one sweep as of the clock. Errors are logged, never raised into
    the scheduler, and the next interval tries again."""
    try:
        report = await run_sweep(ctx.monitor, ctx.clock())
        if report.busy_until is not None:
            _try_again_at(ctx, report.busy_until + timedelta(seconds=1))
        if (report.opened or report.resolved) and ctx.client is not None:
            # Findings changed: the managers' team sections, and the owners' risk order.
            ctx.spawn(republish(ctx, ctx.client, set(ctx.managers)))
        if report.sent or report.opened or report.resolved:
            log.info(
                "sweep: %d opened, %d resolved, %d sent",
                report.opened,
                report.resolved,
                len(report.sent),
            )
    except Exception:
        log.exception("sweep failed; the next one will try again")


def _try_again_at(ctx: Context, at: datetime) -> None:
    """Another sweep holds the lease: try again when it runs out, if that comes before the
    next interval (a replica whose leader died takes over within the lease, not an interval
    later). The lease runs on the wall clock, as the scheduler does."""
    if ctx.reschedule is not None:
        ctx.reschedule(at)


def start_scheduler(ctx: Context) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        sweep_now,
        "interval",
        args=[ctx],
        seconds=ctx.settings.sweep_interval_seconds,
        id=SWEEP_JOB,
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()

    def nudge() -> None:
        # A fix should show as resolved within seconds, not at the next interval.
        job = scheduler.get_job(SWEEP_JOB)
        if job is not None:
            job.modify(next_run_time=datetime.now(UTC) + timedelta(seconds=2))

    def reschedule(at: datetime) -> None:
        job = scheduler.get_job(SWEEP_JOB)
        if job is not None and job.next_run_time is not None and at < job.next_run_time:
            job.modify(next_run_time=at)

    ctx.nudge = nudge
    ctx.reschedule = reschedule
    return scheduler
