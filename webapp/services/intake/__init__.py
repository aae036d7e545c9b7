"""Inbound requests (web forms, mail, the next plugins): stored raw first, processed exactly once,
triaged by the lead. One store-first pipeline for every source type, in three parts:

- `accept`: the web request's part, one durable write (the hot path);
- `process`: the worker's part, claim, read through the plugin hooks, route, apply, mark;
- `triage`: the lead's queue and what she does with a request;

with what they share (`reading`: a source's settings and its plugin's reading; `recording`: a request
becoming a contact; `routing`: where a mail goes) and `retention` (emptying raw contents).
"""
from integrations.contract import INTAKE_MODES as MODES
from integrations.contract import OWNER_POLICIES

from ..prospects import record_contact  # noqa: F401 (looked up here by `recording.record`)
from .accept import KEPT_HEADERS, Received, _key, accept, kept_headers  # _key: the stored form of a key
from .process import DUPLICATE_WINDOW, claim, due_for_rescan, lease_seconds, max_attempts, process
from .reading import config_of
from .recording import ROUND_ROBIN_KEY, contact_input, next_owner, plan_answer
from .retention import EMPTIED, PURGEABLE_STATES, empty_raw, holds_raw_data, purge_raw
from .triage import (TriageError, TriageItem, attach, counts, create_from, dismiss, mark_spam, replay,
                     triage_queue)

# The name the first-answer planning had before an inbound mail could also owe an answer.
plan_first_answer = plan_answer


def __getattr__(name: str):
    if name == "DEFAULT_CONFIG":  # the web form's defaults, as this module named them before each type had its own
        from integrations.plugins import source_type
        return source_type("webform").defaults()
    raise AttributeError(name)

__all__ = [
    "DEFAULT_CONFIG", "DUPLICATE_WINDOW", "EMPTIED", "KEPT_HEADERS", "MODES", "OWNER_POLICIES", "PURGEABLE_STATES",
    "ROUND_ROBIN_KEY", "Received", "TriageError", "TriageItem", "accept", "attach", "claim", "config_of",
    "contact_input", "counts", "create_from", "dismiss", "due_for_rescan", "empty_raw", "holds_raw_data",
    "kept_headers", "lease_seconds", "mark_spam", "max_attempts", "next_owner", "plan_answer",
    "plan_first_answer", "process", "purge_raw", "record_contact", "replay", "triage_queue",
]
