"""`/task import` in Slack, for managers: a modal with a file input; the export is fetched as
Slack serves uploads (`files.info`, then its private URL with the bot token), read, and shown
as a preview with a button that stores it.

Between the preview and the click, the export waits in the database for half an hour
(bot/importing/previews.py), so the click may reach any replica, or this one after a restart;
the click reads it again and stores it. Nothing is stored twice: the click takes the export,
and every card is keyed by its tool's id."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import tempfile
from pathlib import Path

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands import import_views as views
from bot.commands.common import SLACK_FAILURES, guarded, off_loop, responder, slack_said, tell
from bot.commands.context import Context
from bot.importing import previews
from bot.importing.formats.common import MappingError
from bot.importing.people import People
from bot.importing.run import Options, prepare, store
from bot.importing.source import BadFile
from bot.slack import ids

log = logging.getLogger(__name__)
MAX_BYTES = 50 * 1024 * 1024
REFUSED = ":no_entry: Only managers can import a board; ask one of them to run `/task import`."


def is_import(body: dict) -> bool:
    return (body.get("text") or "").strip().lower().split()[:1] == ["import"]


def register(app: AsyncApp, ctx: Context) -> None:
    async def matches(body: dict) -> bool:
        return is_import(body)

    app.command(ids.COMMAND, matchers=[matches])(
        guarded(ctx, handle_import_command, "/task import")
    )
    app.view(ids.VIEW_IMPORT)(guarded(ctx, handle_upload, "import upload"))
    app.action(ids.ACTION_IMPORT_GO)(guarded(ctx, handle_go, "import go ahead"))


async def handle_import_command(ctx: Context, ack, body: dict, client: AsyncWebClient) -> None:  # type: ignore[no-untyped-def]
    await ack()
    if not ctx.is_manager(body["user_id"]):
        await responder(ctx, body)(text=REFUSED, response_type="ephemeral")
        return
    try:
        await client.views_open(trigger_id=body["trigger_id"], view=views.build_upload_modal())
    except SLACK_FAILURES as exc:
        log.exception("could not open the import form")
        await responder(ctx, body)(
            text=f":warning: The form did not open (Slack said `{slack_said(exc)}`); try again.",
            response_type="ephemeral",
        )


def _uploaded(body: dict) -> dict | None:
    values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    files = ((values.get(ids.INPUT_FILE) or {}).get(ids.INPUT_FILE) or {}).get("files") or []
    return files[0] if files and isinstance(files[0], dict) else None


async def handle_upload(ctx: Context, ack, body: dict, client: AsyncWebClient) -> None:  # type: ignore[no-untyped-def]
    user = body["user"]["id"]
    upload = _uploaded(body)
    if not ctx.is_manager(user):
        await ack(response_action="errors", errors={ids.INPUT_FILE: REFUSED})
        return
    if upload is None or not upload.get("id"):
        await ack(response_action="errors", errors={ids.INPUT_FILE: "Choose the export to upload."})
        return
    name = str(upload.get("name") or "export")
    # Reading a big export takes longer than the 3 s Slack waits for this answer.
    await ack(response_action="update", view=views.build_reading_modal(name))
    view_id = body["view"]["id"]
    path = None
    try:
        path = await _download(ctx, client, upload["id"], name)
        prepared = await prepare(path, ctx.engine, ctx.cal, People(client), Options(), name=name)
    except (BadFile, MappingError) as exc:
        sentence = str(exc)
    except Exception:
        log.exception("reading the import %s failed", name)
        sentence = "Something went wrong on our side reading the file; nothing was stored."
    else:
        sentence, key = "", ""
        if prepared.storable:  # else the preview offers no button: nothing to keep
            content = await asyncio.to_thread(path.read_bytes)
            key = await off_loop(
                ctx,
                previews.keep,
                ctx.engine,
                user=user,
                name=name,
                content=content,
                now=ctx.clock(),
            )
    finally:
        if path:
            await asyncio.to_thread(path.unlink, missing_ok=True)
    if sentence:
        await client.views_update(view_id=view_id, view=views.build_problem_modal(sentence))
        return
    await client.views_update(
        view_id=view_id,
        view=views.build_preview_modal(prepared.plan, key, storable=prepared.storable),
    )


async def _download(ctx: Context, client: AsyncWebClient, file_id: str, name: str) -> Path:
    """The uploaded file, into a temporary file, as Slack serves it: its private URL with the
    bot token. Without the token Slack answers its sign-in page, so HTML is refused."""
    try:
        info = (await client.files_info(file=file_id))["file"]
    except SLACK_FAILURES as exc:
        raise BadFile(
            f"Slack did not hand over the file ({slack_said(exc)}); upload it again."
        ) from None
    url = info.get("url_private_download") or info.get("url_private")
    suffix = Path(name).suffix or ".csv"
    handle, where = tempfile.mkstemp(prefix="vigil-import-", suffix=suffix)
    os.close(handle)
    out = Path(where)
    headers = {"Authorization": f"Bearer {client.token}"}
    session = client.session or aiohttp.ClientSession()
    try:
        async with session.get(
            url, headers=headers, timeout=aiohttp.ClientTimeout(total=60)
        ) as resp:
            if resp.status != 200 or re.match(r"text/html", resp.content_type or ""):
                raise BadFile(
                    "Slack did not hand over the file (it asked to sign in); upload it again."
                )
            size = 0
            # A local temporary file, written a chunk at a time: no wait worth a thread.
            with out.open("wb") as fh:  # noqa: ASYNC230
                async for chunk in resp.content.iter_chunked(64 * 1024):
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise BadFile("The file is over 50 MB; import it from the command line.")
                    fh.write(chunk)
    except aiohttp.ClientError as exc:
        await asyncio.to_thread(out.unlink, missing_ok=True)
        raise BadFile(
            f"The file could not be fetched from Slack ({exc}); upload it again."
        ) from None
    except BadFile:
        await asyncio.to_thread(out.unlink, missing_ok=True)
        raise
    finally:
        if session is not client.session:
            await session.close()
    return out


async def handle_go(ctx: Context, ack, body: dict, client: AsyncWebClient) -> None:  # type: ignore[no-untyped-def]
    await ack()
    user = body["user"]["id"]
    key = str((body.get("actions") or [{}])[0].get("value") or "")
    view_id = (body.get("view") or {}).get("id")
    if not view_id:  # the button lives in the preview modal; anywhere else it is not ours
        await tell(ctx, client, body, ":warning: Run `/task import` to import a board.")
        return
    kept = None
    if ctx.is_manager(user):
        kept = await off_loop(ctx, previews.take, ctx.engine, key, user=user, now=ctx.clock())
    if kept is None:
        sentence = "This preview has expired; run `/task import` and upload the file again."
        await client.views_update(view_id=view_id, view=views.build_problem_modal(sentence))
        return
    await client.views_update(view_id=view_id, view=views.build_reading_modal(kept[0]))
    try:
        done = await _store_kept(ctx, client, user, *kept)
    except (BadFile, MappingError, ValueError) as exc:
        await client.views_update(view_id=view_id, view=views.build_problem_modal(str(exc)))
        return
    await client.views_update(view_id=view_id, view=views.build_done_modal(done))
    if ctx.nudge:
        ctx.nudge()  # the new tasks' first findings (no owner, no deadline) without waiting


async def _store_kept(ctx: Context, client: AsyncWebClient, user: str, name: str, content: bytes):  # type: ignore[no-untyped-def]
    """The kept export read again, against the tasks as they are now, and stored."""
    path = await asyncio.to_thread(_spill, name, content)
    try:
        prepared = await prepare(path, ctx.engine, ctx.cal, People(client), Options(), name=name)
        return await off_loop(ctx, store, prepared, ctx.engine, creator=user, now=ctx.clock())
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)


def _spill(name: str, content: bytes) -> Path:
    handle, where = tempfile.mkstemp(prefix="vigil-import-", suffix=Path(name).suffix or ".csv")
    with os.fdopen(handle, "wb") as fh:
        fh.write(content)
    return Path(where)
