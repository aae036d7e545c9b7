"""Staff accounts: creation, password checks with argon2, sessions ended by rotating a token."""
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..models import User
from ..models.users import ROLES, new_session_token
from ..timeutil import utcnow

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
# Verifying against a dummy hash keeps the time of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("relance-dummy-password")


class UserError(ValueError):
    """A refused account change, with a message for the person."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError("password_too_short")
    return _hasher.hash(password)


EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def create_user(email: str, name: str, role: str, password: str) -> User:
    email = email.strip().lower()
    if role not in ROLES:
        raise UserError("unknown_role")
    if len(email) > 200 or not EMAIL_SHAPE.match(email):
        raise UserError("invalid_email")
    if len(name) > 100:
        raise UserError("name_too_long")
    if User.select().where(User.email == email).exists():
        raise UserError("email_taken")
    return User.create(email=email, name=name.strip() or email.split("@")[0], role=role,
                       password_hash=hash_password(password))


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None; upgrades the hash when parameters change."""
    user = User.get_or_none(User.email == (email or "").strip().lower())
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    user.save()
    return user


def change_password(user: User, current: str, new: str) -> None:
    try:
        _hasher.verify(user.password_hash, current or "")
    except (VerificationError, InvalidHashError):
        raise UserError("wrong_current_password")
    user.password_hash = hash_password(new)
    end_sessions(user)


def end_sessions(user: User) -> None:
    """Every session cookie of this user stops working (logout, disable, password change)."""
    user.session_token = new_session_token()
    user.save()


def active_staff() -> list[User]:
    """The people who work prospects (administrators do not), by name."""
    return list(User.select().where(User.active & (User.role != "admin")).order_by(User.name))


def set_role(user: User, role: str) -> None:
    """A new role takes effect on the user's next request: roles are read from the database each time."""
    if role not in ROLES:
        raise UserError("unknown_role")
    user.role = role
    user.save()


def set_active(user: User, active: bool) -> None:
    user.active = active
    end_sessions(user)
