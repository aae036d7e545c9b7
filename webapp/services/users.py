"""Staff accounts: creation, password checks with argon2, sessions ended by rotating a token."""
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from ..models import User
from ..refusals import Refusal
from ..rules.contact import is_email
from ..rules.numbers import parse_id
from ..security import PERMISSIONS, can
from ..models.users import new_session_token
from ..timeutil import utcnow
from ..vocabulary import ROLES
from .defaults import setting

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
MAX_NAME = 100
# Verifying against a dummy hash keeps the time of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("relance-dummy-password")


_COMMON = frozenset(FREQUENCY_LISTS["passwords"])
_OUR_WORDS = ("relance", "nest", "clinique", "clinic", "senegal", "dakar", "motdepasse", "password")


class UserError(Refusal, ValueError):
    """A refused account change, with a message for the person."""
    domain = "user"
    status = 400


def check_password(password: str, *personal: str) -> None:
    """Refuse what an attacker tries first: short passwords, the 30,000 most common ones (zxcvbn's list,
    from real leaks), and those built on the person's own name or email or on the product's name."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError("password_too_short", n=MIN_PASSWORD_LENGTH)
    if password.lower() in _COMMON or _only_words_of(password, [*personal, *_OUR_WORDS]) or zxcvbn(
            password[:100], user_inputs=[*personal, *_OUR_WORDS])["score"] < 2:
        raise UserError("password_common")


def _only_words_of(password: str, words) -> bool:
    """True when the password is these words with digits and signs around them ("CodouNdiaye1")."""
    rest = password.lower()
    for word in sorted({w.lower() for w in words if len(w) >= 3}, key=len, reverse=True):
        rest = rest.replace(word, "")
    return not any(ch.isalpha() for ch in rest)


def hash_password(password: str, *personal: str) -> str:
    check_password(password, *personal)
    return _hasher.hash(password)


def personal_words(user) -> list[str]:
    return [user.email, user.email.split("@")[0], *user.name.split()]


def create_user(email: str, name: str, role: str, password: str) -> User:
    email = email.strip().lower()
    if role not in ROLES:
        raise UserError("unknown_role")
    if not is_email(email):
        raise UserError("invalid_email")
    if len(name) > MAX_NAME:
        raise UserError("name_too_long", n=MAX_NAME)
    if User.select().where(User.email == email).exists():
        raise UserError("email_taken")
    name = name.strip() or email.split("@")[0]
    return User.create(email=email, name=name, role=role,
                       password_hash=hash_password(password, email, email.split("@")[0], *name.split()))


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
    user.password_hash = hash_password(new, *personal_words(user))
    user.must_change_password = False
    end_sessions(user)


def reset_password(user: User) -> str:
    """An administrator's reset: a temporary password, returned once to be handed over; every session
    of the person ends, and she must choose her own password at her next login."""
    temporary = "-".join(secrets.token_urlsafe(4) for _ in range(3))
    user.password_hash = _hasher.hash(temporary)
    user.must_change_password = True
    end_sessions(user)
    return temporary


def end_sessions(user: User) -> None:
    """Every session cookie of this user stops working (logout, disable, password change)."""
    user.session_token = new_session_token()
    user.save()


def may_own_work(user: User | None) -> bool:
    """Work (a prospect, a follow-up) is given only to an active person whose role works prospects:
    never to an administrator, never to a disabled account."""
    return user is not None and user.active and can("prospects.edit", user)


def owner_by_id(value) -> User | None:
    """The person a form or the API names (an id, as text or a number) if work may be given to her."""
    user_id = parse_id(value)
    owner = User.get_or_none(User.id == user_id) if user_id else None
    return owner if may_own_work(owner) else None


def may_reassign(user: User) -> bool:
    """Whether this person changes a prospect's owner: the follow-up lead and managers (SECURITY.md: a
    relationship write checks its own right); whoever may edit corrects names and numbers."""
    return can("prospects.classify", user)


def may_assign_to_others(user: User) -> bool:
    """The follow-up lead and managers give work to anyone; a secretary hands it to a colleague only
    where the lead's rule allows (setting `secretaries_assign`: "self", the default, or "team")."""
    return can("prospects.classify", user) or setting("secretaries_assign") == "team"


def active_staff() -> list[User]:
    """The people who work prospects (administrators do not), by name."""
    return list(User.select().where(User.active & User.role.in_(PERMISSIONS["prospects.edit"]))
                .order_by(User.name))


def set_role(user: User, role: str) -> None:
    """A new role takes effect on the user's next request: roles are read from the database each time."""
    if role not in ROLES:
        raise UserError("unknown_role")
    user.role = role
    user.save()


def set_active(user: User, active: bool) -> None:
    user.active = active
    end_sessions(user)


def change_role(user: User, role: str, by: User) -> bool:
    """An administrator gives `user` a role; False when she has it already. Nobody takes away her own
    administration: the last administrator could otherwise lock everyone out of these pages."""
    if role not in ROLES:
        raise UserError("unknown_role")
    if user.id == by.id and role not in PERMISSIONS["admin.users"]:
        raise UserError("own_admin_role")
    if role == user.role:
        return False
    set_role(user, role)
    return True


def change_active(user: User, active: bool, by: User) -> bool:
    """Enable or disable an account (disabling ends its sessions); False when it already is. Nobody
    disables her own account, for the same reason."""
    if user.id == by.id and not active:
        raise UserError("own_account")
    if active == user.active:
        return False
    set_active(user, active)
    return True
