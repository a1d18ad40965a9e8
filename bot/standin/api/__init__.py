"""The Web API methods the stand-in answers, one module per family.

Each family module holds its handlers and a `METHODS` dict naming them, e.g.
`METHODS = {"chat.postMessage": post_message}`. A handler takes the `Workspace` and the call's
parameters (already decoded from query string, form or JSON body) and returns the answer
without `ok`: Slack's fields on success, or `{"error": "<code>"}` (plus any detail fields).
Adding a family is one module and one entry in `FAMILIES` below."""

from __future__ import annotations

from collections.abc import Callable

from bot.standin.api import apps, chat, conversations, files, users, views
from bot.standin.state import Workspace

Handler = Callable[[Workspace, dict], dict]

FAMILIES = (apps, chat, conversations, files, users, views)


def all_methods() -> dict[str, Handler]:
    found: dict[str, Handler] = {}
    for family in FAMILIES:
        found |= family.METHODS
    return found
