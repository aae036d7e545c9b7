# Generated from a schema diff on 2026-11-23 12:49.
"""The first schema: every table of the design card's data model (frozen copies of the models)."""
from peewee import *

# JSON is stored as text (webapp.models.base.JSONField); callable defaults such as utcnow live in the
# models, not in the schema, so the frozen copies below need none.
JSONField = TextField


def up(migrator, db):
    class ActionCode(Model):
        code = CharField(unique=True)
        label = CharField()
        channel = CharField(null=True)
        counts_toward_budget = BooleanField(default=True)
        active = BooleanField(default=True)
        class Meta:
            database = db
            table_name = 'action_code'
    db.create_tables([ActionCode])

    class Stage(Model):
        name = CharField()
        position = IntegerField(index=True, default=0)
        kind = CharField(default='open')
        retired = BooleanField(default=False)
        class Meta:
            database = db
            table_name = 'stage'
    db.create_tables([Stage])

    class LostReason(Model):
        code = CharField(unique=True)
        label = CharField()
        position = IntegerField(default=0)
        active = BooleanField(default=True)
        class Meta:
            database = db
            table_name = 'lost_reason'
    db.create_tables([LostReason])

    class User(Model):
        email = CharField(unique=True)
        name = CharField()
        role = CharField(index=True)
        password_hash = CharField()
        active = BooleanField(default=True)
        session_token = CharField()
        locale = CharField(null=True)
        created_at = DateTimeField()
        last_login_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'user'
    db.create_tables([User])

    class Patient(Model):
        external_id = CharField(unique=True, null=True)
        source = CharField(null=True)
        first_name = CharField(default='')
        last_name = CharField(default='')
        phone = CharField(index=True, null=True)
        phone_raw = CharField(default='')
        email = CharField(index=True, null=True)
        birth_date = DateField(index=True, null=True)
        provenance = TextField(default='')
        created_at = DateTimeField()
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'patient'
    db.create_tables([Patient])

    class Prospect(Model):
        first_name = CharField(default='')
        last_name = CharField(default='')
        phone = CharField(index=True, null=True)
        phone_raw = CharField(default='')
        phone_valid = BooleanField(default=True)
        email = CharField(index=True, null=True)
        birth_date = DateField(index=True, null=True)
        channel = CharField(default='phone')
        origin_detail = CharField(default='')
        qualification = CharField(null=True)
        temperature = CharField(index=True, default='warm')
        activity_status = CharField(index=True, default='normal')
        stage = ForeignKeyField(Stage, on_delete='RESTRICT')
        outcome = CharField(index=True, default='open')
        lost_reason = ForeignKeyField(LostReason, null=True, on_delete='SET NULL')
        owner = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        do_not_contact = BooleanField(default=False)
        action_budget = IntegerField(default=15)
        actions_used = IntegerField(default=0)
        interaction_count = IntegerField(default=0)
        first_contact_at = DateTimeField(null=True)
        last_interaction_at = DateTimeField(index=True, null=True)
        patient = ForeignKeyField(Patient, null=True, on_delete='SET NULL')
        converted_at = DateTimeField(null=True)
        created_at = DateTimeField(index=True)
        updated_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'prospect'
    db.create_tables([Prospect])

    class ActivityStatusChange(Model):
        prospect = ForeignKeyField(Prospect, on_delete='CASCADE')
        old = CharField(null=True)
        new = CharField()
        changed_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'activity_status_change'
    db.create_tables([ActivityStatusChange])

    class ApiToken(Model):
        name = CharField()
        prefix = CharField(index=True)
        token_hash = CharField(unique=True)
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        last_used_at = DateTimeField(null=True)
        revoked_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'api_token'
    db.create_tables([ApiToken])

    class AuditEvent(Model):
        at = DateTimeField(index=True)
        actor = ForeignKeyField(User, null=True, on_delete='SET NULL')
        actor_label = CharField(default='')
        action = CharField(index=True)
        record_type = CharField(default='')
        record_id = IntegerField(null=True)
        address = CharField(default='')
        detail = CharField(default='')
        class Meta:
            database = db
            table_name = 'audit_event'
    db.create_tables([AuditEvent])

    class ConsentChange(Model):
        prospect = ForeignKeyField(Prospect, on_delete='CASCADE')
        do_not_contact = BooleanField()
        reason = TextField(default='')
        user = ForeignKeyField(User, null=True, on_delete='SET NULL')
        changed_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'consent_change'
    db.create_tables([ConsentChange])

    class DuplicateCandidate(Model):
        prospect = ForeignKeyField(Prospect, on_delete='CASCADE')
        other_prospect = ForeignKeyField(Prospect, null=True, on_delete='CASCADE')
        patient = ForeignKeyField(Patient, null=True, on_delete='CASCADE')
        matched_on = CharField()
        state = CharField(default='open')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'duplicate_candidate'
    db.create_tables([DuplicateCandidate])

    class FollowUpType(Model):
        name = CharField()
        description = TextField(default='')
        first_step = BooleanField(default=False)
        action = CharField(default='none')
        position = IntegerField(default=0)
        active = BooleanField(default=True)
        class Meta:
            database = db
            table_name = 'follow_up_type'
    db.create_tables([FollowUpType])

    class FollowUp(Model):
        prospect = ForeignKeyField(Prospect, on_delete='CASCADE')
        type = ForeignKeyField(FollowUpType, null=True, on_delete='SET NULL')
        owner = ForeignKeyField(User, null=True, on_delete='SET NULL')
        due_at = DateTimeField(index=True)
        value = CharField(default='warm')
        comment = TextField(default='')
        rule = CharField(null=True)
        rule_reason = TextField(default='')
        cause_key = CharField(unique=True, null=True)
        state = CharField(index=True, default='planned')
        outcome = CharField(null=True)
        done_at = DateTimeField(null=True)
        done_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        previous = ForeignKeyField('self', null=True, on_delete='SET NULL')
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'follow_up'
    db.create_tables([FollowUp])

    class FollowUpTypeNext(Model):
        from_type = ForeignKeyField(FollowUpType, on_delete='CASCADE')
        to_type = ForeignKeyField(FollowUpType, on_delete='CASCADE')
        class Meta:
            database = db
            table_name = 'follow_up_type_next'
            primary_key = CompositeKey('from_type', 'to_type')
    db.create_tables([FollowUpTypeNext])

    class Holiday(Model):
        day = DateField(index=True)
        name = CharField()
        closed = BooleanField(default=True)
        class Meta:
            database = db
            table_name = 'holiday'
    db.create_tables([Holiday])

    class Source(Model):
        slug = CharField(unique=True)
        type = CharField()
        name = CharField(default='')
        config = JSONField(default=dict)
        secret = CharField(null=True)
        active = BooleanField(default=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'source'
    db.create_tables([Source])

    class InboundRequest(Model):
        source = ForeignKeyField(Source, on_delete='RESTRICT')
        received_at = DateTimeField(index=True)
        remote_addr = CharField(default='')
        headers = JSONField(default=dict)
        content_type = CharField(default='')
        body = BlobField()
        idempotency_key = CharField(null=True)
        fingerprint = CharField(index=True, null=True)
        state = CharField(index=True, default='received')
        error = TextField(null=True)
        attempts = IntegerField(default=0)
        lease_until = DateTimeField(null=True)
        processed_at = DateTimeField(null=True)
        parsed = JSONField(null=True)
        triage = BooleanField(index=True, default=False)
        prospect = ForeignKeyField(Prospect, null=True, on_delete='SET NULL')
        patient = ForeignKeyField(Patient, null=True, on_delete='SET NULL')
        class Meta:
            database = db
            table_name = 'inbound_request'
            indexes = ((('source', 'idempotency_key'), True),)
    db.create_tables([InboundRequest])

    class Interaction(Model):
        prospect = ForeignKeyField(Prospect, null=True, on_delete='CASCADE')
        patient = ForeignKeyField(Patient, null=True, on_delete='CASCADE')
        occurred_at = DateTimeField(index=True)
        channel = CharField()
        direction = CharField()
        action_code = ForeignKeyField(ActionCode, null=True, on_delete='SET NULL')
        note = TextField(default='')
        user = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'interaction'
    db.create_tables([Interaction])

    class ProspectingList(Model):
        name = CharField()
        owner = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'prospecting_list'
    db.create_tables([ProspectingList])

    class ListContact(Model):
        list = ForeignKeyField(ProspectingList, on_delete='CASCADE')
        position = IntegerField(default=0)
        first_name = CharField(default='')
        last_name = CharField(default='')
        phone = CharField(index=True, null=True)
        phone_raw = CharField(default='')
        email = CharField(null=True)
        data = JSONField(default=dict)
        assigned_to = ForeignKeyField(User, null=True, on_delete='SET NULL')
        worked_at = DateTimeField(null=True)
        prospect = ForeignKeyField(Prospect, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'list_contact'
    db.create_tables([ListContact])

    class Setting(Model):
        key = CharField(primary_key=True)
        value = JSONField()
        class Meta:
            database = db
            table_name = 'setting'
    db.create_tables([Setting])

    class StageChange(Model):
        prospect = ForeignKeyField(Prospect, on_delete='CASCADE')
        from_stage = ForeignKeyField(Stage, null=True, on_delete='SET NULL')
        to_stage = ForeignKeyField(Stage, on_delete='CASCADE')
        lost_reason = ForeignKeyField(LostReason, null=True, on_delete='SET NULL')
        user = ForeignKeyField(User, null=True, on_delete='SET NULL')
        changed_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'stage_change'
    db.create_tables([StageChange])

    class TemperatureChange(Model):
        prospect = ForeignKeyField(Prospect, on_delete='CASCADE')
        old = CharField(null=True)
        new = CharField()
        reason = TextField(default='')
        user = ForeignKeyField(User, null=True, on_delete='SET NULL')
        changed_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'temperature_change'
    db.create_tables([TemperatureChange])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('temperature_change'))
    migrator.migrate(migrator.drop_table('stage_change'))
    migrator.migrate(migrator.drop_table('setting'))
    migrator.migrate(migrator.drop_table('list_contact'))
    migrator.migrate(migrator.drop_table('prospecting_list'))
    migrator.migrate(migrator.drop_table('interaction'))
    migrator.migrate(migrator.drop_table('inbound_request'))
    migrator.migrate(migrator.drop_table('source'))
    migrator.migrate(migrator.drop_table('holiday'))
    migrator.migrate(migrator.drop_table('follow_up_type_next'))
    migrator.migrate(migrator.drop_table('follow_up'))
    migrator.migrate(migrator.drop_table('follow_up_type'))
    migrator.migrate(migrator.drop_table('duplicate_candidate'))
    migrator.migrate(migrator.drop_table('consent_change'))
    migrator.migrate(migrator.drop_table('audit_event'))
    migrator.migrate(migrator.drop_table('api_token'))
    migrator.migrate(migrator.drop_table('activity_status_change'))
    migrator.migrate(migrator.drop_table('prospect'))
    migrator.migrate(migrator.drop_table('patient'))
    migrator.migrate(migrator.drop_table('user'))
    migrator.migrate(migrator.drop_table('lost_reason'))
    migrator.migrate(migrator.drop_table('stage'))
    migrator.migrate(migrator.drop_table('action_code'))
