"""The manifest a workspace admin pastes matches what the code listens for, and the README's
install steps say exactly what to change in it for each mode."""

import re
from pathlib import Path

import yaml

from bot.slack import ids

ROOT = Path(__file__).parent.parent
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())
PLACEHOLDER = "https://vigil.example.com"


def _install_steps() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("## Install in your workspace", 1)[1].split("\n## ", 1)[0]


def _urls(node, path: str = "") -> dict[str, str]:
    """Every URL in the manifest, by its dotted path (`slash_commands[0].url`)."""
    found: dict[str, str] = {}
    if isinstance(node, dict):
        for key, value in node.items():
            found |= _urls(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found |= _urls(value, f"{path}[{i}]")
    elif isinstance(node, str) and node.startswith("https://"):
        found[path] = node
    return found


def test_manifest_declares_what_the_app_answers():
    [command] = MANIFEST["features"]["slash_commands"]
    assert command["command"] == ids.COMMAND and command["should_escape"] is True
    [shortcut] = MANIFEST["features"]["shortcuts"]
    assert shortcut["callback_id"] == ids.SHORTCUT_FROM_MESSAGE and shortcut["type"] == "message"
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in MANIFEST["settings"]["event_subscriptions"]["bot_events"]
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "im:write",
        "users:read",
        "files:read",
        "users:read.email",
        "im:history",
        "channels:history",
        "groups:history",
    }


def test_the_manifest_works_as_pasted_for_socket_mode():
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
    steps = _install_steps()
    assert "**Socket Mode**" in steps and "paste it as it is" in steps


def test_the_readme_names_every_url_to_change_for_http_mode():
    """HTTP mode needs every request URL pointed at the server and Socket Mode off: with it on,
    Slack sends nothing to /slack/events. The README must name each URL the manifest has."""
    steps = _install_steps()
    urls = _urls(MANIFEST)
    assert urls and all(u == PLACEHOLDER + ids.EVENTS_PATH for u in urls.values()), urls
    named = set(re.findall(r"`([a-z_.\[\]0-9]+url)`", steps))
    # The README spells paths under `features`/`settings` from the key below them.
    full = {p.split(".", 1)[1] for p in urls}
    assert named == full, (named, full)
    count = {1: "one", 2: "two", 3: "three", 4: "four"}[len(urls)]
    assert f"all {count} places" in steps
    assert "`socket_mode_enabled: false`" in steps and "**HTTP mode**" in steps
