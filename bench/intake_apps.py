"""The intake benchmark's two plain limits, as gunicorn apps (`bench.intake_apps:durable_insert_app()`,
`bench.intake_apps:bare_app()`).

- `durable_insert_app`: a bare Flask endpoint that only does what acceptance cannot skip: read the
  body, insert it into a SQLite table in one committed write with the same pragmas as the app's
  database (webapp/db.py: WAL, synchronous=FULL, ...), and answer 202 with the new id. One
  connection per thread, opened once.
- `bare_app`: the same endpoint answering 202 without writing anything.

The database file is `BENCH_INTAKE_DB` (created on first use).
"""
import os
import sqlite3
import threading

from flask import Flask, jsonify, request

from webapp.db import SQLITE_PRAGMAS

_local = threading.local()
SCHEMA = ("CREATE TABLE IF NOT EXISTS inbound (id INTEGER PRIMARY KEY, received_at TEXT NOT NULL, "
          "content_type TEXT NOT NULL, body BLOB NOT NULL)")


def _connection() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(os.environ["BENCH_INTAKE_DB"], isolation_level=None, check_same_thread=False)
        for name, value in SQLITE_PRAGMAS.items():
            conn.execute(f"PRAGMA {name} = {value}")
        _local.conn = conn
    return conn


def create_schema(path: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = wal")
        conn.execute(SCHEMA)


def durable_insert_app() -> Flask:
    app = Flask("bench_durable_insert")

    @app.get("/healthz")
    def health():
        return "ok"

    @app.post("/intake/<slug>")
    def receive(slug):
        body = request.get_data()
        conn = _connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            cursor = conn.execute("INSERT INTO inbound (received_at, content_type, body) "
                                  "VALUES (datetime('now'), ?, ?)", (request.content_type or "", body))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return jsonify({"id": cursor.lastrowid, "state": "received"}), 202

    return app


def bare_app() -> Flask:
    app = Flask("bench_bare")

    @app.get("/healthz")
    def health():
        return "ok"

    @app.post("/intake/<slug>")
    def receive(slug):
        request.get_data()
        return jsonify({"id": 0, "state": "received"}), 202

    return app
