"""Per-clinic provider credentials (BYOC): encrypt and decrypt them here, store ciphertext only.

The service is where credentials are encrypted (AES-256-GCM; the key is derived with scrypt from the
``CREDENTIALS_KEY`` passphrase; org id, provider and name are bound in as associated data, so a
ciphertext copied to another row does not decrypt). The database only ever receives and returns the
opaque ciphertext ``v1:<base64url>`` — neither the key nor a plaintext is a statement text or a bind
parameter, so no statement log can hold them. SQL still decides everything else
(supabase/migrations/20261125000600_credentials.sql): which credentials exist, where the ciphertext
is kept (Supabase Vault, else the table), validation, refusals, who may call what. Neither the key
nor a value is ever logged or printed; decrypted webhook secrets live in process memory only.

The request path uses :class:`WebhookSecretCache` (api/webhook.py); the operator commands
(`flask --app api credentials set|list|delete|rekey`) are api/cli/credentials.py.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, replace

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from .gateway import RpcError, RpcGateway
from .logs import log_event

KEY_MIN_LENGTH = 16
SECRET_MAX_LENGTH = 4096
CIPHERTEXT_PREFIX = "v1:"
_NONCE_BYTES = 12
_TAG_BYTES = 16
# scrypt turns the passphrase into the AES key: ~0.1 s and 32 MiB once per process and passphrase,
# so a guessable passphrase is at least expensive to guess. The salt is fixed (the key must be the
# same in every process); the passphrase should be random anyway (`openssl rand -base64 32`).
_SCRYPT_SALT = b"clinic-booking/CREDENTIALS_KEY/v1"
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**15, 8, 1
_AAD_LABEL = "clinic-booking/org-credential/v1"


class CredentialError(Exception):
    """A credential could not be stored or revealed (``code`` as in the RPC replies)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# ---------------------------------------------------------------------------------------------
# Encryption
# ---------------------------------------------------------------------------------------------

def key_problem(passphrase: str | None) -> CredentialError | None:
    """Why a passphrase cannot be used as CREDENTIALS_KEY, or None."""
    if not passphrase or not passphrase.strip():
        return CredentialError("encryption_key_required",
                               "No encryption key is configured (set CREDENTIALS_KEY)")
    if len(passphrase) < KEY_MIN_LENGTH:
        return CredentialError("weak_encryption_key",
                               f"The encryption key must be at least {KEY_MIN_LENGTH} characters")
    return None


@functools.lru_cache(maxsize=8)
def _derive_key(passphrase: str) -> bytes:
    kdf = Scrypt(salt=_SCRYPT_SALT, length=32, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    return kdf.derive(passphrase.encode("utf-8", "surrogatepass"))


def _associated_data(org_id: str, provider: str, name: str) -> bytes:
    # JSON keeps the fields apart unambiguously whatever they contain.
    return json.dumps([_AAD_LABEL, org_id, provider, name], separators=(",", ":")).encode()


class CredentialCipher:
    """AES-256-GCM under the key derived from one CREDENTIALS_KEY passphrase."""

    def __init__(self, passphrase: str | None):
        problem = key_problem(passphrase)
        if problem is not None:
            raise problem
        self._aead = AESGCM(_derive_key(passphrase))

    def __repr__(self) -> str:  # never the key
        return "<CredentialCipher>"

    def encrypt(self, org_id: str, provider: str, name: str, secret: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)  # random 96-bit nonces: fine far beyond 2**32 encryptions
        sealed = self._aead.encrypt(nonce, secret.encode("utf-8"), _associated_data(org_id, provider, name))
        return CIPHERTEXT_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")

    def decrypt(self, org_id: str, provider: str, name: str, ciphertext: str) -> str:
        if not isinstance(ciphertext, str) or not ciphertext.startswith(CIPHERTEXT_PREFIX):
            raise CredentialError("decryption_failed", "The stored ciphertext is not in a known format")
        body = ciphertext[len(CIPHERTEXT_PREFIX):]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            if len(raw) < _NONCE_BYTES + _TAG_BYTES:
                raise ValueError("too short")
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:],
                                       _associated_data(org_id, provider, name))
            return plain.decode("utf-8")
        except (InvalidTag, ValueError, binascii.Error):
            raise CredentialError(
                "decryption_failed",
                "The credential cannot be decrypted with this key (wrong CREDENTIALS_KEY?)") from None


