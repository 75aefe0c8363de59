"""payments: checkouts, provider events, instalment attempts

Revision ID: 0bd766beeecc
Revises: cabf092e62dc
Create Date: 2026-11-22 19:52:57.352973
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = '0bd766beeecc'
down_revision: str | None = 'cabf092e62dc'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


INSTALMENT_STATUSES_BEFORE = (
    "scheduled",
    "paid",
    "requires_action",
    "failed",
    "missed",
    "moved",
)
INSTALMENT_STATUSES_AFTER = (*INSTALMENT_STATUSES_BEFORE, "processing")


def _instalment_status_check(batch_op, statuses: tuple[str, ...]) -> None:
    batch_op.drop_constraint(op.f("ck_instalments_instalmentstatus"), type_="check")
    allowed = ", ".join(f"'{status}'" for status in statuses)
    batch_op.create_check_constraint(
        op.f("ck_instalments_instalmentstatus"), f"status IN ({allowed})"
    )


def upgrade() -> None:
    op.create_table('payment_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_event_id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('outcome', sa.String(length=200), nullable=False),
    sa.Column('received_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_events')),
    sa.UniqueConstraint('provider_event_id', name=op.f('uq_payment_events_provider_event_id'))
    )
    op.create_table('checkout_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('instalment_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.Enum('pay_balance', 'pay_instalment', 'start_plan', 'save_method', name='checkoutpurpose', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('provider_session_id', sa.String(length=255), nullable=True),
    sa.Column('status', sa.Enum('open', 'completed', 'failed', 'expired', name='checkoutstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('failure_code', sa.String(length=64), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('amount_minor IS NULL OR amount_minor > 0', name=op.f('ck_checkout_attempts_amount_positive')),
    sa.CheckConstraint('length(currency) = 3', name=op.f('ck_checkout_attempts_currency_iso')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_checkout_attempts_account_id_accounts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['instalment_id'], ['instalments.id'], name=op.f('fk_checkout_attempts_instalment_id_instalments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['payment_plans.id'], name=op.f('fk_checkout_attempts_plan_id_payment_plans'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkout_attempts')),
    sa.UniqueConstraint('provider_session_id', name=op.f('uq_checkout_attempts_provider_session_id'))
    )
    with op.batch_alter_table('checkout_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkout_attempts_account_id'), ['account_id'], unique=False)

    with op.batch_alter_table('instalments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('payment_intent_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('failure_code', sa.String(length=64), nullable=True))
        _instalment_status_check(batch_op, INSTALMENT_STATUSES_AFTER)

    with op.batch_alter_table('promises_to_pay', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('nudged_at', app.db.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table('plan_rules', schema=None) as batch_op:
        # Existing creditors get the default pause of 30 days.
        batch_op.add_column(
            sa.Column('breathing_space_days', sa.Integer(), nullable=False, server_default='30')
        )
        batch_op.create_check_constraint(
            op.f('ck_plan_rules_breathing_space_days_range'), 'breathing_space_days BETWEEN 1 AND 90'
        )



def downgrade() -> None:
    with op.batch_alter_table('plan_rules', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_plan_rules_breathing_space_days_range'), type_='check')
        batch_op.drop_column('breathing_space_days')

    with op.batch_alter_table('promises_to_pay', schema=None) as batch_op:
        batch_op.drop_column('nudged_at')

    with op.batch_alter_table('instalments', schema=None) as batch_op:
        _instalment_status_check(batch_op, INSTALMENT_STATUSES_BEFORE)
        batch_op.drop_column('failure_code')
        batch_op.drop_column('payment_intent_id')
        batch_op.drop_column('next_attempt_on')

    with op.batch_alter_table('checkout_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkout_attempts_account_id'))

    op.drop_table('checkout_attempts')
    op.drop_table('payment_events')
