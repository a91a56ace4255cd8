"""Webhook authentication for Vapi server-URL requests (secure by default).

Any one of these proves knowledge of the shared secret:

* ``X-Vapi-Secret: <secret>``
* ``Authorization: Bearer <secret>``
* ``X-Signature: <hex HMAC-SHA256(secret, f"{timestamp}.{raw_body}")>`` (optionally prefixed
  ``sha256=``) with ``X-Timestamp: <unix seconds>`` (milliseconds accepted when > 10**12),
  no more than :data:`MAX_CLOCK_SKEW_SECONDS` from now in either direction. The signed
  timestamp is the header text exactly as sent.

Pure function of (headers, raw body, secret, now); the caller decides what to do on failure.
An accepted HMAC result carries its signature and signed time, so the caller can refuse a replay
of the same signature within its window (api/webhook.py claims it once in the database:
``replayed_signature``).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

MAX_CLOCK_SKEW_SECONDS = 300
# Larger timestamps are taken as milliseconds (10**12 s is ~33,000 years from the epoch).
MILLISECONDS_THRESHOLD = 10**12

AuthMethod = Literal["x-vapi-secret", "bearer", "hmac"]
AuthFailure = Literal[
    "missing_credentials", "bad_secret", "bad_signature", "stale_timestamp", "bad_timestamp",
    "replayed_signature",
]

_SECRET_HEADER = "x-vapi-secret"
_AUTHORIZATION_HEADER = "authorization"
_SIGNATURE_HEADER = "x-signature"
_TIMESTAMP_HEADER = "x-timestamp"
_SIGNATURE_PREFIX = "sha256="

_TIMESTAMP_RE = re.compile(r"[0-9]{1,20}")


@dataclass(frozen=True)
class AuthResult:
    ok: bool
    method: AuthMethod | None = None
    reason: AuthFailure | None = None
    # Accepted HMAC only: the signature (lowercase hex) and its signed time (unix seconds).
    signature: str | None = field(default=None, compare=False, repr=False)
    signed_at: float | None = field(default=None, compare=False, repr=False)


def sign(secret: str, raw_body: bytes, timestamp: int) -> str:
    """Hex HMAC-SHA256 of ``f"{timestamp}.".encode() + raw_body`` — what ``X-Signature`` holds."""
    _require_secret(secret)
    return _hmac_hex(secret, str(timestamp), raw_body)


def verify_request(
    headers: Mapping[str, str], raw_body: bytes, secret: str, now: float
) -> AuthResult:
    """Authenticate a webhook request; ``now`` is unix seconds.

    Succeeds if any presented method is valid. Otherwise the reason is that of the first
    presented method in the order x-vapi-secret, bearer, hmac; ``missing_credentials`` when
    none is presented. Raises ValueError for an empty/blank secret or a non-finite ``now``.
    """
    _require_secret(secret)
    if not math.isfinite(now):
        raise ValueError("now must be a finite unix time")

    normalized = _normalize_headers(headers)
    failures: list[AuthFailure] = []

    presented_secret = normalized.get(_SECRET_HEADER)
    if presented_secret is not None:
        if _equal(presented_secret, secret):
            return AuthResult(ok=True, method="x-vapi-secret")
        failures.append("bad_secret")

    bearer_token = _bearer_token(normalized.get(_AUTHORIZATION_HEADER))
    if bearer_token is not None:
        if _equal(bearer_token, secret):
            return AuthResult(ok=True, method="bearer")
        failures.append("bad_secret")

    signature = normalized.get(_SIGNATURE_HEADER)
    if signature is not None:
        checked = _check_hmac(signature, normalized.get(_TIMESTAMP_HEADER), raw_body, secret, now)
        if isinstance(checked, AuthResult):
            return checked
        failures.append(checked)

    return AuthResult(ok=False, reason=failures[0] if failures else "missing_credentials")


def _check_hmac(
    signature: str, timestamp_text: str | None, raw_body: bytes, secret: str, now: float
) -> AuthFailure | AuthResult:
    if timestamp_text is None:
        return "bad_timestamp"
    timestamp_text = timestamp_text.strip()
    if not _TIMESTAMP_RE.fullmatch(timestamp_text):
        return "bad_timestamp"

    provided = signature.strip()
    if provided[: len(_SIGNATURE_PREFIX)].lower() == _SIGNATURE_PREFIX:
        provided = provided[len(_SIGNATURE_PREFIX) :]
    expected = _hmac_hex(secret, timestamp_text, raw_body)
    # Hex digests are lowercase; accept an uppercase rendering of the same digest.
    if not _equal(provided.lower(), expected):
        return "bad_signature"

    # Freshness is checked after the signature, so "stale_timestamp" means a genuine but old
    # (replayed, or clock-skewed) request.
    timestamp = int(timestamp_text)
    seconds = timestamp / 1000 if timestamp > MILLISECONDS_THRESHOLD else timestamp
    if abs(seconds - now) > MAX_CLOCK_SKEW_SECONDS:
        return "stale_timestamp"
    return AuthResult(ok=True, method="hmac", signature=expected, signed_at=seconds)


def _hmac_hex(secret: str, timestamp_text: str, raw_body: bytes) -> str:
    message = timestamp_text.encode("ascii") + b"." + bytes(raw_body)
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _require_secret(secret: str) -> None:
    if not isinstance(secret, str) or not secret.strip():
        raise ValueError("webhook secret must be a non-empty string")


def _normalize_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-cased names; the first value wins for a repeated header (werkzeug Headers)."""
    normalized: dict[str, str] = {}
    for name, value in headers.items():
        if isinstance(name, str) and isinstance(value, str):
            normalized.setdefault(name.lower(), value)
    return normalized


def _bearer_token(authorization: str | None) -> str | None:
    # Other schemes (Basic, ...) are not credentials of ours: treated as absent.
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def _equal(presented: str, expected: str) -> bool:
    # surrogatepass: header text is untrusted; encoding must not raise on lone surrogates.
    return hmac.compare_digest(
        presented.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )
