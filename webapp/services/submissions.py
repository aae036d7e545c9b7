"""A resent staff form records once: each form carries a one-time key, and its effect is applied under
that key at most once (a double click on Enregistrer, a browser's retry, a form sent from two tabs)."""
from collections.abc import Callable
from typing import TypeVar

from peewee import IntegrityError

from ..models import Submission, User, database

T = TypeVar("T")
KEY_MAX = 64


def run_once(key: str | None, user: User | None, effect: Callable[[], T],
             result_of: Callable[[T], str] = lambda _: "") -> tuple[T | None, str | None]:
    """Apply `effect()` for this key, in one transaction with the key's record. Returns
    (the effect's value, None) the first time, and (None, the first time's result) when the key was
    already used: nothing is applied again. A missing or malformed key (an old page) just applies."""
    key = (key or "").strip()
    if not key or len(key) > KEY_MAX:
        return effect(), None
    with database.atomic():
        earlier = Submission.get_or_none(Submission.key == key)
        if earlier is not None:
            return None, earlier.result
        try:
            with database.atomic():  # a savepoint: PostgreSQL's transaction survives the conflict
                claimed = Submission.create(key=key, user=user)
        except IntegrityError:  # the same key committed by a request running beside this one
            return None, Submission.get(Submission.key == key).result
        value = effect()
        claimed.result = result_of(value)[:200]
        claimed.save()
        return value, None


def purge(before) -> int:
    """Keys are only needed while a resubmission can come: drop the old ones."""
    return Submission.delete().where(Submission.created_at < before).execute()
