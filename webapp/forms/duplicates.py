"""A decision on a suspected duplicate pair: merge (keeping one record), undo the merge, or different people."""
from wtforms import IntegerField
from wtforms.validators import Optional

from .base import StaffForm


class DecisionForm(StaffForm):
    """`keep` is the record kept by a merge (the pressed button's value); the service checks it is one of
    the pair's two, and the other decisions post nothing else."""
    keep = IntegerField(validators=[Optional()])
