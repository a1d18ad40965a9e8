"""Trying Vigil by hand, as README.md "Try it by hand" does: Slack played from the command
line against a running bot and stand-in, from `/task add` to the managers' message resolved."""

from __future__ import annotations

import aiohttp
import pytest

from bot.__main__ import parse_now
from bot.standin import byhand as slackcli
from bot.standin.wire import SECRET
from tests.conftest import MANAGERS, MONDAY, london
from tests.slackio import run_cli


@pytest.fixture
async def remote(wire, standin):
    async with aiohttp.ClientSession() as http:
        yield slackcli.Remote(wire.url, standin.url.removesuffix("/api/"), SECRET, http)


async def test_from_add_to_the_managers_message_resolved(wire, standin, remote):
    names = await remote.names()

    async def typed(text: str, user: str) -> str:
        return slackcli.show_reply(await slackcli.command(remote, text, user), names)

    created = await typed("/task add Q3 filing @dana due friday", "UMARCUS")
    assert created == "Created *#1 Q3 filing* · owner @Dana · due Fri 16 Jan"
    assert "*#1 Q3 filing*" in await typed("/task list", "UDANA")
    assert "progress 0% → 40%" in await typed("/task progress 1 40", "UDANA")

    # `python -m bot sweep --now "in 4 working days 10:00"`: nothing moved since Monday.
    friday = parse_now("in 4 working days 10:00", wire.settings, wall=MONDAY)
    assert friday == london("2026-01-16T10:00")
    await wire.sweep(friday)
    dm = slackcli.show_messages(await remote.messages(user="UDANA"), names)
    assert "[1] DM with UDANA" in dm and "has had no progress since Mon 12 Jan" in dm
    assert "(3) Done [button]" in dm

    # A working day later, the managers hear of it.
    await wire.sweep(parse_now("in 5 working days 10:00", wire.settings, wall=MONDAY))
    managers = await remote.messages(channel=MANAGERS)
    assert managers and "Ping owner [button]" in slackcli.show_messages(managers, names)

    # Dana clicks Done on her latest DM: the reply comes back, and the DM loses its buttons.
    wire.clock.now = london("2026-01-19T10:02")
    clicked = slackcli.show_reply(await slackcli.click(remote, "latest", "Done", "UDANA"), names)
    assert "*#1 Q3 filing* no longer needs attention: marked done" in clicked
    latest = (await remote.messages(user="UDANA"))[-1]
    assert not slackcli.elements(latest) and latest["edits"] >= 1

    # The next sweep resolves it: the managers' message says so.
    await wire.sweep(london("2026-01-19T10:05"))
    resolved = slackcli.show_messages(await remote.messages(channel=MANAGERS), names)
    assert "no longer needs attention: marked done" in resolved


async def test_clicking_a_menu_takes_a_value_it_offers(wire, standin, remote):
    await slackcli.command(remote, "/task add Payroll @dana due friday", "UDANA")
    await wire.sweep(london("2026-01-16T10:00"))
    with pytest.raises(slackcli.ByHandError, match="offers 10, 20, 30"):
        await slackcli.click(remote, "latest", "Set progress", "UDANA", value="55")
    with pytest.raises(slackcli.ByHandError, match="no button 'Frobnicate'"):
        await slackcli.click(remote, "latest", "Frobnicate", "UDANA")
    replies = await slackcli.click(remote, "latest", "1", "UDANA", value="60%")
    assert "0% → 60%" in slackcli.show_reply(replies)
    with pytest.raises(slackcli.ByHandError, match="knows no user @nobody"):
        await slackcli.command(remote, "/task assign 1 @nobody", "UDANA")


async def test_the_command_line_prints_the_reply(wire, standin):
    env = {
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": standin.url,
        "DATABASE_URL": wire.settings.database_url,
    }
    bot = ["--bot", wire.url]
    code, out, err = await run_cli(
        "slack", "command", "/task add Payroll", "--user", "UDANA", *bot, env=env
    )
    assert code == 0, err
    assert out.splitlines()[0] == "Created *#1 Payroll* · owner nobody · no deadline"
    code, out, _ = await run_cli("slack", "messages", *bot, env=env)
    assert code == 0 and out.strip() == "(no messages)"


def test_every_command_in_the_readme_section_is_one_the_cli_takes():
    import shlex
    from pathlib import Path

    from bot.__main__ import build_parser

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("## Try it by hand", 1)[1].split("\n## ", 1)[0]
    lines = [
        line.split(" &")[0] for line in section.splitlines() if line.startswith("python -m bot")
    ]
    assert len(lines) >= 12
    for line in lines:
        build_parser().parse_args(shlex.split(line)[3:])  # exits on anything it does not take
    steps = " ".join(lines)
    for step in ("slack command", "slack messages", "slack click latest Done", "sweep --now"):
        assert step in steps
