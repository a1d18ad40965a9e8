"""The local Slack: a stand-in for Slack's Web API and Socket Mode, the wire driver the tests
and the demo use, and `python -m bot slack` for trying it by hand."""

from bot.standin.server import SlackStandIn

__all__ = ["SlackStandIn"]
