"""files.info and the private download URL, as Slack serves an upload (a `file_input` in a
modal hands the app the file's id; the app asks files.info, then fetches `url_private` with
its bot token). Without the token Slack answers its sign-in page with 200, not an error: the
app must check what it got."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.standin.state import TEAM_ID, Workspace

MIMETYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SIGN_IN = "<!DOCTYPE html><html><body>Sign in to Slack</body></html>"


def add(ws: Workspace, base_url: str, name: str, content: bytes, user: str) -> dict[str, Any]:
    """A file as if `user` had uploaded it; its object as files.info and `file_input` give it."""
    file_id = f"F{len(ws.files) + 1:08d}"
    kind = name.rsplit(".", 1)[-1].lower() if "." in name else "binary"
    url = f"{base_url}/files-pri/{TEAM_ID}-{file_id}/{name}"
    meta = {
        "id": file_id,
        "created": int(ws.clock()),
        "name": name,
        "title": name,
        "mimetype": MIMETYPES.get(kind, "application/octet-stream"),
        "filetype": kind,
        "user": user,
        "size": len(content),
        "url_private": url,
        "url_private_download": f"{url}?download=1",
    }
    ws.files[file_id] = (meta, content)
    return meta


def info(ws: Workspace, p: dict) -> dict:
    found = ws.files.get(str(p.get("file", "")))
    return {"file": found[0]} if found else {"error": "file_not_found"}


def download_handler(
    ws: Workspace, token: Callable[[], str]
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def download(request: web.Request) -> web.Response:
        file_id = request.match_info["team_file"].removeprefix(f"{TEAM_ID}-")
        found = ws.files.get(file_id)
        if found is None or request.headers.get("Authorization") != f"Bearer {token()}":
            return web.Response(text=SIGN_IN, content_type="text/html")
        meta, content = found
        return web.Response(body=content, content_type=meta["mimetype"])

    return download


METHODS = {"files.info": info}