def _canonical_org(org_id: str) -> str:
    try:
        return str(uuid.UUID(str(org_id)))
    except ValueError:
        raise CredentialError("invalid_input", "org id must be a UUID") from None


def _canonical(text: str | None) -> str:
    return (text or "").strip().lower()


def _secret_problem(secret: str | None) -> CredentialError | None:
    # What SQL used to check, before it stopped seeing the plaintext.
    if secret is None or not secret.strip():
        return CredentialError("invalid_input", "secret is blank")
    if len(secret) > SECRET_MAX_LENGTH:
        return CredentialError("invalid_input", f"secret is longer than {SECRET_MAX_LENGTH} characters")
    if "\x00" in secret:
        return CredentialError("invalid_input", "the value contains a NUL character")
    return None


# ---------------------------------------------------------------------------------------------
# Store, read, rekey (one RPC each way; only ciphertext crosses)
# ---------------------------------------------------------------------------------------------

def store_org_secret(gateway: RpcGateway, org_id: str, provider: str, name: str, secret: str,
                     encryption_key: str | None) -> dict:
    """Encrypt and store one credential; set_org_credential's reply (never the value).

    Raises CredentialError for a refusal (here or in SQL), RpcError when the database is unreachable.
    """
    problem = _secret_problem(secret)
    if problem is not None:
        raise problem
    cipher = CredentialCipher(encryption_key)
    org_id, provider, name = _canonical_org(org_id), _canonical(provider), _canonical(name)
    reply = gateway.rpc("set_org_credential", {
        "p_org_id": org_id, "p_provider": provider, "p_name": name,
        "p_ciphertext": cipher.encrypt(org_id, provider, name, secret),
    })
    if not reply.get("success"):
        raise CredentialError(str(reply.get("error")), str(reply.get("message", "")))
    return reply


def org_secret(gateway: RpcGateway, org_id: str, provider: str, name: str,
               encryption_key: str | None) -> str | None:
    """The org's decrypted credential, or None when none is stored.

    Raises CredentialError for any other refusal (wrong or missing key, unknown org/provider/name)
    so a misconfiguration is never mistaken for "not set", and RpcError when the database is
    unreachable.
    """
    reply = gateway.rpc("get_org_credential", {"p_org_id": org_id, "p_provider": provider, "p_name": name})
    if not reply.get("success"):
        if reply.get("error") == "not_found":
            return None
        raise CredentialError(str(reply.get("error")), str(reply.get("message", "")))
    return CredentialCipher(encryption_key).decrypt(reply["orgId"], reply["provider"], reply["name"],
                                                    reply["ciphertext"])


def rekey_credentials(gateway: RpcGateway, old_key: str | None, new_key: str | None) -> int:
    """Re-encrypt every stored credential from old_key to new_key; how many. All or nothing: a
    credential that does not decrypt with old_key, or one set/deleted meanwhile, changes nothing."""
    problem = key_problem(old_key)
    if problem is not None:
        raise CredentialError(problem.code, "The current key is needed to rekey: set CREDENTIALS_KEY to it")
    if not new_key or not new_key.strip():
        raise CredentialError("encryption_key_required", "No new key was given on stdin")
    if len(new_key) < KEY_MIN_LENGTH:
        raise CredentialError("weak_encryption_key", f"The new key must be at least {KEY_MIN_LENGTH} characters")
    if new_key == old_key:
        raise CredentialError("invalid_input", "The new key is the same as the old key")
    old, new = CredentialCipher(old_key), CredentialCipher(new_key)
    reply = gateway.rpc("list_org_credential_ciphertexts", {})
    if not reply.get("success"):
        raise CredentialError(str(reply.get("error")), str(reply.get("message", "")))
    items = []
    for item in reply["credentials"]:
        org_id, provider, name = item["orgId"], item["provider"], item["name"]
        try:
            secret = old.decrypt(org_id, provider, name, item["ciphertext"])
        except CredentialError:
            raise CredentialError(
                "decryption_failed",
                f"org {org_id} {provider}/{name} does not decrypt with the current key (CREDENTIALS_KEY); "
                "nothing was changed") from None
        items.append({"orgId": org_id, "provider": provider, "name": name, "old": item["ciphertext"],
                      "new": new.encrypt(org_id, provider, name, secret)})
    reply = gateway.rpc("rekey_org_credentials", {"p_ciphertexts": items})
    if not reply.get("success"):
        raise CredentialError(str(reply.get("error")), str(reply.get("message", "")))
    return int(reply["reencrypted"])


