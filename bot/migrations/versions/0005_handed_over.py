"""A DM handed over stays handed over: `case_message.handed_to`.

When a case becomes someone else's, the old recipient's DMs say so once and are left alone.
That was read from the DM's recipient differing from the case's, which stops holding when the
case comes back to them (reassigned back, or back from the creator): the old DM showed the
case open again beside the fresh one. The link now records whom it was handed over to; the
links of DMs already handed over are marked so on upgrade.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HANDED_OVER = """
UPDATE case_message SET handed_to = (
    SELECT c.recipient FROM "case" c WHERE c.id = case_message.case_id
)
WHERE EXISTS (
    SELECT 1 FROM notification n, "case" c
    WHERE n.id = case_message.notification_id AND c.id = case_message.case_id
      AND n.kind IN ('dm', 'reminder') AND c.recipient IS NOT NULL AND n."to" <> c.recipient
)
"""


def upgrade() -> None:
    with op.batch_alter_table("case_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handed_to", sa.String(), nullable=True))
    op.execute(HANDED_OVER)


def downgrade() -> None:
    with op.batch_alter_table("case_message", schema=None) as batch_op:
        batch_op.drop_column("handed_to")
