"""Mail we sent (issue 16 §5): what went to whom, threaded on what, and the contact it was recorded as."""
from peewee import CharField, DateTimeField, ForeignKeyField, TextField

from ..timeutil import utcnow
from .base import BaseModel
from .intake import InboundRequest
from .patients import Patient
from .prospects import Interaction, Prospect
from .users import User

OUTBOUND_STATES = ("sending", "sent")


class OutboundMail(BaseModel):
    """One answer by mail. Written `sending` before the SMTP conversation (so a double click or a second
    tab finds it and sends nothing) and `sent` once the server accepted it, in the same transaction as
    its outbound interaction; a send that failed leaves no row. `to_address` is lower-case: the daily
    cap counts per address."""
    prospect = ForeignKeyField(Prospect, null=True, on_delete="CASCADE", backref="+")
    patient = ForeignKeyField(Patient, null=True, on_delete="CASCADE", backref="+")
    request = ForeignKeyField(InboundRequest, null=True, on_delete="SET NULL", backref="+")
    interaction = ForeignKeyField(Interaction, null=True, unique=True, on_delete="SET NULL", backref="+")
    user = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    to_address = CharField()
    to_name = CharField(default="")
    subject = CharField(max_length=255, default="")
    text = TextField(default="")
    template = CharField(default="")
    message_id = CharField(unique=True)
    in_reply_to = CharField(null=True)
    references = TextField(default="")
    state = CharField(default="sending")
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("to_address", "created_at"), False),)
