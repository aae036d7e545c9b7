"""Patients a patient system pushes to `POST /api/v1/patients`: one posted JSON object read into a
`PatientRecord`, or what is wrong with each of its fields (a machine fixes them and posts again:
applying is idempotent on (source, external_id))."""
from datetime import date

from integrations.contract import PatientRecord

from ..rules.contact import is_email, normalise_email
from ..rules.phones import repair_phone

TEXT_LIMITS = {"external_id": 64, "first_name": 100, "last_name": 100, "email": 200, "provenance": 200}
MAX_PHONES = 5


def record_from_json(data, region: str, today: date, other_regions=("FR",)) -> tuple[PatientRecord | None, list[tuple[str, str, str]]]:
    """A posted patient as a record, or its problems as (code, field, message) triples."""
    if not isinstance(data, dict):
        return None, [("invalid_item", "", "Each patient must be a JSON object.")]
    problems: list[tuple[str, str, str]] = []

    def text(name: str) -> str:
        value = data.get(name)
        if value is None:
            return ""
        if isinstance(value, int) and not isinstance(value, bool) and name == "external_id":
            value = str(value)
        if not isinstance(value, str):
            problems.append(("invalid_field", name, f"{name} must be a string."))
            return ""
        value = value.strip()
        if "\x00" in value:
            problems.append(("invalid_field", name, f"{name} contains a NUL character."))
        elif len(value) > TEXT_LIMITS[name]:
            problems.append(("invalid_field", name, f"{name} is longer than {TEXT_LIMITS[name]} characters."))
        return value

    external_id = text("external_id")
    if not external_id and not any(p[1] == "external_id" for p in problems):
        problems.append(("missing_field", "external_id", "external_id is required."))
    first_name, last_name = text("first_name"), text("last_name")
    if not first_name and not last_name:
        problems.append(("missing_field", "last_name", "first_name or last_name is required."))
    email = text("email")
    if email and not is_email(email):
        problems.append(("invalid_field", "email", "email is not an email address."))
    phones = _phones(data, region, other_regions, problems)
    dates = {name: _date(data, name, today, problems) for name in ("birth_date", "admission_date")}
    provenance = text("provenance")
    if problems:
        return None, problems
    return PatientRecord(external_id=external_id, first_name=first_name, last_name=last_name, phones=phones,
                         email=normalise_email(email), birth_date=dates["birth_date"], provenance=provenance,
                         admission_date=dates["admission_date"]), []


def _phones(data: dict, region: str, other_regions, problems: list) -> tuple[str, ...]:
    raw = data.get("phones")
    if raw is None:
        raw = [data["phone"]] if data.get("phone") not in (None, "") else []
    if not isinstance(raw, list) or len(raw) > MAX_PHONES or not all(isinstance(p, str) for p in raw):
        problems.append(("invalid_field", "phones", f"phones must be a list of at most {MAX_PHONES} strings."))
        return ()
    phones = []
    for position, value in enumerate(raw):
        if not value.strip():
            continue
        e164 = repair_phone(value[:40], region, other_regions)
        if e164 is None:
            problems.append(("invalid_field", "phones", f"phones[{position}] is not a phone number."))
        elif e164 not in phones:
            phones.append(e164)
    return tuple(phones)


def _date(data: dict, name: str, today: date, problems: list) -> date | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    try:
        parsed = date.fromisoformat(str(value)) if len(str(value)) == 10 else None
    except ValueError:
        parsed = None
    if parsed is None or not date(1900, 1, 1) <= parsed <= today:
        problems.append(("invalid_field", name, f"{name} must be a past date written YYYY-MM-DD."))
    return parsed
