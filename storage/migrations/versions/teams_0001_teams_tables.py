"""Teams tables: the Agents SDK storage (conversation references, turn state).

Revision ID: teams_0001
Revises: 0001
Create Date: 2026-11-23 18:35:20.952693
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import storage.models.base

revision: str = "teams_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "teams_storage",
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column(
            "value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", storage.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_teams_storage")),
    )
    with op.batch_alter_table("teams_storage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_teams_storage_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("teams_storage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teams_storage_updated_at"))

    op.drop_table("teams_storage")
