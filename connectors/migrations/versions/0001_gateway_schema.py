"""the gateway's schema: conversations, messages, outbox, channels' bookkeeping, logins, job leases

Revision ID: 0001
Revises:
Create Date: 2026-12-07

Databases made before the gateway had migrations (by create_all, with or without the columns later
versions added) are brought to this shape here too: a table that is missing is created, a table that
is there gets the columns it lacks. So every gateway database, new or old, is at 0001 after it.
"""

import sqlalchemy as sa
from alembic import op

import common.database

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

FROZEN = sa.MetaData()  # the tables as of this revision (the models may change after it)

sa.Table(
    "console_logins",
    FROZEN,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("token_hash", sa.String(length=64), nullable=False),
    sa.Column("username", sa.String(length=64), nullable=False),
    sa.Column("display_name", sa.String(length=64), nullable=False),
    sa.Column("role", sa.String(length=16), nullable=False),
    sa.Column("unit", sa.String(length=40), nullable=True),
    sa.Column("unit_name", sa.String(length=80), nullable=True),
    sa.Column("expires_at", common.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column("created_at", common.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("token_hash"),
)
sa.Table(
    "conversations",
    FROZEN,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("channel", sa.String(length=20), nullable=False),
    sa.Column("identity", sa.String(length=128), nullable=False),
    sa.Column("sender_id", sa.String(length=160), nullable=False),
    sa.Column("handling", sa.String(length=12), nullable=False),
    sa.Column("handoff_reason", sa.String(length=40), nullable=True),
    sa.Column("waiting_since", common.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column("operator", sa.String(length=64), nullable=True),
    sa.Column("created_at", common.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column("last_message_at", common.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("channel", "identity"),
    sa.UniqueConstraint("sender_id"),
)
sa.Table(
    "feed_cursor",
    FROZEN,
    sa.Column("name", sa.String(length=20), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("name"),
)
sa.Table(
    "job_leases",
    FROZEN,
    sa.Column("name", sa.String(length=40), nullable=False),
    sa.Column("holder", sa.String(length=120), nullable=True),
    sa.Column("expires_at", common.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column("started_at", common.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column("finished_at", common.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column("outcome", sa.String(length=300), nullable=True),
    sa.PrimaryKeyConstraint("name"),
)
sa.Table(
    "seen_inbound",
    FROZEN,
    sa.Column("key", sa.String(length=160), nullable=False),
    sa.Column("seen_at", common.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("key"),
)
sa.Table(
    "seen_updates",
    FROZEN,
    sa.Column("update_id", sa.Integer(), autoincrement=False, nullable=False),
    sa.Column("seen_at", common.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column("state", sa.String(length=10), server_default="done", nullable=False),
    sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
    sa.Column("payload", sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint("update_id"),
)
sa.Table(
    "sender_renames",
    FROZEN,
    sa.Column("old_sender_id", sa.String(length=160), nullable=False),
    sa.Column("new_sender_id", sa.String(length=160), nullable=False),
    sa.Column("tracker_done", sa.Boolean(), nullable=False),
    sa.Column("created_at", common.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("old_sender_id"),
)
sa.Table(
    "conversation_seen",
    FROZEN,
    sa.Column("username", sa.String(length=64), nullable=False),
    sa.Column("conversation_id", sa.Integer(), nullable=False),
    sa.Column("message_id", sa.Integer(), nullable=False),
    sa.Column("seen_at", common.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("username", "conversation_id"),
)
sa.Table(
    "messages",
    FROZEN,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("conversation_id", sa.Integer(), nullable=False),
    sa.Column("direction", sa.String(length=3), nullable=False),
    sa.Column("author", sa.String(length=10), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("payload", sa.JSON(), nullable=False),
    sa.Column("state", sa.String(length=10), nullable=False),
    sa.Column("created_at", common.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id"),
)
sa.Index(
    "ix_messages_conversation_id_id",
    FROZEN.tables["messages"].c.conversation_id,
    FROZEN.tables["messages"].c.id,
    unique=False,
)
sa.Table(
    "pending_ratings",
    FROZEN,
    sa.Column("event_id", sa.Integer(), autoincrement=False, nullable=False),
    sa.Column("conversation_id", sa.Integer(), nullable=False),
    sa.Column("case_number", sa.String(length=16), nullable=False),
    sa.Column("created_at", common.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("event_id"),
)
sa.Table(
    "sms_ratings",
    FROZEN,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("event_id", sa.Integer(), nullable=False),
    sa.Column("conversation_id", sa.Integer(), nullable=False),
    sa.Column("case_number", sa.String(length=16), nullable=False),
    sa.Column("state", sa.String(length=10), nullable=False),
    sa.Column("satisfaction", sa.String(length=20), nullable=True),
    sa.Column("asked_at", common.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column("answered_at", common.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("event_id"),
)
sa.Table(
    "outbox",
    FROZEN,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("message_id", sa.Integer(), nullable=False),
    sa.Column("conversation_id", sa.Integer(), nullable=False),
    sa.Column("state", sa.String(length=8), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", common.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column("last_error", sa.String(length=200), nullable=True),
    sa.Column("external_id", sa.String(length=64), nullable=True),
    sa.Column("created_at", common.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column("sent_at", common.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("message_id"),
)
sa.Index(
    "ix_outbox_state_due",
    FROZEN.tables["outbox"].c.state,
    FROZEN.tables["outbox"].c.next_attempt_at,
    unique=False,
)
sa.Table(
    "sms_attempts",
    FROZEN,
    sa.Column("message_id", sa.Integer(), autoincrement=False, nullable=False),
    sa.Column("attempted_at", common.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("message_id"),
)


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    for table in FROZEN.sorted_tables:
        if not inspector.has_table(table.name):
            table.create(bind)
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:  # a database from before migrations
                op.add_column(table.name, column._copy())


def downgrade() -> None:
    for table in reversed(FROZEN.sorted_tables):
        op.drop_table(table.name)
