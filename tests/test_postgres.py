"""Several replicas on one PostgreSQL database: one sweep at a time, each message sent once,
and a Slack retry that races its first attempt still makes one task. Skipped unless
VIGIL_TEST_POSTGRES_URL names a database (`.ci/run` gives it one); the rest of the suite also
runs its database tests on PostgreSQL then."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

from sqlalchemy import func, select

from bot import tasks as taskops
from bot.calendar import WorkCalendar
from bot.commands import service
from bot.commands.grammar import Command
from bot.db import create_schema, make_engine, transaction
from bot.models import Notification, Task
from bot.monitor.gateway import SlackGateway, make_client
from bot.monitor.monitor import Monitor
from bot.monitor.sweep import run_sweep
from bot.standin.wire import SlackWire
from tests.conftest import MANAGERS, TOKEN, london, needs_postgres, postgres_database

pytestmark = needs_postgres
START = london("2026-01-05T09:00")


async def _no_sleep(_seconds: float) -> None:
    await asyncio.sleep(0)


def replica(url: str, standin) -> Monitor:  # type: ignore[no-untyped-def]
    """One bot process: its own engine, its own Slack client."""
    return Monitor(
        engine=make_engine(url),
        cal=WorkCalendar("Europe/London", "GB"),
        gateway=SlackGateway(make_client(TOKEN, standin.url)),
        manager_channel=MANAGERS,
        sleep=_no_sleep,
    )


async def test_two_replicas_sweeping_at_once_send_each_message_once(standin):
    with postgres_database() as url:
        a, b = replica(url, standin), replica(url, standin)
        create_schema(a.engine)
        with transaction(a.engine) as s:
            for n in range(40):  # forty stalls, half of them without an owner
                task = taskops.create_task(
                    s,
                    title=f"Filing {n}",
                    creator="UMARCUS",
                    owner="UDANA" if n % 2 else None,
                    due_at=london("2026-02-27T00:00"),
                    now=START,
                )
                taskops.set_progress(s, task.id, 40, by="UMARCUS", now=START)

        skipped = 0
        for day in range(10):  # two working weeks, both replicas at every sweep
            now = START + timedelta(days=day, minutes=30)
            for report in await asyncio.gather(run_sweep(a, now), run_sweep(b, now)):
                skipped += report.skipped is not None
        assert skipped > 0  # they did meet, and one waited its turn

        with transaction(a.engine) as s:
            sent = dict(
                s.execute(
                    select(Notification.kind, func.count())
                    .where(Notification.status == "sent")
                    .group_by(Notification.kind)
                ).all()
            )
        posts = len(standin.calls_to("chat.postMessage"))
        edits = len(standin.calls_to("chat.update"))
        # Forty tasks, each one case: Dana's twenty in DMs to her and the creator's twenty in
        # DMs to Marcus, a few DMs each (the cases due at once share one); the managers' digest
        # once a working day. Slack saw exactly what the log says was sent: nothing twice.
        assert sent["reminder"] <= 4  # two people, at most two reminders each, batched
        assert sent["dm"] == 2  # Dana's twenty cases in one DM, Marcus's twenty in another
        assert 1 <= sent["digest"] <= 8  # at most one a working day
        assert posts == sum(n for k, n in sent.items() if k != "edit")
        assert edits == sent.get("edit", 0)
        for m in (a, b):
            m.engine.dispose()


async def test_a_retry_racing_its_first_attempt_makes_one_task(standin):
    """PostgreSQL does not serialize writers up front: the retry finds no task yet, tries to
    make one, waits on the first attempt's key, and answers with the task the first made."""
    with postgres_database() as url:
        wire = SlackWire(standin, url, START)
        await wire.start()
        try:
            ctx, cmd = wire.ctx, Command("add", title="Q3 filing", owner="UDANA")
            answers: list[str] = []
            with transaction(ctx.engine) as first:  # the first attempt, not yet committed
                taskops.create_task(
                    first, title="Q3 filing", creator="UMARCUS", now=START, source_key="command:T1"
                )
                first.flush()
                retry = threading.Thread(
                    target=lambda: answers.append(
                        service.run(ctx, cmd, "UMARCUS", key="command:T1").text
                    )
                )
                retry.start()
                retry.join(timeout=1)
                assert retry.is_alive()  # waiting on the first attempt's key
            retry.join(timeout=10)
            assert answers == ["Already created #1 Q3 filing"]
            with transaction(ctx.engine) as s:
                assert s.execute(select(func.count()).select_from(Task)).scalar_one() == 1
        finally:
            await wire.stop()
