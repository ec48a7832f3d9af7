"""Files attached to proposals; announcements to registered group chats (an outbox row
for a group instead of a person)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "proposal_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_files_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["staff.id"], name=op.f("fk_proposal_files_uploaded_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_files")),
    )
    with op.batch_alter_table("proposal_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proposal_files_proposal_id"), ["proposal_id"], unique=False
        )

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_id", sa.Integer(), nullable=True))
        batch_op.alter_column("recipient_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_unique_constraint(
            batch_op.f("uq_outbox_reason_group_id"), ["reason", "group_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_group_id_chat_groups"),
            "chat_groups",
            ["group_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_outbox_group_id_chat_groups"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_outbox_reason_group_id"), type_="unique")
        batch_op.alter_column("recipient_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("group_id")

    with op.batch_alter_table("proposal_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_files_proposal_id"))

    op.drop_table("proposal_files")
