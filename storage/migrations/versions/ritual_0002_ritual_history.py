"""Ritual history: meetings are removed softly, the ritual's on/off switches are kept, newcomers' cap offset.

Revision ID: ritual_0002
Revises: ritual_0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision: str = "ritual_0002"
down_revision: str | Sequence[str] | None = "ritual_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ritual_switches",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("meeting_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("switched_at", storage.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_ritual_switches_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ritual_switches")),
    )
    with op.batch_alter_table("ritual_switches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ritual_switches_meeting_id"), ["meeting_id"], unique=False)
    # What is known of the past: each meeting has had its present state since it was created.
    op.execute(
        "INSERT INTO ritual_switches (meeting_id, switched_at, enabled) "
        "SELECT id, created_at, ritual_enabled FROM meetings"
    )

    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("removed_at", storage.models.base.UtcDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("meeting_participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cap_offset", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("meeting_participants", schema=None) as batch_op:
        batch_op.drop_column("cap_offset")

    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_column("removed_at")

    with op.batch_alter_table("ritual_switches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ritual_switches_meeting_id"))

    op.drop_table("ritual_switches")
