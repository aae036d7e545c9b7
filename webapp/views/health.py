"""GET /healthz: the process is up and the database answers."""
from flask import Blueprint, jsonify

from ..models import database

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        database.execute_sql("SELECT 1")
    except Exception:
        return jsonify({"status": "error", "database": "unreachable"}), 503
    return jsonify({"status": "ok"})
