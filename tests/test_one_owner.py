"""Each rule has one owner (issue 13): the sources are scanned so a second copy cannot creep back.

- Spoken sentences live in api/speech.py; the request path raises re-ask *codes* and names speech
  functions, never a sentence of its own.
- Every re-ask code the normalizer raises has its question in speech.REASKS.
- The idempotency key format is written once (api.vapi.idempotency_key); tests and the bench call it.
- The E.164 and e-mail rules live in SQL (private.is_e164, private.is_plausible_email): Python only
  normalizes with phonenumbers and spoken forms, it carries no regular expression that decides.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from api import speech

ROOT = Path(__file__).resolve().parents[1]

# The modules a webhook request passes through (speech.py aside). Operator commands (CLI help text)
# and the assistant prompts (instructions to the model) are text too, but not lines a caller hears.
REQUEST_PATH = ["__init__.py", "auth.py", "config.py", "gateway.py", "health.py", "logs.py",
                "normalize.py", "orgs.py", "tools.py", "vapi.py", "webhook.py"]
LOG_CALLS = {"debug", "info", "warning", "error", "exception", "critical", "log", "log_event"}
# Capitalised, at least three words, closed like a sentence: "I didn't catch the time — ...?"
SENTENCE = re.compile(r"[A-Z][^\n]*\s\S[^\n]*[.?!]")


def spoken_sentences(source: str) -> list[tuple[int, str]]:
    """String literals (f-strings included) that read as a sentence to a caller; docstrings and the
    arguments of log calls (logger.*, log_event) are not spoken and are skipped."""
    tree = ast.parse(source)
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skipped.add(id(first.value))
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in LOG_CALLS:
                skipped.update(id(sub) for sub in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.JoinedStr):
            text = "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
            skipped.update(id(part) for part in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        text = " ".join(text.split())
        if SENTENCE.fullmatch(text) and len(text.split()) >= 3:
            found.append((node.lineno, text))
    return found


def test_the_scanner_finds_the_sentences_that_used_to_live_outside_speech():
    # As normalize.py and tools.py had them before issue 13 — and what must still pass.
    source = '''
"""Module docstring. It is documentation."""
import logging
logger = logging.getLogger(__name__)
REASK_TIME_MISSING = "I didn't catch the time — what time would work for you?"
REASK_DOB = (
    "That date of birth doesn't sound right — could you say the date of birth "
    "again, with the year?"
)
def dispatch(name):
    """Docstring. Not spoken."""
    logger.warning("Unknown phone region %r, reading numbers as US.", name)
    log_event("tool.unknown", note="Nothing here is spoken either.")
    raise ValueError(f"not a clock time: {name!r}")
    return speech.reask(f"I'm sorry, I can't help with {name} here. Is there something else?")
CODE = "appointment_time_missing"
'''
    assert [line for line, _ in spoken_sentences(source)] == [5, 7, 15]


@pytest.mark.parametrize("module", REQUEST_PATH)
def test_no_spoken_sentence_lives_outside_speech(module):
    path = ROOT / "api" / module
    assert spoken_sentences(path.read_text()) == [], f"move these lines to api/speech.py: {path}"


def _raised_reask_codes() -> set[str]:
    codes = set()
    for module in ("normalize.py", "tools.py"):  # normalization, and takeMessage's own re-asks
        codes |= _reask_codes_in(ROOT / "api" / module)
    return codes


def _reask_codes_in(path) -> set[str]:
    tree = ast.parse(path.read_text())
    codes = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "NormalizationError"
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)):
            codes.add(node.args[1].value)
    return codes


def test_every_reask_code_raised_has_its_question_in_speech():
    codes = _raised_reask_codes()
    assert len(codes) >= 12  # the scan sees the raises
    asked_with_choices = {"appointment_time_meridiem"}  # speech.reask builds it from the two readings
    assert codes - asked_with_choices <= set(speech.REASKS), codes - set(speech.REASKS)
    assert set(speech.REASKS) <= codes, "a question nobody raises"


def _python_sources(*folders: str):
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def test_the_idempotency_key_format_is_written_once():
    # A string literal starting with the key's prefix (plain or f-string), anywhere but its owner.
    prefix = re.compile(r"""(?<![A-Za-z0-9_])f?["']""" + "vapi" + ":")
    owners = {ROOT / "api" / "vapi.py"}
    copies = [f"{path.relative_to(ROOT)}:{number}"
              for path in _python_sources("api", "tests", "bench") if path not in owners
              for number, line in enumerate(path.read_text().splitlines(), 1) if prefix.search(line)]
    assert copies == [], "call api.vapi.idempotency_key instead"
    assert prefix.search((ROOT / "api" / "vapi.py").read_text())  # the pattern does see the owner


def test_python_has_no_e164_or_email_rule_of_its_own():
    decides = {
        "E.164": re.compile(r"\\\+\[1-9\]|\[1-9\]\[0-9\]\{6"),
        "e-mail": re.compile(r"\[\^@|@\[\^|\[a-z\]\{2,\}"),
    }
    for path in _python_sources("api"):
        text = path.read_text()
        for rule, pattern in decides.items():
            assert not pattern.search(text), f"{path.relative_to(ROOT)} decides {rule} validity; SQL owns it"
    assert decides["E.164"].search(r"re.fullmatch(r'\+[1-9][0-9]{6,14}', phone)")
    assert decides["e-mail"].search(r"re.compile(r'^[^@\s]+@[^@\s]+\.[a-z]{2,}$')")
