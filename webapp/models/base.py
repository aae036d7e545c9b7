"""The shared Peewee base: a database bound late, and a JSON text field that works on SQLite and PostgreSQL."""
import json

from peewee import DatabaseProxy, Model, TextField

database = DatabaseProxy()


# One encoder for every write (json.dumps with options builds a new one per call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


class JSONField(TextField):
    """JSON stored as text: portable across SQLite and PostgreSQL, read back as Python values."""

    def db_value(self, value):
        return None if value is None else _ENCODER.encode(value)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False
