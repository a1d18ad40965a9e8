"""views.open, views.push, views.update, views.publish: modals and App Home."""

from __future__ import annotations

from bot.standin.state import MAX_VIEW_BLOCKS, TEAM_ID, Workspace


def _view(ws: Workspace, p: dict) -> dict:
    view = p.get("view")
    if not isinstance(view, dict) or "type" not in view:
        return {"error": "invalid_arguments"}
    blocks = view.get("blocks", [])
    if not isinstance(blocks, list):
        return {"error": "invalid_blocks", "errors": ["blocks must be an array"]}
    if len(blocks) > MAX_VIEW_BLOCKS:
        return {
            "error": "invalid_blocks",
            "errors": [f"no more than {MAX_VIEW_BLOCKS} items allowed"],
        }
    if ws.block_validator:
        errors = ws.block_validator(blocks, limit=MAX_VIEW_BLOCKS)
        if errors:
            return {"error": "invalid_blocks", "errors": errors}
    view_id = p.get("view_id") or ws.next_view_id()
    return {"view": view | {"id": view_id, "team_id": TEAM_ID, "hash": ws.ts()}}


def open_(ws: Workspace, p: dict) -> dict:
    return _view(ws, p) if p.get("trigger_id") else {"error": "invalid_trigger_id"}


def update(ws: Workspace, p: dict) -> dict:
    if not (p.get("view_id") or p.get("external_id")):
        return {"error": "view_not_found"}
    return _view(ws, p)


def publish(ws: Workspace, p: dict) -> dict:
    if str(p.get("user_id", "")) not in ws.users:
        return {"error": "user_not_found"}
    return _view(ws, p)


METHODS = {
    "views.open": open_,
    "views.push": open_,
    "views.update": update,
    "views.publish": publish,
}
