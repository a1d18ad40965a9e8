"""The command line as an operator uses it: `python -m bot sweep` in its own process against a
running stand-in, and clear one-line errors for bad configuration."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from dataclasses import replace

import pytest

from bot import tasks as service
from bot.__main__ import main
from bot.app.server import serve
from bot.config import ConfigError, Settings
from bot.db import create_schema, make_engine, transaction
from tests.conftest import MANAGERS, TOKEN, london
from tests.slackio import run_cli


async def test_sweep_command_dms_the_owner_then_the_managers_then_resolves(standin, tmp_path):
    db = f"sqlite:///{tmp_path / 'vigil.db'}"
    engine = make_engine(db)
    create_schema(engine)
    with transaction(engine) as s:
        tid = service.create_task(
            s,
            title="Q3 filing",
            creator="UMARCUS",
            owner="UDANA",
            now=london("2026-01-05T09:00"),
            due_at=london("2026-01-31T00:00"),
        ).id
        service.set_progress(s, tid, 40, by="UDANA", now=london("2026-01-06T10:00"))
    env = {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_API_URL": standin.url,
        "DATABASE_URL": db,
        "MANAGER_CHANNEL": MANAGERS,
        "TEAM_TIMEZONE": "Europe/London",
        "HOLIDAY_COUNTRY": "GB",
    }
    # Four working days after Tuesday's progress (Wed, Thu, Fri, Mon): one DM naming #id.
    code, out, err = await run_cli("sweep", "--now", "2026-01-12T09:30", env=env)
    assert code == 0, err
    assert "findings opened  1" in out and "messages sent    1" in out
    dms = standin.messages(standin.dm_channel("UDANA"))
    assert len(dms) == 1 and f"#{tid}" in dms[0].text

    # The same instant again: nothing new.
    code, out, _ = await run_cli("sweep", "--now", "2026-01-12T09:30", env=env)
    assert "messages sent    0" in out

    # A working day later: one message in the managers' channel.
    await run_cli("sweep", "--now", "2026-01-13T09:30", env=env)
    assert len(standin.messages(MANAGERS)) == 1

    # Progress recorded: both messages edited to resolved.
    with transaction(engine) as s:
        service.set_progress(s, tid, 60, by="UDANA", now=london("2026-01-13T10:00"))
    await run_cli("sweep", "--now", "2026-01-13T10:05", env=env)
    digest = standin.messages(MANAGERS)[0]
    assert "0 tasks need someone" in digest.text
    assert "no longer needs attention: progress recorded (60%)" in json.dumps(digest.blocks)
    dm = standin.messages(standin.dm_channel("UDANA"))[0]
    assert "no longer needs attention: progress recorded (60%)" in dm.text
    engine.dispose()


async def test_dry_run_sends_nothing(standin, tmp_path):
    db = f"sqlite:///{tmp_path / 'vigil.db'}"
    engine = make_engine(db)
    create_schema(engine)
    with transaction(engine) as s:
        service.create_task(s, title="Unowned", creator="UMARCUS", now=london("2026-01-05T09:00"))
    env = {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_API_URL": standin.url,
        "DATABASE_URL": db,
        "TEAM_TIMEZONE": "Europe/London",
    }
    code, out, err = await run_cli("sweep", "--now", "2026-01-05T10:00", "--dry-run", env=env)
    assert code == 0, err
    # No owner and no deadline: one case, one DM naming both.
    assert "would send       1" in out and "has no owner" in out
    assert "missing_owner, missing_deadline" in out
    assert standin.calls == []
    engine.dispose()


async def test_missing_or_malformed_configuration_is_one_line_naming_the_variable(tmp_path):
    db = f"sqlite:///{tmp_path / 'vigil.db'}"
    code, out, err = await run_cli("sweep", env={"DATABASE_URL": db})
    assert code == 2 and err.strip() == "vigil: SLACK_BOT_TOKEN is not set (see .env.example)"
    code, _, err = await run_cli(
        "sweep", env={"SLACK_BOT_TOKEN": TOKEN, "TEAM_TIMEZONE": "Mars/Olympus"}
    )
    assert code == 2 and "TEAM_TIMEZONE" in err and len(err.strip().splitlines()) == 1
    code, _, err = await run_cli(
        "sweep", env={"SLACK_BOT_TOKEN": TOKEN, "SWEEP_INTERVAL_SECONDS": "often"}
    )
    assert code == 2 and "SWEEP_INTERVAL_SECONDS" in err
    code, _, err = await run_cli("sweep", "--now", "next tuesday", env={"SLACK_BOT_TOKEN": TOKEN})
    assert code == 2 and one_line(err).startswith("vigil: --now takes an ISO-8601 time")


def one_line(err: str) -> str:
    """What a misconfigured start prints: one line, no traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (
            ["sweep", "--now", "9999-12-31T23:59"],
            {},
            "vigil: --now must fall between 2000 and 2100",
        ),
        (
            ["sweep", "--now", "1999-12-31T23:59"],
            {},
            "vigil: --now must fall between 2000 and 2100",
        ),
        (
            ["sweep", "--now", "in 4 days"],
            {},
            "vigil: --now takes an ISO-8601 time or a day and time",
        ),
        (  # the mistake in what was typed first, before a setting missing from the machine
            ["sweep", "--now", "in 4 days"],
            {"SLACK_BOT_TOKEN": ""},
            "vigil: --now takes an ISO-8601 time or a day and time",
        ),
        (["sweep"], {"DATABASE_URL": "garbage"}, "vigil: DATABASE_URL is not a database URL"),
        (
            ["sweep"],
            {"DATABASE_URL": "unopenable"},
            "vigil: DATABASE_URL: cannot open the database",
        ),
        ([], {"PORT": "99999"}, "vigil: PORT must be from 1 to 65535, got 99999"),
    ],
)
def test_out_of_range_or_unusable_settings_are_one_line(
    args, env, says, tmp_path, monkeypatch, capsys
):
    (tmp_path / "a-file").write_text("not a folder")
    unopenable = f"sqlite:///{tmp_path / 'a-file' / 'v.db'}"  # a folder that is a file
    base = {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": "s3cret",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'v.db'}",
    }
    for name, value in (base | env).items():
        monkeypatch.setenv(name, unopenable if value == "unopenable" else value)
    assert main(args) == 2
    assert one_line(capsys.readouterr().err).startswith(says)


