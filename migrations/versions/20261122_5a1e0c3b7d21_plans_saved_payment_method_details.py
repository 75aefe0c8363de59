"""plans: saved payment method details (brand, last four, expiry, wallet)

Revision ID: 5a1e0c3b7d21
Revises: 76cd4a42dd08
Create Date: 2026-11-22 22:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5a1e0c3b7d21'
down_revision: str | None = '76cd4a42dd08'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('payment_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_method_brand', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('payment_method_last4', sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column('payment_method_exp_month', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('payment_method_exp_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('payment_method_wallet', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payment_plans', schema=None) as batch_op:
        batch_op.drop_column('payment_method_wallet')
        batch_op.drop_column('payment_method_exp_year')
        batch_op.drop_column('payment_method_exp_month')
        batch_op.drop_column('payment_method_last4')
        batch_op.drop_column('payment_method_brand')
