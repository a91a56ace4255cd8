"""Webhook authentication: api/auth.py."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import Headers

from api.auth import AuthResult, MAX_CLOCK_SKEW_SECONDS, sign, verify_request

SECRET = "s3cret-webhook-value"
NOW = 1_774_000_000  # 2026-03-20
BODY = b'{"message":{"type":"tool-calls","toolCallList":[]}}'


def hmac_headers(timestamp: int | str = NOW, body: bytes = BODY, secret: str = SECRET) -> dict[str, str]:
    return {"X-Signature": sign(secret, body, int(timestamp)), "X-Timestamp": str(timestamp)}


OK_SECRET = AuthResult(ok=True, method="x-vapi-secret", reason=None)
OK_BEARER = AuthResult(ok=True, method="bearer", reason=None)
OK_HMAC = AuthResult(ok=True, method="hmac", reason=None)


def refused(reason: str) -> AuthResult:
    return AuthResult(ok=False, method=None, reason=reason)


def test_sign_matches_reference_hmac() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, NOW) == expected
    assert len(expected) == 64


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        # each method
        ({"X-Vapi-Secret": SECRET}, OK_SECRET),
        ({"Authorization": f"Bearer {SECRET}"}, OK_BEARER),
        (hmac_headers(), OK_HMAC),
        # case-insensitive names and scheme
        ({"x-vapi-secret": SECRET}, OK_SECRET),
        ({"X-VAPI-SECRET": SECRET}, OK_SECRET),
        ({"AUTHORIZATION": f"bearer {SECRET}"}, OK_BEARER),
        ({"authorization": f"BEARER   {SECRET} "}, OK_BEARER),
        ({"x-signature": sign(SECRET, BODY, NOW), "x-timestamp": str(NOW)}, OK_HMAC),
        ({"X-SIGNATURE": sign(SECRET, BODY, NOW), "X-TIMESTAMP": str(NOW)}, OK_HMAC),
        # signature variants
        ({"X-Signature": "sha256=" + sign(SECRET, BODY, NOW), "X-Timestamp": str(NOW)}, OK_HMAC),
        ({"X-Signature": "SHA256=" + sign(SECRET, BODY, NOW).upper(), "X-Timestamp": str(NOW)}, OK_HMAC),
        ({"X-Signature": f" {sign(SECRET, BODY, NOW)} ", "X-Timestamp": f" {NOW} "}, OK_HMAC),
        # milliseconds timestamp (signed as sent)
        (hmac_headers(NOW * 1000 + 123), OK_HMAC),
        (hmac_headers((NOW - 299) * 1000), OK_HMAC),
        # window edges: exactly 5 minutes either way is accepted
        (hmac_headers(NOW - MAX_CLOCK_SKEW_SECONDS), OK_HMAC),
        (hmac_headers(NOW + MAX_CLOCK_SKEW_SECONDS), OK_HMAC),
        # missing
        ({}, refused("missing_credentials")),
        ({"Content-Type": "application/json"}, refused("missing_credentials")),
        ({"Authorization": f"Basic {SECRET}"}, refused("missing_credentials")),
        ({"X-Timestamp": str(NOW)}, refused("missing_credentials")),
        # wrong secret
        ({"X-Vapi-Secret": "wrong"}, refused("bad_secret")),
        ({"X-Vapi-Secret": ""}, refused("bad_secret")),
        ({"X-Vapi-Secret": SECRET + "x"}, refused("bad_secret")),
        ({"X-Vapi-Secret": SECRET[:-1]}, refused("bad_secret")),
        ({"X-Vapi-Secret": f"Bearer {SECRET}"}, refused("bad_secret")),
        ({"Authorization": "Bearer wrong"}, refused("bad_secret")),
        ({"Authorization": "Bearer"}, refused("bad_secret")),
        ({"Authorization": SECRET}, refused("missing_credentials")),
        # hmac refusals
        (hmac_headers(secret="other-secret"), refused("bad_signature")),
        ({"X-Signature": sign(SECRET, b"{}", NOW), "X-Timestamp": str(NOW)}, refused("bad_signature")),
        ({"X-Signature": sign(SECRET, BODY, NOW), "X-Timestamp": str(NOW + 1)}, refused("bad_signature")),
        ({"X-Signature": "md5=" + sign(SECRET, BODY, NOW), "X-Timestamp": str(NOW)}, refused("bad_signature")),
        ({"X-Signature": "", "X-Timestamp": str(NOW)}, refused("bad_signature")),
        (hmac_headers(NOW - 360), refused("stale_timestamp")),
        (hmac_headers(NOW + 360), refused("stale_timestamp")),
        (hmac_headers(NOW - MAX_CLOCK_SKEW_SECONDS - 1), refused("stale_timestamp")),
        (hmac_headers((NOW - 360) * 1000), refused("stale_timestamp")),
        ({"X-Signature": sign(SECRET, BODY, NOW)}, refused("bad_timestamp")),
        ({"X-Signature": sign(SECRET, BODY, NOW), "X-Timestamp": ""}, refused("bad_timestamp")),
        ({"X-Signature": sign(SECRET, BODY, NOW), "X-Timestamp": "soon"}, refused("bad_timestamp")),
        ({"X-Signature": sign(SECRET, BODY, NOW), "X-Timestamp": f"{NOW}.5"}, refused("bad_timestamp")),
        ({"X-Signature": sign(SECRET, BODY, NOW), "X-Timestamp": f"-{NOW}"}, refused("bad_timestamp")),
        ({"X-Signature": sign(SECRET, BODY, NOW), "X-Timestamp": "١٧٧٤٠٠٠٠٠٠"}, refused("bad_timestamp")),
        # any valid method wins; otherwise the first presented method's reason
        ({"X-Vapi-Secret": "wrong", "Authorization": f"Bearer {SECRET}"}, OK_BEARER),
        ({"X-Vapi-Secret": "wrong", **hmac_headers()}, OK_HMAC),
        ({"Authorization": "Bearer other-proxy-token", "X-Vapi-Secret": SECRET}, OK_SECRET),
        ({"X-Vapi-Secret": "wrong", **hmac_headers(NOW - 360)}, refused("bad_secret")),
        ({"Authorization": "Bearer wrong", **hmac_headers(secret="x")}, refused("bad_secret")),
    ],
)
def test_verify_request(headers: dict[str, str], expected: AuthResult) -> None:
    assert verify_request(headers, BODY, SECRET, NOW) == expected


def test_signature_over_different_body_is_refused() -> None:
    headers = hmac_headers(body=BODY)
    assert verify_request(headers, BODY + b" ", SECRET, NOW) == refused("bad_signature")
    assert verify_request(headers, b"", SECRET, NOW) == refused("bad_signature")
    assert verify_request(headers, BODY, SECRET, NOW) == OK_HMAC


def test_werkzeug_headers_are_case_insensitive() -> None:
    assert verify_request(Headers({"X-Vapi-Secret": SECRET}), BODY, SECRET, NOW) == OK_SECRET
    assert verify_request(Headers(hmac_headers()), BODY, SECRET, NOW) == OK_HMAC


def test_first_repeated_header_wins() -> None:
    headers = Headers([("X-Vapi-Secret", "wrong"), ("x-vapi-secret", SECRET)])
    assert verify_request(headers, BODY, SECRET, NOW) == refused("bad_secret")


def test_non_string_header_values_are_ignored() -> None:
    headers = {"X-Vapi-Secret": None}
    assert verify_request(headers, BODY, SECRET, NOW) == refused("missing_credentials")  # type: ignore[arg-type]


def test_non_ascii_header_value_does_not_raise() -> None:
    assert verify_request({"X-Vapi-Secret": "s\udcffé"}, BODY, SECRET, NOW) == refused("bad_secret")
    assert verify_request({"X-Signature": "é", "X-Timestamp": str(NOW)}, BODY, SECRET, NOW) == refused(
        "bad_signature"
    )


def test_non_ascii_secret() -> None:
    secret = "clé-secrète"
    assert verify_request({"X-Vapi-Secret": secret}, BODY, secret, NOW) == OK_SECRET
    assert verify_request(hmac_headers(secret=secret), BODY, secret, NOW) == OK_HMAC


@pytest.mark.parametrize("secret", ["", "   ", None])
def test_empty_secret_is_refused_loudly(secret: str) -> None:
    with pytest.raises(ValueError):
        verify_request({"X-Vapi-Secret": ""}, BODY, secret, NOW)
    with pytest.raises(ValueError):
        verify_request({"Authorization": "Bearer "}, b"", secret, NOW)
    with pytest.raises(ValueError):
        sign(secret, BODY, NOW)


@pytest.mark.parametrize("now", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_now_is_refused(now: float) -> None:
    with pytest.raises(ValueError):
        verify_request(hmac_headers(), BODY, SECRET, now)


@given(
    secret=st.text(min_size=1).filter(lambda s: s.strip()),
    body=st.binary(max_size=256),
    skew=st.integers(min_value=-MAX_CLOCK_SKEW_SECONDS, max_value=MAX_CLOCK_SKEW_SECONDS),
)
def test_hmac_round_trip(secret: str, body: bytes, skew: int) -> None:
    headers = {"X-Signature": sign(secret, body, NOW + skew), "X-Timestamp": str(NOW + skew)}
    assert verify_request(headers, body, secret, NOW) == OK_HMAC


@given(body=st.binary(min_size=1, max_size=256), data=st.data())
def test_hmac_any_body_change_is_refused(body: bytes, data: st.DataObject) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    flip = data.draw(st.integers(min_value=1, max_value=255))
    tampered = body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :]
    headers = hmac_headers(body=body)
    assert verify_request(headers, tampered, SECRET, NOW) == refused("bad_signature")


@given(
    headers=st.dictionaries(
        st.sampled_from(["X-Vapi-Secret", "Authorization", "X-Signature", "X-Timestamp"]) | st.text(max_size=10),
        st.text(max_size=80),
        max_size=5,
    )
)
def test_random_headers_never_authenticate_or_raise(headers: dict[str, str]) -> None:
    result = verify_request(headers, BODY, SECRET, NOW)
    assert result.ok is False
    assert result.method is None
    assert result.reason in {
        "missing_credentials", "bad_secret", "bad_signature", "stale_timestamp", "bad_timestamp"
    }


def test_an_accepted_hmac_carries_its_signature_and_time_for_the_replay_check() -> None:
    signature = sign(SECRET, BODY, NOW * 1000)  # a milliseconds timestamp, signed as sent
    result = verify_request({"X-Signature": "SHA256=" + signature.upper(), "X-Timestamp": str(NOW * 1000)},
                            BODY, SECRET, now=NOW)
    assert result == OK_HMAC  # equality ignores the two fields
    assert (result.signature, result.signed_at) == (signature, NOW)  # normalised: lower-case hex, seconds
    secret_result = verify_request({"X-Vapi-Secret": SECRET}, BODY, SECRET, now=NOW)
    assert (secret_result.signature, secret_result.signed_at) == (None, None)
    assert verify_request(hmac_headers(NOW - 301), BODY, SECRET, now=NOW).signature is None
