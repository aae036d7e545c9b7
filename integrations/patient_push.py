"""The built-in push source type: a patient system that posts its patients to `POST /api/v1/patients`
(the core reads the posts: `webapp.services.patient_push`). It has no settings: the API names it."""
from .contract import N_, SourceType
from .hookspecs import hookimpl

SOURCE_TYPE = "patient_push"


class PatientPushType(SourceType):
    name = SOURCE_TYPE
    label = N_("Patient system that pushes (API)")
    channel = "other"


PATIENT_PUSH = PatientPushType()


@hookimpl
def source_types():
    return [PATIENT_PUSH]
