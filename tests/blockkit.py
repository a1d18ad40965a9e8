"""Validate what the bot builds against the Block Kit JSON Schema and Slack's own limits.

The schema is a vendored copy (see fixtures/blockkit/README.md) so the tests run from any
clean clone. It checks each block's shape; the limits below are Slack's cross-block rules.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from jsonschema import Draft202012Validator

# Slack's limits, named once where the builders read them; pinned to Slack's documented
# figures in tests/commands/views/test_limits.py.
from bot.slack.blocks import MESSAGE_BLOCKS, VIEW_BLOCKS

SCHEMA = Path(__file__).parent / "fixtures" / "blockkit" / "slack-block-kit.schema.json"


@lru_cache(maxsize=4)
def _validator(definition: str | None = None) -> Draft202012Validator:
    schema = json.loads(SCHEMA.read_text())
    if definition:
        schema = {
            "$schema": schema["$schema"],
            "$defs": schema["$defs"],
            "$ref": f"#/$defs/{definition}",
        }
    return Draft202012Validator(schema)


def _action_ids(blocks: list[dict]) -> list[str]:
    found = []
    for block in blocks:
        elements = list(block.get("elements", []))
        if "accessory" in block:
            elements.append(block["accessory"])
        if "element" in block:
            elements.append(block["element"])
        found += [e["action_id"] for e in elements if isinstance(e, dict) and "action_id" in e]
    return found


def block_errors(blocks: list[dict], *, limit: int = MESSAGE_BLOCKS) -> list[str]:
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _validator().iter_errors(blocks)
    ]
    if len(blocks) > limit:
        errors.append(f"{len(blocks)} blocks; Slack allows {limit}")
    ids = _action_ids(blocks)
    if len(ids) != len(set(ids)):
        errors.append(f"duplicate action_id in {ids}")
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    if len(block_ids) != len(set(block_ids)):
        errors.append(f"duplicate block_id in {block_ids}")
    return errors


def assert_valid_message(text: str, blocks: list[dict]) -> None:
    assert text and text.strip(), "every message needs a plain-text fallback"
    errors = block_errors(blocks)
    assert not errors, errors


def view_errors(view: dict) -> list[str]:
    definition = {"modal": "modal_view", "home": "home_view"}[view["type"]]
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _validator(definition).iter_errors(view)
    ]
    return errors + block_errors(view.get("blocks", []), limit=VIEW_BLOCKS)
