"""Add the quality loop: complaints, nonconformities, root-cause analysis, CAPA, signatures.

Revision ID: eb95161ba327
Revises: 2ccf5c40adc5
Create Date: 2026-11-24 09:19:30.746255+00:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'eb95161ba327'
down_revision = '2ccf5c40adc5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_category')),
    sa.UniqueConstraint('name', name=op.f('uq_category_name'))
    )
    op.create_table('reference_counter',
    sa.Column('prefix', sa.String(length=10), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('prefix', 'year', name=op.f('pk_reference_counter'))
    )
    op.create_table('capa',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('kind', sa.Enum('correction', 'corrective', 'preventive', name='capa_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('recovery_dimension', sa.Enum('process', 'employee', name='recovery_dimension', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('planned', 'in_progress', 'implemented', 'verifying', 'effective', 'closed', 'ineffective', name='capa_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('cost', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('implemented_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('follow_up_of_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('cost IS NULL OR cost >= 0', name=op.f('ck_capa_cost_not_negative')),
    sa.ForeignKeyConstraint(['follow_up_of_id'], ['capa.id'], name=op.f('fk_capa_follow_up_of_id_capa')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_capa_owner_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_capa')),
    sa.UniqueConstraint('reference', name=op.f('uq_capa_reference'))
    )
    with op.batch_alter_table('capa', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_capa_due_date'), ['due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_capa_follow_up_of_id'), ['follow_up_of_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_capa_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index('ix_capa_status_due_date', ['status', 'due_date'], unique=False)

    op.create_table('electronic_signature',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_type', sa.String(length=80), nullable=False),
    sa.Column('record_id', sa.String(length=80), nullable=False),
    sa.Column('purpose', sa.String(length=80), nullable=False),
    sa.Column('meaning', sa.Enum('authored', 'reviewed', 'approved', 'verified', name='signature_meaning', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('signer_id', sa.Integer(), nullable=False),
    sa.Column('signer_name', sa.String(length=200), nullable=False),
    sa.Column('signer_email', sa.String(length=254), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['signer_id'], ['user_account.id'], name=op.f('fk_electronic_signature_signer_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_electronic_signature'))
    )
    with op.batch_alter_table('electronic_signature', schema=None) as batch_op:
        batch_op.create_index('ix_electronic_signature_record', ['record_type', 'record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_electronic_signature_signer_id'), ['signer_id'], unique=False)

    op.create_table('capa_principle',
    sa.Column('capa_id', sa.Integer(), nullable=False),
    sa.Column('principle_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['capa_id'], ['capa.id'], name=op.f('fk_capa_principle_capa_id_capa')),
    sa.ForeignKeyConstraint(['principle_id'], ['tqm_principle.id'], name=op.f('fk_capa_principle_principle_id_tqm_principle')),
    sa.PrimaryKeyConstraint('capa_id', 'principle_id', name=op.f('pk_capa_principle'))
    )
    with op.batch_alter_table('capa_principle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_capa_principle_principle_id'), ['principle_id'], unique=False)

    op.create_table('complaint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.Enum('phone', 'email', 'web_form', 'chat', 'social_media', 'in_person', 'letter', 'api', name='channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('severity', sa.Enum('low', 'medium', 'high', 'critical', name='severity', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('received', 'acknowledged', 'investigating', 'resolved', 'closed', 'reopened', name='complaint_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('product_or_service', sa.String(length=200), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('process_id', sa.Integer(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('escalated_by_id', sa.Integer(), nullable=True),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_contact_resolution', sa.Boolean(), nullable=False),
    sa.Column('csat_score', sa.Integer(), nullable=True),
    sa.Column('csat_comment', sa.Text(), nullable=False),
    sa.Column('csat_recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retention_status', sa.Enum('unknown', 'stayed', 'left', name='retention_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('retention_follow_up_days', sa.Integer(), nullable=True),
    sa.Column('retention_checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('source_system', sa.String(length=60), nullable=True),
    sa.Column('external_id', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('csat_score IS NULL OR csat_score BETWEEN 1 AND 5', name=op.f('ck_complaint_csat_range')),
    sa.CheckConstraint('escalation_level BETWEEN 0 AND 3', name=op.f('ck_complaint_escalation_level_range')),
    sa.ForeignKeyConstraint(['assignee_id'], ['user_account.id'], name=op.f('fk_complaint_assignee_id_user_account')),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_complaint_category_id_category')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_complaint_customer_id_customer')),
    sa.ForeignKeyConstraint(['escalated_by_id'], ['user_account.id'], name=op.f('fk_complaint_escalated_by_id_user_account')),
    sa.ForeignKeyConstraint(['process_id'], ['process.id'], name=op.f('fk_complaint_process_id_process')),
    sa.ForeignKeyConstraint(['reporter_id'], ['user_account.id'], name=op.f('fk_complaint_reporter_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint')),
    sa.UniqueConstraint('reference', name=op.f('uq_complaint_reference')),
    sa.UniqueConstraint('source_system', 'external_id', name=op.f('uq_complaint_source_system_external_id'))
    )
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_channel'), ['channel'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_complaint_process_category_received_at', ['process_id', 'category_id', 'received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_severity'), ['severity'], unique=False)
        batch_op.create_index('ix_complaint_status_received_at', ['status', 'received_at'], unique=False)

    op.create_table('effectiveness_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('capa_id', sa.Integer(), nullable=False),
    sa.Column('criterion', sa.Text(), nullable=False),
    sa.Column('method', sa.Enum('manual_review', 'no_recurrence', name='check_method', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('window_days', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('result', sa.Enum('pending', 'passed', 'failed', name='check_result', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('checked_by_id', sa.Integer(), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("method <> 'no_recurrence' OR window_days > 0", name=op.f('ck_effectiveness_check_automatic_needs_window')),
    sa.ForeignKeyConstraint(['capa_id'], ['capa.id'], name=op.f('fk_effectiveness_check_capa_id_capa')),
    sa.ForeignKeyConstraint(['checked_by_id'], ['user_account.id'], name=op.f('fk_effectiveness_check_checked_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_effectiveness_check'))
    )
    with op.batch_alter_table('effectiveness_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_effectiveness_check_capa_id'), ['capa_id'], unique=False)
        batch_op.create_index('ix_effectiveness_check_result_due_date', ['result', 'due_date'], unique=False)

    op.create_table('nonconformity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('source', sa.Enum('customer_complaint', 'internal_audit', 'process_monitoring', 'supplier', 'employee_report', 'recurring_failure_review', name='nonconformity_source', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('open', 'contained', 'under_investigation', 'action_planned', 'verifying', 'closed', 'cancelled', name='nonconformity_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('process_id', sa.Integer(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('severity', sa.Integer(), nullable=False),
    sa.Column('occurrence', sa.Integer(), nullable=False),
    sa.Column('detection', sa.Integer(), nullable=False),
    sa.Column('containment_action', sa.Text(), nullable=False),
    sa.Column('contained_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('detection BETWEEN 1 AND 10', name=op.f('ck_nonconformity_detection_range')),
    sa.CheckConstraint('occurrence BETWEEN 1 AND 10', name=op.f('ck_nonconformity_occurrence_range')),
    sa.CheckConstraint('severity BETWEEN 1 AND 10', name=op.f('ck_nonconformity_severity_range')),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_nonconformity_category_id_category')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_nonconformity_owner_id_user_account')),
    sa.ForeignKeyConstraint(['process_id'], ['process.id'], name=op.f('fk_nonconformity_process_id_process')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nonconformity')),
    sa.UniqueConstraint('reference', name=op.f('uq_nonconformity_reference'))
    )
    with op.batch_alter_table('nonconformity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nonconformity_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_nonconformity_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index('ix_nonconformity_process_category_detected_at', ['process_id', 'category_id', 'detected_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_nonconformity_source'), ['source'], unique=False)
        batch_op.create_index('ix_nonconformity_status_detected_at', ['status', 'detected_at'], unique=False)

    op.create_table('training_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('capa_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['capa_id'], ['capa.id'], name=op.f('fk_training_assignment_capa_id_capa')),
    sa.ForeignKeyConstraint(['staff_id'], ['user_account.id'], name=op.f('fk_training_assignment_staff_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_assignment'))
    )
    with op.batch_alter_table('training_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_assignment_capa_id'), ['capa_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_assignment_due_date'), ['due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_assignment_staff_id'), ['staff_id'], unique=False)

    op.create_table('capa_nonconformity',
    sa.Column('capa_id', sa.Integer(), nullable=False),
    sa.Column('nonconformity_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['capa_id'], ['capa.id'], name=op.f('fk_capa_nonconformity_capa_id_capa')),
    sa.ForeignKeyConstraint(['nonconformity_id'], ['nonconformity.id'], name=op.f('fk_capa_nonconformity_nonconformity_id_nonconformity')),
    sa.PrimaryKeyConstraint('capa_id', 'nonconformity_id', name=op.f('pk_capa_nonconformity'))
    )
    with op.batch_alter_table('capa_nonconformity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_capa_nonconformity_nonconformity_id'), ['nonconformity_id'], unique=False)

    op.create_table('complaint_nonconformity',
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('nonconformity_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_complaint_nonconformity_complaint_id_complaint')),
    sa.ForeignKeyConstraint(['nonconformity_id'], ['nonconformity.id'], name=op.f('fk_complaint_nonconformity_nonconformity_id_nonconformity')),
    sa.PrimaryKeyConstraint('complaint_id', 'nonconformity_id', name=op.f('pk_complaint_nonconformity'))
    )
    with op.batch_alter_table('complaint_nonconformity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_nonconformity_nonconformity_id'), ['nonconformity_id'], unique=False)

    op.create_table('recovery_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('apology', 'explanation', 'refund', 'replacement', 'compensation', 'goodwill', 'other', name='recovery_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(amount IS NULL) = (currency IS NULL)', name=op.f('ck_recovery_action_amount_and_currency_together')),
    sa.CheckConstraint('amount IS NULL OR amount >= 0', name=op.f('ck_recovery_action_amount_not_negative')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_recovery_action_complaint_id_complaint')),
    sa.ForeignKeyConstraint(['done_by_id'], ['user_account.id'], name=op.f('fk_recovery_action_done_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_action'))
    )
    with op.batch_alter_table('recovery_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_action_complaint_id'), ['complaint_id'], unique=False)

    op.create_table('root_cause_analysis',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nonconformity_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.Enum('five_whys', 'ishikawa', 'eight_d', name='analysis_method', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('problem_statement', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_root_cause_analysis_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['nonconformity_id'], ['nonconformity.id'], name=op.f('fk_root_cause_analysis_nonconformity_id_nonconformity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_root_cause_analysis'))
    )
    with op.batch_alter_table('root_cause_analysis', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_root_cause_analysis_nonconformity_id'), ['nonconformity_id'], unique=False)

    op.create_table('eight_d_section',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('analysis_id', sa.Integer(), nullable=False),
    sa.Column('discipline', sa.String(length=2), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['analysis_id'], ['root_cause_analysis.id'], name=op.f('fk_eight_d_section_analysis_id_root_cause_analysis')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eight_d_section')),
    sa.UniqueConstraint('analysis_id', 'discipline', name=op.f('uq_eight_d_section_analysis_id_discipline'))
    )
    op.create_table('ishikawa_cause',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('analysis_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=60), nullable=False),
    sa.Column('cause', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['analysis_id'], ['root_cause_analysis.id'], name=op.f('fk_ishikawa_cause_analysis_id_root_cause_analysis')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ishikawa_cause'))
    )
    with op.batch_alter_table('ishikawa_cause', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ishikawa_cause_analysis_id'), ['analysis_id'], unique=False)

    op.create_table('root_cause',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('analysis_id', sa.Integer(), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('cause_category', sa.String(length=60), nullable=False),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['analysis_id'], ['root_cause_analysis.id'], name=op.f('fk_root_cause_analysis_id_root_cause_analysis')),
    sa.ForeignKeyConstraint(['verified_by_id'], ['user_account.id'], name=op.f('fk_root_cause_verified_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_root_cause'))
    )
    with op.batch_alter_table('root_cause', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_root_cause_analysis_id'), ['analysis_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_root_cause_cause_category'), ['cause_category'], unique=False)

    op.create_table('why_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('analysis_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('why', sa.Text(), nullable=False),
    sa.Column('because', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['analysis_id'], ['root_cause_analysis.id'], name=op.f('fk_why_step_analysis_id_root_cause_analysis')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_why_step')),
    sa.UniqueConstraint('analysis_id', 'position', name=op.f('uq_why_step_analysis_id_position'))
    )
    op.create_table('capa_root_cause',
    sa.Column('capa_id', sa.Integer(), nullable=False),
    sa.Column('root_cause_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['capa_id'], ['capa.id'], name=op.f('fk_capa_root_cause_capa_id_capa')),
    sa.ForeignKeyConstraint(['root_cause_id'], ['root_cause.id'], name=op.f('fk_capa_root_cause_root_cause_id_root_cause')),
    sa.PrimaryKeyConstraint('capa_id', 'root_cause_id', name=op.f('pk_capa_root_cause'))
    )
    with op.batch_alter_table('capa_root_cause', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_capa_root_cause_root_cause_id'), ['root_cause_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('capa_root_cause', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_capa_root_cause_root_cause_id'))

    op.drop_table('capa_root_cause')
    op.drop_table('why_step')
    with op.batch_alter_table('root_cause', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_root_cause_cause_category'))
        batch_op.drop_index(batch_op.f('ix_root_cause_analysis_id'))

    op.drop_table('root_cause')
    with op.batch_alter_table('ishikawa_cause', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ishikawa_cause_analysis_id'))

    op.drop_table('ishikawa_cause')
    op.drop_table('eight_d_section')
    with op.batch_alter_table('root_cause_analysis', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_root_cause_analysis_nonconformity_id'))

    op.drop_table('root_cause_analysis')
    with op.batch_alter_table('recovery_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_action_complaint_id'))

    op.drop_table('recovery_action')
    with op.batch_alter_table('complaint_nonconformity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_nonconformity_nonconformity_id'))

    op.drop_table('complaint_nonconformity')
    with op.batch_alter_table('capa_nonconformity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_capa_nonconformity_nonconformity_id'))

    op.drop_table('capa_nonconformity')
    with op.batch_alter_table('training_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_assignment_staff_id'))
        batch_op.drop_index(batch_op.f('ix_training_assignment_due_date'))
        batch_op.drop_index(batch_op.f('ix_training_assignment_capa_id'))

    op.drop_table('training_assignment')
    with op.batch_alter_table('nonconformity', schema=None) as batch_op:
        batch_op.drop_index('ix_nonconformity_status_detected_at')
        batch_op.drop_index(batch_op.f('ix_nonconformity_source'))
        batch_op.drop_index('ix_nonconformity_process_category_detected_at')
        batch_op.drop_index(batch_op.f('ix_nonconformity_owner_id'))
        batch_op.drop_index(batch_op.f('ix_nonconformity_category_id'))

    op.drop_table('nonconformity')
    with op.batch_alter_table('effectiveness_check', schema=None) as batch_op:
        batch_op.drop_index('ix_effectiveness_check_result_due_date')
        batch_op.drop_index(batch_op.f('ix_effectiveness_check_capa_id'))

    op.drop_table('effectiveness_check')
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_status_received_at')
        batch_op.drop_index(batch_op.f('ix_complaint_severity'))
        batch_op.drop_index(batch_op.f('ix_complaint_received_at'))
        batch_op.drop_index('ix_complaint_process_category_received_at')
        batch_op.drop_index(batch_op.f('ix_complaint_customer_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_channel'))
        batch_op.drop_index(batch_op.f('ix_complaint_category_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_assignee_id'))

    op.drop_table('complaint')
    with op.batch_alter_table('capa_principle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_capa_principle_principle_id'))

    op.drop_table('capa_principle')
    with op.batch_alter_table('electronic_signature', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_electronic_signature_signer_id'))
        batch_op.drop_index('ix_electronic_signature_record')

    op.drop_table('electronic_signature')
    with op.batch_alter_table('capa', schema=None) as batch_op:
        batch_op.drop_index('ix_capa_status_due_date')
        batch_op.drop_index(batch_op.f('ix_capa_owner_id'))
        batch_op.drop_index(batch_op.f('ix_capa_follow_up_of_id'))
        batch_op.drop_index(batch_op.f('ix_capa_due_date'))

    op.drop_table('capa')
    op.drop_table('reference_counter')
    op.drop_table('category')
