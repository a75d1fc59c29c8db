"""Web/REST checks (PACS-WEB-*): does the product's web API hand out patient data without
credentials, serve non-local clients in plaintext, accept a default credential, answer DICOMweb
queries without credentials? (The HTTP work is in webprobe.py.)
"""

from __future__ import annotations

from .. import webprobe
from .model import Run

RULES = ("PACS-WEB-001", "PACS-WEB-002", "PACS-WEB-003", "PACS-WEB-005")


def check(run: Run) -> None:
    """GET the patient-listing resources without credentials and judge the answers."""
    target = run.target
    if not target.web_url:
        run.result.skip(RULES, "no web_url given")
        return
    web = webprobe.inspect(target.web_url, target.timeout, target.bind_address)
    run.result.endpoint["web"] = web.summary()
    for rule_id, status, detail in web.verdicts():
        if status == "fail":
            run.result.fail(rule_id, detail)
        else:
            run.result.check(rule_id, status, detail)
