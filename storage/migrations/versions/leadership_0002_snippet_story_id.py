"""A snippet names its customer story by id (resolved through the story library), not by free text.

Revision ID: leadership_0002
Revises: leadership_0001
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "leadership_0002"
down_revision: str | Sequence[str] | None = "leadership_0001"
branch_labels: str | Sequence[str] | None = None
# The data step reads the story library, so its table must exist first.
depends_on: str | Sequence[str] | None = "stories_0001"


def upgrade() -> None:
    with op.batch_alter_table("leader_snippets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("story_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
    # A reference that names a story (``12``, ``#12`` or a slug) keeps pointing at it; anything else is dropped.
    op.execute(
        "UPDATE leader_snippets SET story_id = (SELECT MIN(stories.id) FROM stories"
        " WHERE stories.slug = lower(leader_snippets.story_ref)"
        " OR CAST(stories.id AS TEXT) = ltrim(leader_snippets.story_ref, '#'))"
        " WHERE story_ref IS NOT NULL"
    )
    with op.batch_alter_table("leader_snippets", schema=None) as batch_op:
        batch_op.drop_column("story_ref")


def downgrade() -> None:
    with op.batch_alter_table("leader_snippets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("story_ref", sa.String(length=80), nullable=True))
    op.execute(
        "UPDATE leader_snippets SET story_ref = (SELECT substr(stories.slug, 1, 80) FROM stories"
        " WHERE stories.id = leader_snippets.story_id)"
        " WHERE story_id IS NOT NULL"
    )
    with op.batch_alter_table("leader_snippets", schema=None) as batch_op:
        batch_op.drop_column("story_id")
