"""Blueprints, one per area, and the error pages (French for people, JSON for machines)."""
from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .. import htmx
from ..refusals import Refusal
from . import (admin, api, auth, board, followups, health, intake, myday, patients, prospects, requests,
               settings, sources)
from . import answers, caller, duplicates, figures, mailview, matches, patient_imports, rights
from . import api_patients  # noqa: F401  (the patient endpoints, on the API's blueprint: imported before it registers)

MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Please sign in."),
    403: _l("You do not have access to this page."),
    404: _l("This page does not exist."),
    405: _l("This action is not allowed here."),
    413: _l("What you sent is too large."),
    429: _l("Too many attempts. Please wait a few minutes before trying again."),
    500: _l("Something went wrong on our side. Nothing you entered before was lost."),
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/intake/") or (
        request.accept_mimetypes.best == "application/json")


def error_response(status: int, code: str, message: str):
    if _wants_json():
        return jsonify({"error": {"code": code, "message": message}}), status
    return render_template("errors/error.html", status=status, message=message), status


def refusal_response(refusal: Refusal):
    """A refusal no view showed in place: JSON for machines, the reason alone for htmx, else a page."""
    if htmx.wants_fragment() and not _wants_json():
        return htmx.vary(make_response(render_template("errors/_refused.html", code=refusal.code,
                                                       message=refusal.message), refusal.status))
    return error_response(refusal.status, refusal.code, refusal.message)


def _refuse_nul_characters():
    """NUL is no character a person types, and PostgreSQL refuses it in text: a clear 400 before any
    view runs, never a 500 from the database. (Intake reads its own body, raw, and stores it as bytes.)"""
    sources = [request.args]
    if request.method == "POST" and not request.path.startswith("/intake/") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        sources.append(request.form)
    if any("\x00" in key or any("\x00" in value for value in values)
           for source in sources for key, values in source.lists()):
        return error_response(400, "nul_character", str(MESSAGES[400]))


def register_blueprints(app: Flask) -> None:
    app.before_request(_refuse_nul_characters)
    for module in (board, health, auth, prospects, patients, api, admin, settings, myday, followups, intake,
                   requests, sources, caller, duplicates, matches, rights, figures, answers, mailview,
                   patient_imports):
        app.register_blueprint(module.bp)

    app.register_error_handler(Refusal, refusal_response)

    @app.errorhandler(CSRFError)
    def _csrf(error):
        return error_response(400, "csrf_failed",
                              _("Your session has expired or the form is out of date. "
                                "Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def _http(error):
        status = error.code or 500
        message = str(MESSAGES.get(status, error.description))
        response = make_response(error_response(status, error.name.lower().replace(" ", "_"), message))
        for name, value in error.get_headers():
            if name == "Retry-After":   # 429 and 503 say when to come back
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(error):
        app.logger.exception("unhandled error")
        return error_response(500, "internal_error", str(MESSAGES[500]))
