"""ingest: uploads, saved mappings, API keys, API idempotency

Revision ID: 8744612d829e
Revises: 0bd766beeecc
Create Date: 2026-11-22 20:09:23.184627
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = '8744612d829e'
down_revision: str | None = '0bd766beeecc'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_idempotency',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('creditor_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_sha256', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response_json', sa.Text(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['creditor_id'], ['creditors.id'], name=op.f('fk_api_idempotency_creditor_id_creditors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_idempotency')),
    sa.UniqueConstraint('creditor_id', 'key', name=op.f('uq_api_idempotency_creditor_id_key'))
    )
    with op.batch_alter_table('api_idempotency', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_idempotency_creditor_id'), ['creditor_id'], unique=False)

    op.create_table('saved_mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('creditor_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('mapping_json', sa.Text(), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['creditor_id'], ['creditors.id'], name=op.f('fk_saved_mappings_creditor_id_creditors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_mappings')),
    sa.UniqueConstraint('creditor_id', 'fingerprint', name=op.f('uq_saved_mappings_creditor_id_fingerprint'))
    )
    with op.batch_alter_table('saved_mappings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_mappings_creditor_id'), ['creditor_id'], unique=False)

    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('creditor_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_api_keys_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['creditor_id'], ['creditors.id'], name=op.f('fk_api_keys_creditor_id_creditors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_creditor_id'), ['creditor_id'], unique=False)

    op.create_table('import_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('creditor_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('file_format', sa.String(length=16), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_path', sa.String(length=500), nullable=False),
    sa.Column('status', sa.Enum('uploaded', 'planned', 'importing', 'imported', 'failed', 'cancelled', name='importstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('mapping_json', sa.Text(), nullable=True),
    sa.Column('plan_json', sa.Text(), nullable=True),
    sa.Column('rows_total', sa.Integer(), nullable=True),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('rows_done >= 0', name=op.f('ck_import_batches_rows_done_nonnegative')),
    sa.CheckConstraint('size_bytes >= 0', name=op.f('ck_import_batches_size_nonnegative')),
    sa.ForeignKeyConstraint(['creditor_id'], ['creditors.id'], name=op.f('fk_import_batches_creditor_id_creditors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_import_batches_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches'))
    )
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_batches_creditor_id'), ['creditor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_batches_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_batches_status'))
        batch_op.drop_index(batch_op.f('ix_import_batches_creditor_id'))

    op.drop_table('import_batches')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_creditor_id'))

    op.drop_table('api_keys')
    with op.batch_alter_table('saved_mappings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_mappings_creditor_id'))

    op.drop_table('saved_mappings')
    with op.batch_alter_table('api_idempotency', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_idempotency_creditor_id'))

    op.drop_table('api_idempotency')
