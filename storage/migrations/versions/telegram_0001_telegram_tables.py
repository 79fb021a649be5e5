"""telegram tables

Revision ID: telegram_0001
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import storage.models.base

revision: str = "telegram_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_form_sessions",
        sa.Column("chat_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("nonce", sa.String(length=16), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column(
            "form", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "origin",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("message_ref", sa.String(length=80), nullable=True),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column(
            "answers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", storage.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_telegram_form_sessions_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chat_id", "user_id", name=op.f("pk_telegram_form_sessions")),
    )
    with op.batch_alter_table("telegram_form_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_telegram_form_sessions_member_id"), ["member_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_telegram_form_sessions_updated_at"), ["updated_at"], unique=False
        )
    op.create_table(
        "telegram_invites",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_at", storage.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_telegram_invites_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telegram_invites")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_telegram_invites_code_hash")),
    )
    with op.batch_alter_table("telegram_invites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_telegram_invites_member_id"), ["member_id"], unique=False)
    op.create_table(
        "telegram_sent_parts",
        sa.Column("delivery_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("message_ref", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_telegram_sent_parts_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("delivery_id", "part", name=op.f("pk_telegram_sent_parts")),
    )


def downgrade() -> None:
    op.drop_table("telegram_sent_parts")
    with op.batch_alter_table("telegram_invites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_telegram_invites_member_id"))
    op.drop_table("telegram_invites")
    with op.batch_alter_table("telegram_form_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_telegram_form_sessions_updated_at"))
        batch_op.drop_index(batch_op.f("ix_telegram_form_sessions_member_id"))
    op.drop_table("telegram_form_sessions")
