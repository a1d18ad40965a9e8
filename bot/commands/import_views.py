"""The modals of `/task import`, built by pure functions: the upload, the "reading" view shown
while the file is read, the preview with its button to go ahead, and the outcome."""

from __future__ import annotations

from bot.importing.apply import Applied
from bot.importing.plan import Plan
from bot.slack import ids
from bot.slack.blocks import escape

SHOWN = 10
SECTION_TEXT = 2900  # Slack allows 3,000 characters in a section's text


def _modal(title: str, blocks: list[dict], **extra: object) -> dict:
    return {
        "type": "modal",
        "callback_id": ids.VIEW_IMPORT,
        "title": {"type": "plain_text", "text": title},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": blocks,
        **extra,
    }


def _section(text: str) -> dict:
    if len(text) > SECTION_TEXT:
        text = text[: SECTION_TEXT - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def build_upload_modal() -> dict:
    return _modal(
        "Import a board",
        [
            _section(
                "Upload an export of your board: Asana, Jira, ClickUp, Todoist or Karbon as "
                "*CSV*, Trello as *JSON*, monday.com as *XLSX*, or your own sheet with columns "
                "such as title, owner, due, progress, status and parent. You will see what "
                "would change before anything is stored."
            ),
            {
                "type": "input",
                "block_id": ids.INPUT_FILE,
                "label": {"type": "plain_text", "text": "The export"},
                "element": {
                    "type": "file_input",
                    "action_id": ids.INPUT_FILE,
                    "filetypes": ["csv", "json", "xlsx"],
                    "max_files": 1,
                },
            },
        ],
        submit={"type": "plain_text", "text": "Preview"},
    )


def build_reading_modal(name: str) -> dict:
    return _modal(
        "Import a board", [_section(f":hourglass_flowing_sand: Reading *{escape(name)}*…")]
    )


def build_problem_modal(sentence: str) -> dict:
    return _modal("Import a board", [_section(f":warning: {escape(sentence)}")])


def build_preview_modal(plan: Plan, key: str, *, storable: bool) -> dict:
    blocks = [
        _section(
            f"*{escape(plan.tool.title())} export*\n"
            f"*To create:* {plan.create}   ·   *To update:* {plan.update}   ·   "
            f"unchanged {plan.unchanged}   ·   finished cards left out {plan.finished_skipped}"
        )
    ]
    listed = [f"• {escape(t)}" for t in plan.examples["create"][:SHOWN]]
    listed += [f"• {escape(t)}" for t in plan.examples["update"][:SHOWN]]
    if listed:
        blocks.append(_section("\n".join(listed)))
    if plan.unmatched:
        people = ", ".join(
            f"{escape(who)} ({n})" for who, n in list(plan.unmatched.items())[:SHOWN]
        )
        blocks.append(
            _section(f"*People not matched* (their tasks come in without an owner): {people}")
        )
    if plan.refused:
        rows = "\n".join(f"• {escape(str(r))}" for r in plan.refused[:SHOWN])
        more = f"\n…and {len(plan.refused) - SHOWN} more" if len(plan.refused) > SHOWN else ""
        blocks.append(_section(f"*Rows refused: {len(plan.refused)}*\n{rows}{more}"))
    if plan.missing_count:
        gone = "\n".join(f"• #{tid} {escape(title)}" for tid, title in plan.missing[:SHOWN])
        blocks.append(
            _section(f"*No longer in the export* (kept as they are): {plan.missing_count}\n{gone}")
        )
    if storable and (plan.create or plan.update):
        label = "Import" if not plan.refused else "Import the good rows"
        blocks.append(
            {
                "type": "actions",
                "block_id": "import_go",
                "elements": [
                    {
                        "type": "button",
                        "action_id": ids.ACTION_IMPORT_GO,
                        "text": {"type": "plain_text", "text": label},
                        "style": "primary",
                        "value": key,
                    }
                ],
            }
        )
    elif not storable:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "Nothing is stored while rows are refused: fix them in the file "
                        "and upload it again.",
                    }
                ],
            }
        )
    return _modal("Import preview", blocks)


def build_done_modal(done: Applied) -> dict:
    return _modal(
        "Imported",
        [
            _section(
                f":white_check_mark: *{done.created}* created, *{done.updated}* updated, "
                f"{done.unchanged} unchanged. Vigil watches them from now on; `/task list` "
                "shows yours."
            )
        ],
    )
