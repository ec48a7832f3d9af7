"""Activities and competitions (活动报名), sign-ups with waiting lists and quotas; staff clubs

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clubs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("leader_id", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["leader_id"], ["staff.id"], name=op.f("fk_clubs_leader_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clubs")),
        sa.UniqueConstraint("name", name=op.f("uq_clubs_name")),
    )
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("organiser_scope", sa.String(length=100), nullable=False),
        sa.Column("club_id", sa.Integer(), nullable=True),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("audience_scope", sa.String(length=100), nullable=False),
        sa.Column("starts_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("signup_deadline", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("teams", sa.Boolean(), nullable=False),
        sa.Column("quota", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("checkin_secret", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["club_id"], ["clubs.id"], name=op.f("fk_activities_club_id_clubs")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["staff.id"], name=op.f("fk_activities_created_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    op.create_table(
        "club_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("club_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["club_id"],
            ["clubs.id"],
            name=op.f("fk_club_members_club_id_clubs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_club_members_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_club_members")),
        sa.UniqueConstraint("club_id", "staff_id", name=op.f("uq_club_members_club_id_staff_id")),
    )
    with op.batch_alter_table("club_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_club_members_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "activity_signups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("sub_union", sa.String(length=100), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("signed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("checked_in_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_signups_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_activity_signups_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_signups")),
        sa.UniqueConstraint(
            "activity_id", "staff_id", name=op.f("uq_activity_signups_activity_id_staff_id")
        ),
    )
    with op.batch_alter_table("activity_signups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_activity_signups_activity_status", ["activity_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_activity_signups_staff_id"), ["staff_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("activity_signups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_signups_staff_id"))
        batch_op.drop_index("ix_activity_signups_activity_status")

    op.drop_table("activity_signups")
    with op.batch_alter_table("club_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_club_members_staff_id"))

    op.drop_table("club_members")
    op.drop_table("activities")
    op.drop_table("clubs")