async def test_a_port_in_use_stops_the_bot_before_it_sweeps(standin, tmp_path):
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": "s3cret",
            "SLACK_API_URL": standin.url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'vigil.db'}",
            "MANAGER_CHANNEL": MANAGERS,
        }
    )
    switch = sys.getswitchinterval()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError) as caught:
            await serve(replace(settings, port=port), host="127.0.0.1")
    sys.setswitchinterval(switch)
    assert str(caught.value) == (
        f"PORT {port} is already in use; stop what holds it or set PORT to a free port"
    )
    assert standin.calls == []  # no sweep, no DM: Slack could not have reached it


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_python_m_bot_serves_http_sweeps_and_answers_a_signed_command(standin, tmp_path):
    """The README's way to run the bot, against the stand-in: it starts, sweeps at once
    (/healthz turns 200), and answers a signed /task on POST /slack/events."""
    import time
    import urllib.parse

    import aiohttp
    from slack_sdk.signature import SignatureVerifier

    port = _free_port()
    env = {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": "s3cret",
        "SLACK_API_URL": standin.url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'vigil.db'}",
        "PORT": str(port),
        "MANAGER_CHANNEL": MANAGERS,
        "TEAM_TIMEZONE": "Europe/London",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        env={"PATH": os.environ.get("PATH", ""), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as http:
            status = None
            for _ in range(200):  # bounded: start-up takes about a second
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        status = resp.status
                        if status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.05)
            assert status == 200
            body = urllib.parse.urlencode(
                {
                    "command": "/task",
                    "text": "add Q3 filing <@UDANA|dana> due friday",
                    "user_id": "UMARCUS",
                    "team_id": "T0STANDIN",
                    "channel_id": "C1",
                    "trigger_id": "t-main",
                    "response_url": standin.response_url("main"),
                }
            )
            ts = str(int(time.time()))
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": SignatureVerifier("s3cret").generate_signature(
                    timestamp=ts, body=body
                ),
            }
            async with http.post(
                f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers
            ) as resp:
                assert resp.status == 200
            for _ in range(200):
                if standin.responses:
                    break
                await asyncio.sleep(0.02)
            assert "Created #1 Q3 filing" in standin.responses[-1]["text"]
    finally:
        proc.terminate()
        await proc.wait()


async def test_python_m_bot_names_the_missing_variable(tmp_path):
    code, _, err = await run_cli(
        env={"SLACK_BOT_TOKEN": TOKEN, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    )
    assert code == 2 and err.strip() == "vigil: SLACK_SIGNING_SECRET is not set (see .env.example)"
