from flask import Blueprint, jsonify

from .deps import get_deps
from .gateway import probe

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    if probe(get_deps().gateway):
        return jsonify(status="ok", database="ok")
    return jsonify(status="degraded", database="unreachable"), 503
