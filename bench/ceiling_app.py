"""The ceiling: the smallest Flask app doing what every booking request must at least do.

Reads the request body and runs one pooled INSERT into a GiST exclusion-constrained table
(bench/sql/raw_insert.sql, the same text pgbench runs), through a psycopg_pool pool sized like the
service's (DB_POOL_MAX). Served by the same gunicorn command as the real app, so the ratio
webhook/ceiling is what our own code costs on top of Flask + gunicorn + one database round trip.
"""

import os
from pathlib import Path

from flask import Flask, jsonify, request
from psycopg_pool import ConnectionPool

INSERT = (Path(__file__).parent / "sql" / "raw_insert.sql").read_text()


def create_app() -> Flask:
    app = Flask(__name__)
    pool = ConnectionPool(os.environ["DATABASE_URL"], min_size=1, max_size=int(os.environ.get("DB_POOL_MAX", "10")),
                          open=True, kwargs={"autocommit": True, "application_name": "bench-ceiling"})

    @app.post("/ceiling")
    def ceiling():
        request.get_data()
        with pool.connection() as conn:
            conn.execute(INSERT)
        return jsonify(success=True)

    @app.get("/health")
    def health():
        return jsonify(status="ok")

    return app
