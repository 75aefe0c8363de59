"""initial schema

Revision ID: cabf092e62dc
Revises:
Create Date: 2026-11-22 17:34:45.136867
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = 'cabf092e62dc'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('creditors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('default_language', sa.Enum('da', 'nb', 'en', name='language', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('sms_sender_name', sa.String(length=11), nullable=True),
    sa.Column('verification_factor', sa.Enum('birth_date', 'postcode', 'reference', name='verificationfactor', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('show_amount_in_sms', sa.Boolean(), nullable=False),
    sa.Column('support_phone', sa.String(length=20), nullable=True),
    sa.Column('support_email', sa.String(length=200), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(country) = 2', name=op.f('ck_creditors_country_iso')),
    sa.CheckConstraint('length(currency) = 3', name=op.f('ck_creditors_currency_iso')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_creditors')),
    sa.UniqueConstraint('slug', name=op.f('uq_creditors_slug'))
    )
    op.create_table('debtors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('creditor_id', sa.Integer(), nullable=False),
    sa.Column('customer_number', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('phone_e164', sa.String(length=16), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('language', sa.Enum('da', 'nb', 'en', name='language', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('postcode', sa.String(length=16), nullable=True),
    sa.Column('sms_opted_out_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('email_opted_out_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cease_contact_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('phone_unusable_reason', sa.String(length=32), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(country) = 2', name=op.f('ck_debtors_country_iso')),
    sa.ForeignKeyConstraint(['creditor_id'], ['creditors.id'], name=op.f('fk_debtors_creditor_id_creditors'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debtors')),
    sa.UniqueConstraint('creditor_id', 'customer_number', name=op.f('uq_debtors_creditor_id_customer_number'))
    )
    with op.batch_alter_table('debtors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_debtors_creditor_id'), ['creditor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_debtors_phone_e164'), ['phone_e164'], unique=False)

    op.create_table('plan_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('creditor_id', sa.Integer(), nullable=False),
    sa.Column('max_instalments', sa.Integer(), nullable=False),
    sa.Column('min_instalment_minor', sa.BigInteger(), nullable=False),
    sa.Column('first_payment_within_days', sa.Integer(), nullable=False),
    sa.Column('allow_weekly', sa.Boolean(), nullable=False),
    sa.Column('allow_fortnightly', sa.Boolean(), nullable=False),
    sa.Column('allow_monthly', sa.Boolean(), nullable=False),
    sa.Column('payday_day_of_month', sa.Integer(), nullable=True),
    sa.Column('promise_max_days', sa.Integer(), nullable=False),
    sa.Column('grace_moves_missed_instalment', sa.Boolean(), nullable=False),
    sa.CheckConstraint('first_payment_within_days >= 0', name=op.f('ck_plan_rules_first_payment_nonnegative')),
    sa.CheckConstraint('max_instalments >= 1', name=op.f('ck_plan_rules_max_instalments_positive')),
    sa.CheckConstraint('min_instalment_minor >= 0', name=op.f('ck_plan_rules_min_instalment_nonnegative')),
    sa.CheckConstraint('payday_day_of_month IS NULL OR payday_day_of_month BETWEEN 1 AND 31', name=op.f('ck_plan_rules_payday_day_of_month_range')),
    sa.CheckConstraint('promise_max_days >= 1', name=op.f('ck_plan_rules_promise_max_days_positive')),
    sa.ForeignKeyConstraint(['creditor_id'], ['creditors.id'], name=op.f('fk_plan_rules_creditor_id_creditors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_rules')),
    sa.UniqueConstraint('creditor_id', name=op.f('uq_plan_rules_creditor_id'))
    )
    op.create_table('sequences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('creditor_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['creditor_id'], ['creditors.id'], name=op.f('fk_sequences_creditor_id_creditors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sequences'))
    )
    with op.batch_alter_table('sequences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sequences_creditor_id'), ['creditor_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('admin', 'supervisor', 'agent', 'creditor', name='role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('creditor_id', sa.Integer(), nullable=True),
    sa.Column('language', sa.Enum('da', 'nb', 'en', name='language', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(role = 'creditor') = (creditor_id IS NOT NULL)", name=op.f('ck_users_creditor_role_has_tenant')),
    sa.ForeignKeyConstraint(['creditor_id'], ['creditors.id'], name=op.f('fk_users_creditor_id_creditors'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_creditor_id'), ['creditor_id'], unique=False)

    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('creditor_id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('sequence_id', sa.Integer(), nullable=True),
    sa.Column('external_reference', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('original_amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('open', 'promised', 'plan', 'paid', 'disputed', 'paused', 'closed', name='accountstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('paused_until', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pause_reason', sa.String(length=64), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(currency) = 3', name=op.f('ck_accounts_currency_iso')),
    sa.CheckConstraint('original_amount_minor >= 0', name=op.f('ck_accounts_original_amount_nonnegative')),
    sa.ForeignKeyConstraint(['creditor_id'], ['creditors.id'], name=op.f('fk_accounts_creditor_id_creditors'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_accounts_debtor_id_debtors'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['sequence_id'], ['sequences.id'], name=op.f('fk_accounts_sequence_id_sequences'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('creditor_id', 'external_reference', name=op.f('uq_accounts_creditor_id_external_reference'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_creditor_id'), ['creditor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_debtor_id'), ['debtor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_status'), ['status'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('creditor_id', sa.Integer(), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_audit_events_actor_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['creditor_id'], ['creditors.id'], name=op.f('fk_audit_events_creditor_id_creditors'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_actor_user_id'), ['actor_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_creditor_id'), ['creditor_id'], unique=False)

    op.create_table('conversations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('creditor_id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('waiting', 'active', 'closed', name='conversationstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('language', sa.Enum('da', 'nb', 'en', name='language', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('assigned_user_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('csat_score', sa.Integer(), nullable=True),
    sa.Column('csat_comment', sa.Text(), nullable=True),
    sa.Column('opened_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('first_response_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('csat_score IS NULL OR csat_score BETWEEN 1 AND 5', name=op.f('ck_conversations_csat_range')),
    sa.ForeignKeyConstraint(['assigned_user_id'], ['users.id'], name=op.f('fk_conversations_assigned_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['creditor_id'], ['creditors.id'], name=op.f('fk_conversations_creditor_id_creditors'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_conversations_debtor_id_debtors'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversations'))
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversations_assigned_user_id'), ['assigned_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversations_creditor_id'), ['creditor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversations_debtor_id'), ['debtor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversations_status'), ['status'], unique=False)

    op.create_table('inbound_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=True),
    sa.Column('from_address', sa.String(length=32), nullable=False),
    sa.Column('to_address', sa.String(length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('provider_message_id', sa.String(length=64), nullable=False),
    sa.Column('keyword', sa.String(length=16), nullable=True),
    sa.Column('received_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_inbound_messages_debtor_id_debtors'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_messages')),
    sa.UniqueConstraint('provider_message_id', name=op.f('uq_inbound_messages_provider_message_id'))
    )
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_messages_debtor_id'), ['debtor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_messages_received_at'), ['received_at'], unique=False)

    op.create_table('portal_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('verified_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('failed_attempts >= 0', name=op.f('ck_portal_links_failed_attempts_nonnegative')),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_portal_links_debtor_id_debtors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_portal_links_token_hash'))
    )
    with op.batch_alter_table('portal_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_links_debtor_id'), ['debtor_id'], unique=False)

    op.create_table('steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sequence_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('day_offset', sa.Integer(), nullable=False),
    sa.Column('offset_from', sa.Enum('due_date', 'previous_step', name='stepoffsetfrom', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('channel', sa.Enum('sms', 'email', name='channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('action', sa.Enum('send', 'hand_to_agent', name='stepaction', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('template_key', sa.String(length=64), nullable=False),
    sa.Column('firm_tone_allowed_by_id', sa.Integer(), nullable=True),
    sa.Column('retired_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('day_offset >= 0', name=op.f('ck_steps_day_offset_nonnegative')),
    sa.CheckConstraint('position >= 0', name=op.f('ck_steps_position_nonnegative')),
    sa.ForeignKeyConstraint(['firm_tone_allowed_by_id'], ['users.id'], name=op.f('fk_steps_firm_tone_allowed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sequence_id'], ['sequences.id'], name=op.f('fk_steps_sequence_id_sequences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_steps'))
    )
    with op.batch_alter_table('steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_steps_sequence_id'), ['sequence_id'], unique=False)

    op.create_table('chat_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('sender', sa.Enum('debtor', 'agent', 'system', name='chatsender', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('author_user_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('via_sms', sa.Boolean(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_user_id'], ['users.id'], name=op.f('fk_chat_messages_author_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_chat_messages_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_messages'))
    )
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_messages_conversation_id'), ['conversation_id'], unique=False)

    op.create_table('ledger_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('charge', 'fee', 'refund', 'payment', 'credit', name='ledgerkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('occurred_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_ledger_entries_amount_positive')),
    sa.CheckConstraint('length(currency) = 3', name=op.f('ck_ledger_entries_currency_iso')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_ledger_entries_account_id_accounts'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries')),
    sa.UniqueConstraint('external_id', name=op.f('uq_ledger_entries_external_id'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_entries_account_id'), ['account_id'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('step_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.Enum('sms', 'email', name='channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('template_key', sa.String(length=64), nullable=False),
    sa.Column('language', sa.Enum('da', 'nb', 'en', name='language', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('queued', 'sending', 'sent', 'delivered', 'failed', 'undelivered', 'unknown', 'suppressed', name='messagestatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('suppressed_reason', sa.String(length=32), nullable=True),
    sa.Column('not_before', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('provider_message_id', sa.String(length=64), nullable=True),
    sa.Column('segments', sa.Integer(), nullable=True),
    sa.Column('price_minor', sa.BigInteger(), nullable=True),
    sa.Column('price_currency', sa.String(length=3), nullable=True),
    sa.Column('error_code', sa.String(length=32), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status_updated_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_messages_attempts_nonnegative')),
    sa.CheckConstraint('price_minor IS NULL OR price_minor >= 0', name=op.f('ck_messages_price_nonnegative')),
    sa.CheckConstraint('segments IS NULL OR segments >= 1', name=op.f('ck_messages_segments_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_messages_account_id_accounts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_messages_debtor_id_debtors'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['step_id'], ['steps.id'], name=op.f('fk_messages_step_id_steps'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('account_id', 'step_id', name=op.f('uq_messages_account_id_step_id')),
    sa.UniqueConstraint('provider_message_id', name=op.f('uq_messages_provider_message_id'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messages_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_debtor_id'), ['debtor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_not_before'), ['not_before'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_status'), ['status'], unique=False)

    op.create_table('payment_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'active', 'completed', 'broken', 'cancelled', name='planstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('frequency', sa.Enum('weekly', 'fortnightly', 'monthly', name='planfrequency', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('payment_method_ref', sa.String(length=255), nullable=True),
    sa.Column('customer_ref', sa.String(length=255), nullable=True),
    sa.Column('grace_used', sa.Boolean(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('length(currency) = 3', name=op.f('ck_payment_plans_currency_iso')),
    sa.CheckConstraint('total_minor > 0', name=op.f('ck_payment_plans_total_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_payment_plans_account_id_accounts'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_plans'))
    )
    with op.batch_alter_table('payment_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_plans_account_id'), ['account_id'], unique=False)

    op.create_table('promises_to_pay',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('promised_on', sa.Date(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'kept', 'broken', 'cancelled', name='promisestatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor IS NULL OR amount_minor > 0', name=op.f('ck_promises_to_pay_amount_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_promises_to_pay_account_id_accounts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_promises_to_pay_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promises_to_pay'))
    )
    with op.batch_alter_table('promises_to_pay', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_promises_to_pay_account_id'), ['account_id'], unique=False)

    op.create_table('risk_signals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('severity', sa.Enum('low', 'medium', 'high', name='severity', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('source', sa.Enum('sms', 'chat', 'portal', 'event', 'agent', name='signalsource', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('confidence', sa.Double(), nullable=False),
    sa.Column('action_taken', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('open', 'confirmed', 'dismissed', 'resolved', name='signalstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('confidence >= 0 AND confidence <= 1', name=op.f('ck_risk_signals_confidence_range')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_risk_signals_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_risk_signals_debtor_id_debtors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_risk_signals_reviewed_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_signals'))
    )
    with op.batch_alter_table('risk_signals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_signals_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_signals_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_signals_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_signals_debtor_id'), ['debtor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_signals_status'), ['status'], unique=False)

    op.create_table('contact_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.Enum('sms', 'email', name='channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('outcome', sa.Enum('deferred', 'suppressed', name='decisionoutcome', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('defer_until', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('checked_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_contact_decisions_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_contact_decisions_debtor_id_debtors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_contact_decisions_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_decisions'))
    )
    with op.batch_alter_table('contact_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_decisions_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_decisions_debtor_id'), ['debtor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_decisions_message_id'), ['message_id'], unique=False)

    op.create_table('instalments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('seq_no', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Enum('scheduled', 'paid', 'requires_action', 'failed', 'missed', 'moved', name='instalmentstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_attempt_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paid_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_instalments_amount_positive')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_instalments_attempts_nonnegative')),
    sa.ForeignKeyConstraint(['plan_id'], ['payment_plans.id'], name=op.f('fk_instalments_plan_id_payment_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instalments')),
    sa.UniqueConstraint('plan_id', 'seq_no', name=op.f('uq_instalments_plan_id_seq_no'))
    )
    with op.batch_alter_table('instalments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instalments_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_instalments_plan_id'), ['plan_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('instalments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instalments_plan_id'))
        batch_op.drop_index(batch_op.f('ix_instalments_due_on'))

    op.drop_table('instalments')
    with op.batch_alter_table('contact_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_decisions_message_id'))
        batch_op.drop_index(batch_op.f('ix_contact_decisions_debtor_id'))
        batch_op.drop_index(batch_op.f('ix_contact_decisions_account_id'))

    op.drop_table('contact_decisions')
    with op.batch_alter_table('risk_signals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_signals_status'))
        batch_op.drop_index(batch_op.f('ix_risk_signals_debtor_id'))
        batch_op.drop_index(batch_op.f('ix_risk_signals_created_at'))
        batch_op.drop_index(batch_op.f('ix_risk_signals_category'))
        batch_op.drop_index(batch_op.f('ix_risk_signals_account_id'))

    op.drop_table('risk_signals')
    with op.batch_alter_table('promises_to_pay', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_promises_to_pay_account_id'))

    op.drop_table('promises_to_pay')
    with op.batch_alter_table('payment_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_plans_account_id'))

    op.drop_table('payment_plans')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_status'))
        batch_op.drop_index(batch_op.f('ix_messages_not_before'))
        batch_op.drop_index(batch_op.f('ix_messages_debtor_id'))
        batch_op.drop_index(batch_op.f('ix_messages_account_id'))

    op.drop_table('messages')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entries_account_id'))

    op.drop_table('ledger_entries')
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_messages_conversation_id'))

    op.drop_table('chat_messages')
    with op.batch_alter_table('steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_steps_sequence_id'))

    op.drop_table('steps')
    with op.batch_alter_table('portal_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_links_debtor_id'))

    op.drop_table('portal_links')
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_messages_received_at'))
        batch_op.drop_index(batch_op.f('ix_inbound_messages_debtor_id'))

    op.drop_table('inbound_messages')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversations_status'))
        batch_op.drop_index(batch_op.f('ix_conversations_debtor_id'))
        batch_op.drop_index(batch_op.f('ix_conversations_creditor_id'))
        batch_op.drop_index(batch_op.f('ix_conversations_assigned_user_id'))

    op.drop_table('conversations')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_creditor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_user_id'))

    op.drop_table('audit_events')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_status'))
        batch_op.drop_index(batch_op.f('ix_accounts_debtor_id'))
        batch_op.drop_index(batch_op.f('ix_accounts_creditor_id'))

    op.drop_table('accounts')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_creditor_id'))

    op.drop_table('users')
    with op.batch_alter_table('sequences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sequences_creditor_id'))

    op.drop_table('sequences')
    op.drop_table('plan_rules')
    with op.batch_alter_table('debtors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_debtors_phone_e164'))
        batch_op.drop_index(batch_op.f('ix_debtors_creditor_id'))

    op.drop_table('debtors')
    op.drop_table('creditors')

