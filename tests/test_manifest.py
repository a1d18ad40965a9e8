"""The manifest a workspace admin pastes matches what the code listens for."""

from pathlib import Path

import yaml

from bot import ids

MANIFEST = yaml.safe_load((Path(__file__).parent.parent / "manifest.yml").read_text())


def test_manifest_declares_what_the_app_answers():
    [command] = MANIFEST["features"]["slash_commands"]
    assert command["command"] == ids.COMMAND and command["should_escape"] is True
    [shortcut] = MANIFEST["features"]["shortcuts"]
    assert shortcut["callback_id"] == ids.SHORTCUT_FROM_MESSAGE and shortcut["type"] == "message"
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in MANIFEST["settings"]["event_subscriptions"]["bot_events"]
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "im:write",
        "users:read",
    }
