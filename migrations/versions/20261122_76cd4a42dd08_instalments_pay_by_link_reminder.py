"""instalments: pay-by-link reminder

Revision ID: 76cd4a42dd08
Revises: 02aa8bbf9dbc
Create Date: 2026-11-22 21:26:22.239617
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = '76cd4a42dd08'
down_revision: str | None = '02aa8bbf9dbc'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('instalments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_at', app.db.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('instalments', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')

