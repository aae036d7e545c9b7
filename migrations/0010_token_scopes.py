"""API tokens get scopes (what the machine may do), and the audit log names the token a machine acted
with. Tokens made before scopes existed keep every scope: revoke and recreate them to narrow them."""
from peewee import *

ALL_SCOPES = "prospects:read prospects:write requests patients"


def up(migrator, db):
    class ApiToken(Model):
        class Meta:
            database = db
            table_name = "api_token"

    migrator.migrate(
        migrator.add_column("api_token", "scopes", CharField(default="")),
        migrator.add_column("audit_event", "token_id",
                            ForeignKeyField(ApiToken, field=ApiToken.id, null=True, on_delete="SET NULL")),
    )
    db.execute_sql(f"UPDATE api_token SET scopes = {db.param}", (ALL_SCOPES,))


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("audit_event", "token_id"),
        migrator.drop_column("api_token", "scopes"),
    )
