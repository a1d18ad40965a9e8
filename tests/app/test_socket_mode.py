"""Socket Mode: the app opens a connection through `apps.connections.open`, receives
envelopes over a WebSocket from the stand-in, and acknowledges each one."""

from __future__ import annotations

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from sqlalchemy import func, select

from bot.app.factory import build_app, build_context
from bot.config import Settings
from bot.db import transaction
from bot.models import Task
from bot.monitor.gateway import make_client, slack_session
from bot.standin.wire import settle
from tests.conftest import MANAGERS, TOKEN, FakeClock, london


async def test_slash_command_over_socket_mode_is_acked_and_answered(standin, tmp_path, clock):
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_APP_TOKEN": "xapp-standin",
            "SLACK_API_URL": standin.url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'socket.db'}",
            "MANAGER_CHANNEL": MANAGERS,
            "TEAM_TIMEZONE": "Europe/London",
        }
    )
    http = slack_session()
    client = make_client(TOKEN, standin.url, session=http)
    ctx = build_context(settings, client, clock=clock)
    handler = AsyncSocketModeHandler(build_app(ctx, client), settings.app_token, web_client=client)
    await handler.connect_async()
    try:
        await settle(lambda: standin.socket_connected)
        assert standin.calls_to("apps.connections.open")
        envelope = await standin.send_envelope(
            "slash_commands",
            {
                "command": "/task",
                "text": "add Q3 filing <@UDANA|dana> due friday",
                "user_id": "UMARCUS",
                "channel_id": "C0GENERAL",
                "team_id": "T0STANDIN",
                "trigger_id": "socket-trigger",
                "response_url": standin.response_url("socket"),
            },
        )
        # The ack goes back over the socket and the answer over HTTP: either may land first.
        await settle(
            lambda: standin.responses and envelope in [a["envelope_id"] for a in standin.acks]
        )
        assert envelope in [a["envelope_id"] for a in standin.acks]
        assert "Created #1 Q3 filing" in standin.responses[-1]["text"]

        # What Slack never sends (a command with no user) is acked and goes no further.
        answered = len(standin.responses)
        refused = await standin.send_envelope(
            "slash_commands",
            {
                "command": "/task",
                "text": "add Nobody's task",
                "channel_id": "C0GENERAL",
                "team_id": "T0STANDIN",
                "trigger_id": "socket-trigger-2",
                "response_url": standin.response_url("socket-2"),
            },
        )
        await settle(lambda: refused in [a["envelope_id"] for a in standin.acks])
        assert refused in [a["envelope_id"] for a in standin.acks]
        assert len(standin.responses) == answered
        with transaction(ctx.engine) as session:
            assert session.execute(select(func.count()).select_from(Task)).scalar_one() == 1

        def danas_home() -> list[str]:
            return [
                str(c.params["view"])
                for c in standin.calls_to("views.publish")
                if c.params["user_id"] == "UDANA"
            ]

        seen = len(danas_home())
        await standin.send_envelope(
            "events_api",
            {
                "type": "event_callback",
                "team_id": "T0STANDIN",
                "event": {"type": "app_home_opened", "user": "UDANA", "tab": "home"},
            },
        )
        await settle(lambda: len(danas_home()) > seen)
        assert "#1 Q3 filing" in danas_home()[-1]
    finally:
        await handler.close_async()
        await http.close()
        ctx.engine.dispose()


async def test_an_event_envelope_delivered_again_after_a_reconnect_acts_once(standin, tmp_path):
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_APP_TOKEN": "xapp-standin",
            "SLACK_API_URL": standin.url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'socket.db'}",
            "MANAGER_CHANNEL": MANAGERS,
            "TEAM_TIMEZONE": "Europe/London",
        }
    )
    event = {
        "type": "event_callback",
        "team_id": "T0STANDIN",
        "event_id": "Ev0SOCKET",
        "event": {"type": "app_home_opened", "user": "UDANA", "tab": "home"},
    }
    published = lambda: len(standin.calls_to("views.publish"))  # noqa: E731
    for attempt in range(2):  # a second connection, as after a reconnect or a restart
        http = slack_session()
        client = make_client(TOKEN, standin.url, session=http)
        ctx = build_context(settings, client, clock=FakeClock(london("2026-01-12T09:00")))
        handler = AsyncSocketModeHandler(build_app(ctx, client), "xapp-standin", web_client=client)
        await handler.connect_async()
        try:
            await settle(lambda: standin.socket_connected)
            sent = await standin.send_envelope("events_api", event, retry_attempt=attempt)
            await settle(lambda sent=sent: sent in [a["envelope_id"] for a in standin.acks])
            await settle(lambda: published() > 1, limit=0.3)
            assert sent in [a["envelope_id"] for a in standin.acks]  # acked all the same
            assert published() == 1
        finally:
            await handler.close_async()
            await http.close()
            ctx.engine.dispose()
