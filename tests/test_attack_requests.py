"""Red-team findings against request handling (what a body can make the service write to its logs).

An implausible patient e-mail is dropped with a warning that "masks" it — but the mask kept the
whole domain: a 100 KB `patientEmail` became a 100 KB log line (and a domain can name an employer).
"""

from __future__ import annotations

import logging

from api.normalize import mask_email, normalize_email


def test_attack_a_huge_email_domain_is_not_logged_in_full(caplog):
    # normalize_email only writes spoken forms out (SQL judges plausibility and drops this one);
    # what reaches a log line is the masked form, which is bounded whatever the caller said.
    huge = "a@" + "x." * 50_000 + "!"
    with caplog.at_level(logging.DEBUG, logger="api"):
        normalized = normalize_email(huge)
        masked = mask_email(normalized)
    assert len(masked) < 100
    assert all(len(r.getMessage()) < 200 for r in caplog.records)


def test_attack_mask_email_is_bounded():
    assert len(mask_email("j@" + "d" * 10_000 + ".com")) < 100
    assert mask_email("john@example.com").startswith("j***@")
