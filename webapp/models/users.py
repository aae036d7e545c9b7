"""Staff accounts, their roles, and API tokens for machines."""
import secrets

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField

from ..timeutil import utcnow
from ..vocabulary import ROLES
from .base import BaseModel


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(BaseModel):
    email = CharField(unique=True)
    name = CharField()
    role = CharField(choices=[(r, r) for r in ROLES], index=True)
    password_hash = CharField()
    active = BooleanField(default=True)
    # Part of the login cookie: rotating it ends every session of this user (logout, disable).
    session_token = CharField(default=new_session_token)
    locale = CharField(null=True)
    created_at = DateTimeField(default=utcnow)
    last_login_at = DateTimeField(null=True)
    # Set when an administrator resets the password: the person chooses her own at the next login.
    must_change_password = BooleanField(default=False)

    @property
    def initials(self) -> str:
        parts = [p for p in self.name.replace("-", " ").split() if p]
        return "".join(p[0] for p in parts[:2]).upper() or self.email[:2].upper()

    # Flask-Login protocol, written out rather than inherited: the id carries the session token.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"


class ApiToken(BaseModel):
    name = CharField()
    prefix = CharField(index=True)
    token_hash = CharField(unique=True)
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)
    # What the machine may do, space-separated (security.TOKEN_SCOPES), chosen when it is created.
    scopes = CharField(default="")

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()
