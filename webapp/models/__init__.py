"""All models, importable from one place; ALL_MODELS is in dependency order for create and drop."""
from .audit import AuditEvent
from .base import BaseModel, JSONField, database
from .config import (ActionCode, FollowUpType, FollowUpTypeNext, Holiday, LostReason, Setting, Stage)
from .followups import FollowUp
from .intake import InboundRequest, Source, SourceCursor
from .lists import ListContact, ProspectingList
from .mail import OutboundMail
from .matches import PatientMatch
from .patients import Patient, PatientPhone
from .prospects import (ActivityStatusChange, ConsentChange, DuplicateCandidate, Interaction, OwnerChange,
                        Prospect, StageChange, TemperatureChange)
from .submissions import Submission
from .users import ApiToken, User

ALL_MODELS = [
    User, ApiToken, Stage, LostReason, ActionCode, FollowUpType, FollowUpTypeNext, Setting, Holiday,
    Patient, Prospect, Interaction, TemperatureChange, ActivityStatusChange, StageChange, ConsentChange,
    DuplicateCandidate, FollowUp, Source, InboundRequest, ProspectingList, ListContact, AuditEvent,
    Submission, SourceCursor, OutboundMail, PatientPhone, PatientMatch, OwnerChange,
]

__all__ = [m.__name__ for m in ALL_MODELS] + ["ALL_MODELS", "BaseModel", "JSONField", "database"]