# ---------------------------------------------------------------------------------------------
# Per-clinic webhook secrets for the webhook
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OrgWebhookSecret:
    org_id: str
    secret: str


@dataclass(frozen=True)
class _Index:
    """vapi_webhook_secret_index: the ids a clinic secret can authenticate, and each secret's version."""

    version: str
    assistants: dict
    phone_numbers: dict
    secrets: dict
    loaded_at: float

    def org_for(self, assistant_id: str | None, phone_number_id: str | None) -> str | None:
        # resolve_vapi_org's order: the assistant's mapping, else the phone number's. (An assistant
        # mapped to a clinic WITHOUT a secret is not in the index, so its phone number may pick
        # another clinic's secret here; resolve_vapi_org then names the assistant's clinic, and the
        # webhook refuses to act for a clinic other than the one that authenticated.)
        return (self.assistants.get(assistant_id) if assistant_id else None) or (
            self.phone_numbers.get(phone_number_id) if phone_number_id else None)


@dataclass(frozen=True)
class _Entry:
    version: str
    value: OrgWebhookSecret | None


def _clean_id(value: str | None) -> str | None:
    # resolve_vapi_org btrims the ids it looks up; so does the lookup here.
    if not isinstance(value, str):
        return None
    return value.strip(" ") or None


class WebhookSecretCache:
    """Per-org webhook secrets by (assistant id, phone-number id), without a database call per id.

    The process keeps SQL's index of the ids mapped to a clinic that has a webhook secret
    (``vapi_webhook_secret_index``), re-read at most once per ``refresh_seconds`` (1 s) while
    requests come in, and as a short "unchanged" reply when nothing changed. A request whose ids are
    not in it costs nothing and touches no cached entry, so made-up ids can neither probe the
    database (timing) nor push real secrets out. A mapped clinic's secret is fetched (ciphertext)
    and decrypted here once per version; when the index shows a new version — the secret was set
    again, re-encrypted or deleted — the next request re-reads it, so a change takes effect within
    a second, not after ``ttl_seconds``. ``ttl_seconds`` is how long a last good index may still be
    used while the database cannot be asked. Without a usable CREDENTIALS_KEY the per-clinic path
    is off and nothing is asked at all.
    """

    def __init__(self, gateway: RpcGateway, ttl_seconds: float, encryption_key: str | None,
                 maxsize: int = 4096, timer=time.monotonic, refresh_seconds: float = 1.0,
                 max_index_ids: int = 100_000):
        self._gateway = gateway
        self._timer = timer
        self._refresh_s = max(0.0, min(refresh_seconds, ttl_seconds))
        self._stale_s = max(ttl_seconds, self._refresh_s)
        self._maxsize = maxsize
        self._max_index_ids = max_index_ids
        self._cipher: CredentialCipher | None = None
        if encryption_key:
            try:
                self._cipher = CredentialCipher(encryption_key)
            except CredentialError as problem:
                log_event("credentials.unavailable", logging.WARNING, error=problem.code)
        self._index: _Index | None = None
        self._checked_at = float("-inf")
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()

    def get(self, assistant_id: str | None, phone_number_id: str | None) -> OrgWebhookSecret | None:
        """The secret of the org mapped to these ids, or None when there is none to use.

        Never raises: a database or key problem makes the per-org path unavailable (logged without
        values), it must not turn an authentication check into a server error.
        """
        if self._cipher is None:
            return None
        assistant_id, phone_number_id = _clean_id(assistant_id), _clean_id(phone_number_id)
        if not assistant_id and not phone_number_id:
            return None
        index = self._current_index()
        if index is None:
            return None
        org_id = index.org_for(assistant_id, phone_number_id)
        version = index.secrets.get(org_id) if org_id else None
        if version is None:
            return None
        with self._lock:
            entry = self._entries.get(org_id)
        if entry is not None and entry.version == version:
            return entry.value
        return self._fetch(org_id, version)

    def clear(self) -> None:
        with self._lock:
            self._index = None
            self._checked_at = float("-inf")
            self._entries.clear()

    def _current_index(self) -> _Index | None:
        index = self._index
        if index is not None and self._timer() - self._checked_at < self._refresh_s:
            return index
        # One refresh at a time; meanwhile the others use the index they have (or wait for the first).
        if not self._refreshing.acquire(blocking=index is None):
            return index
        try:
            index = self._index
            now = self._timer()
            if index is not None and now - self._checked_at < self._refresh_s:
                return index
            self._checked_at = now
            fresh = self._load_index(index, now)
            if fresh is None and index is not None and now - index.loaded_at <= self._stale_s:
                fresh = index  # no answer: the last good index, but only for ttl_seconds
            with self._lock:
                self._index = fresh
                if fresh is None:
                    self._entries.clear()
                else:  # forget secrets whose clinic left the index or whose version moved on
                    for org_id in [o for o, e in self._entries.items() if fresh.secrets.get(o) != e.version]:
                        del self._entries[org_id]
            return fresh
        finally:
            self._refreshing.release()

    def _load_index(self, current: _Index | None, now: float) -> _Index | None:
        try:
            reply = self._gateway.rpc("vapi_webhook_secret_index",
                                      {"p_known_version": current.version if current else None})
        except RpcError:
            return None
        if not reply.get("success"):
            log_event("credentials.unavailable", logging.WARNING, error=reply.get("error"))
            return None
        if reply.get("unchanged") and current is not None and reply.get("version") == current.version:
            return replace(current, loaded_at=now)
        assistants, phone_numbers = reply.get("assistants") or {}, reply.get("phoneNumbers") or {}
        if len(assistants) + len(phone_numbers) > self._max_index_ids:
            log_event("credentials.unavailable", logging.ERROR, error="index_too_large",
                      ids=len(assistants) + len(phone_numbers), limit=self._max_index_ids)
            return None
        return _Index(version=str(reply.get("version")), assistants=dict(assistants),
                      phone_numbers=dict(phone_numbers), secrets=dict(reply.get("secrets") or {}), loaded_at=now)

    def _fetch(self, org_id: str, version: str) -> OrgWebhookSecret | None:
        try:
            reply = self._gateway.rpc("get_org_credential",
                                      {"p_org_id": org_id, "p_provider": "vapi", "p_name": "webhook_secret"})
        except RpcError:
            return None  # not kept: the next request tries again
        value = None
        if reply.get("success"):
            try:
                value = OrgWebhookSecret(org_id=reply["orgId"], secret=self._cipher.decrypt(
                    reply["orgId"], reply["provider"], reply["name"], reply["ciphertext"]))
            except CredentialError as problem:
                log_event("credentials.unavailable", logging.WARNING, error=problem.code, orgId=org_id)
        elif reply.get("error") != "not_found":  # not_found: deleted since the index was read
            log_event("credentials.unavailable", logging.WARNING, error=reply.get("error"), orgId=org_id)
        # Kept under the index's version: a failure is not retried per request, only once the
        # version changes. At most one entry per clinic in the index; the bound is a safety net.
        with self._lock:
            if org_id not in self._entries and len(self._entries) >= self._maxsize:
                self._entries.pop(next(iter(self._entries)))
            self._entries[org_id] = _Entry(version, value)
        return value

