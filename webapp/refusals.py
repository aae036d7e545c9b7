"""Refusals: a request the rules will not carry out, said once. A service raises a `Refusal` (a code, a
status, the parameters its message needs); nothing was changed. The app's error handler (views) turns
any refusal nobody caught into a page, an htmx fragment or JSON; a view catches one only to show it in
place (a form with its error)."""
from . import messages


class Refusal(Exception):
    """A refused request: `code` names the rule, `message` says it in the person's language.

    `status` is the class's HTTP status (422: a valid request refused by a rule), unless the code has its
    own in `messages.STATUSES` (409 a conflict, 403 a right, 404 gone); `domain` picks the catalogue's
    wording where one code reads differently in two areas; `field` names the form field at fault."""

    status = 422
    domain = ""

    def __init__(self, code: str, *, status: int | None = None, field: str | None = None,
                 message: str | None = None, **params):
        super().__init__(code)
        self.code, self.field, self.params = code, field, params
        self.status = status or messages.STATUSES.get(code, type(self).status)
        self._message = message

    @property
    def message(self) -> str:
        """The person's words for it (or the machine's, for a refusal raised with its own message)."""
        if self._message is not None:
            return str(self._message)
        return messages.text(self.domain, self.code, **self.params)
