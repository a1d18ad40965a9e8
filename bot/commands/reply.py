"""What a command, a click or a form answers: text, blocks, and whose App Home to refresh."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Reply:
    text: str
    blocks: list[dict] | None = None
    public: bool = False
    # Whose App Home shows something that changed: republished after the reply.
    touched: set[str] = field(default_factory=set)
    task_id: int | None = None
