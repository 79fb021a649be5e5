"""leadership tables

Revision ID: leadership_0001
Revises: 0001
Create Date: 2026-11-23 18:33:32.862563
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision: str = "leadership_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_contacts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("occurred_at", storage.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_at", storage.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_customer_contacts_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_contacts")),
    )
    with op.batch_alter_table("customer_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_contacts_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_contacts_occurred_at"), ["occurred_at"], unique=False)

    op.create_table(
        "relays",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "started_by_member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("running", sa.Boolean(), nullable=True),
        sa.Column("started_at", storage.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", storage.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["started_by_member_id"],
            ["members.id"],
            name=op.f("fk_relays_started_by_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relays")),
        sa.UniqueConstraint("running", name=op.f("uq_relays_running")),
    )
    op.create_table(
        "leader_snippets",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("author_member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("video_url", sa.String(length=2000), nullable=True),
        sa.Column("story_ref", sa.String(length=80), nullable=True),
        sa.Column("contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("post_at", storage.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "reviewed_by_member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("reviewed_at", storage.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("posted_at", storage.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_member_id"],
            ["members.id"],
            name=op.f("fk_leader_snippets_author_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["customer_contacts.id"],
            name=op.f("fk_leader_snippets_contact_id_customer_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_member_id"],
            ["members.id"],
            name=op.f("fk_leader_snippets_reviewed_by_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leader_snippets")),
    )
    with op.batch_alter_table("leader_snippets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_leader_snippets_author_member_id"), ["author_member_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_leader_snippets_posted_at"), ["posted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_leader_snippets_status"), ["status"], unique=False)

    op.create_table(
        "relay_legs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("relay_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("holder_member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("passed_by_member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("challenge", sa.Text(), nullable=False),
        sa.Column("received_at", storage.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("snippet_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("shared_at", storage.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("passed_at", storage.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("escalated_at", storage.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["holder_member_id"],
            ["members.id"],
            name=op.f("fk_relay_legs_holder_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["passed_by_member_id"],
            ["members.id"],
            name=op.f("fk_relay_legs_passed_by_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["relay_id"], ["relays.id"], name=op.f("fk_relay_legs_relay_id_relays"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["snippet_id"],
            ["leader_snippets.id"],
            name=op.f("fk_relay_legs_snippet_id_leader_snippets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relay_legs")),
        sa.UniqueConstraint(
            "relay_id", "holder_member_id", name=op.f("uq_relay_legs_relay_id_holder_member_id")
        ),
        sa.UniqueConstraint("relay_id", "position", name=op.f("uq_relay_legs_relay_id_position")),
    )
    with op.batch_alter_table("relay_legs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_relay_legs_relay_id"), ["relay_id"], unique=False)

    op.create_table(
        "snippet_reactions",
        sa.Column("snippet_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("emoji", sa.String(length=40), nullable=False),
        sa.Column("created_at", storage.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_snippet_reactions_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["snippet_id"],
            ["leader_snippets.id"],
            name=op.f("fk_snippet_reactions_snippet_id_leader_snippets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("snippet_id", "member_id", "emoji", name=op.f("pk_snippet_reactions")),
    )
    op.create_table(
        "snippet_replies",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("snippet_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("channel_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", storage.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_snippet_replies_channel_id_channels"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_snippet_replies_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["snippet_id"],
            ["leader_snippets.id"],
            name=op.f("fk_snippet_replies_snippet_id_leader_snippets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snippet_replies")),
    )
    with op.batch_alter_table("snippet_replies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_snippet_replies_snippet_id"), ["snippet_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("snippet_replies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_snippet_replies_snippet_id"))

    op.drop_table("snippet_replies")
    op.drop_table("snippet_reactions")
    with op.batch_alter_table("relay_legs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relay_legs_relay_id"))

    op.drop_table("relay_legs")
    with op.batch_alter_table("leader_snippets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leader_snippets_status"))
        batch_op.drop_index(batch_op.f("ix_leader_snippets_posted_at"))
        batch_op.drop_index(batch_op.f("ix_leader_snippets_author_member_id"))

    op.drop_table("leader_snippets")
    op.drop_table("relays")
    with op.batch_alter_table("customer_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_contacts_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_customer_contacts_member_id"))

    op.drop_table("customer_contacts")
