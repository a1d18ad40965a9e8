"""The local Slack: a stand-in for Slack's Web API, response URLs and Socket Mode, the wire
driver the tests and the demo use (`wire`), and `python -m bot slack` for trying it by hand
(`byhand`).

The stand-in (`SlackStandIn`, in `server`) is made of small parts:
- `state`: the workspace (people, channels, messages) and how Slack renders each;
- `webapi`: `/api/{method}`: parameters as slack_sdk sends them, the token, faults, dispatch;
- `api/`: the Web API methods, one module per family (`chat`, `users`, `conversations`,
  `views`, `apps`);
- `responses`: response URLs; `socketmode`: Socket Mode; `events`: events sent to the app;
- `faults`: scripted and random failures, and Retry-After bookkeeping;
- `control`: `/_standin/*`, to drive a stand-in running as its own process.

To answer a new family of methods (say `files.*`): write `api/files.py` with handlers
`def upload(ws: Workspace, p: dict) -> dict` and `METHODS = {"files.upload": upload}`, then
add `files` to `FAMILIES` in `api/__init__.py`. A new method of an existing family is one
handler and one `METHODS` entry in its module. Anything the workspace must remember goes on
`state.Workspace`."""

from bot.standin.server import SlackStandIn

__all__ = ["SlackStandIn"]
