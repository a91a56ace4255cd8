from flask import Blueprint, current_app, jsonify

from .gateway import probe

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    if probe(current_app.extensions["booking"].gateway):
        return jsonify(status="ok", database="ok")
    return jsonify(status="degraded", database="unreachable"), 503
