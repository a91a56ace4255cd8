"""Red-team findings against request handling (what a body can make the service write to its logs).

An implausible patient e-mail is dropped with a warning that "masks" it — but the mask kept the
whole domain: a 100 KB `patientEmail` became a 100 KB log line (and a domain can name an employer).
"""

from __future__ import annotations

import logging

from api.normalize import mask_email, normalize_email


def test_attack_a_huge_email_domain_is_not_logged_in_full(caplog):
    huge = "a@" + "x." * 50_000 + "!"
    with caplog.at_level(logging.WARNING, logger="api.normalize"):
        assert normalize_email(huge) is None
    assert caplog.records, "the dropped address is still reported"
    assert max(len(r.getMessage()) for r in caplog.records) < 200


def test_attack_mask_email_is_bounded():
    assert len(mask_email("j@" + "d" * 10_000 + ".com")) < 100
    assert mask_email("john@example.com").startswith("j***@")
