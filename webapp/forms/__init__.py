"""Staff forms (WTForms through Flask-WTF), one module per area: validation and French messages in one
place, rendered by the shared macros of templates/macros.html. `from webapp.forms import X` finds them all."""
from .admin import ActiveForm, NewUserForm, RoleForm, TokenForm
from .answers import AnswerForm, AnswerTemplateForm
from .auth import LanguageForm, LoginForm, PasswordForm
from .base import OnceForm, StaffForm, submission_key, valid_email
from .board import MoveForm
from .duplicates import DecisionForm
from .followups import CompleteForm, PlanForm
from .prospects import (ConsentForm, ContactForm, EraseForm, InteractionForm, KnownCallForm, PersonForm,
                        ProspectForm, TemperatureForm)
from .requests import AttachForm, CreateForm, TriageForm
from .settings import NewStageForm, ProvenancesForm, StageForm, TypeForm
from .sources import PollForm, SecretForm, SourceForm

__all__ = ["ActiveForm", "AnswerForm", "AnswerTemplateForm", "AttachForm", "CompleteForm", "ConsentForm",
           "ContactForm", "CreateForm", "DecisionForm", "EraseForm", "InteractionForm", "KnownCallForm",
           "LanguageForm", "LoginForm", "MoveForm", "NewStageForm", "NewUserForm", "OnceForm",
           "PasswordForm", "PersonForm", "PlanForm", "PollForm", "ProspectForm", "ProvenancesForm", "RoleForm",
           "SecretForm", "SourceForm", "StaffForm", "StageForm", "TemperatureForm", "TokenForm", "TriageForm",
           "TypeForm", "submission_key", "valid_email"]
