"""step texts: a creditor's own wording of a sequence step per language

Revision ID: 6b2f1d4c8e32
Revises: 5a1e0c3b7d21
Create Date: 2026-11-22 22:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = '6b2f1d4c8e32'
down_revision: str | None = '5a1e0c3b7d21'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('step_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.Enum('da', 'nb', 'en', name='language', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('saved_by_id', sa.Integer(), nullable=True),
    sa.Column('saved_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['saved_by_id'], ['users.id'], name=op.f('fk_step_texts_saved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['step_id'], ['steps.id'], name=op.f('fk_step_texts_step_id_steps'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_step_texts')),
    sa.UniqueConstraint('step_id', 'language', name=op.f('uq_step_texts_step_id_language'))
    )


def downgrade() -> None:
    op.drop_table('step_texts')
