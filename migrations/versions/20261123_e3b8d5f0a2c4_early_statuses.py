"""early statuses: provider status callbacks that came before the text's id was recorded

Revision ID: e3b8d5f0a2c4
Revises: 6b2f1d4c8e32
Create Date: 2026-11-23 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = 'e3b8d5f0a2c4'
down_revision: str | None = '6b2f1d4c8e32'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('early_statuses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_message_id', sa.String(length=64), nullable=False),
    sa.Column('provider_status', sa.String(length=32), nullable=False),
    sa.Column('error_code', sa.String(length=32), nullable=True),
    sa.Column('received_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_early_statuses')),
    sa.UniqueConstraint('provider_message_id', 'provider_status', name=op.f('uq_early_statuses_provider_message_id_provider_status'))
    )
    with op.batch_alter_table('early_statuses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_early_statuses_received_at'), ['received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('early_statuses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_early_statuses_received_at'))
    op.drop_table('early_statuses')
