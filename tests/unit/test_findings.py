import pytest

from pacsguard.findings import RULES, SEVERITIES, at_or_above, make_finding, severity_rank

DESIGN_RULES = (
    [f"PACS-NET-00{i}" for i in range(1, 8)]
    + [f"PACS-TLS-00{i}" for i in range(1, 7)]
    + [f"PACS-WEB-00{i}" for i in range(1, 6)] + ["PACS-FW-001", "PACS-DISC-001"]
    + [f"PACS-CFG-{i:03d}" for i in range(1, 16)]
)


def test_catalogue_holds_every_design_rule_with_remediation_and_references():
    assert sorted(RULES) == sorted(DESIGN_RULES)
    for rule in RULES.values():
        assert rule.severity in SEVERITIES
        assert rule.remediation and rule.references and rule.title


def test_finding_carries_rule_fields_and_evidence():
    finding = make_finding("PACS-NET-001", "A-ASSOCIATE-AC to calling AE PGROGUE1")
    assert finding.id == "PACS-NET-001"
    assert finding.severity == "critical"
    assert finding.evidence == "A-ASSOCIATE-AC to calling AE PGROGUE1"
    assert finding.as_dict()["references"] == list(RULES["PACS-NET-001"].references)


def test_severity_override_is_checked():
    assert make_finding("PACS-TLS-005", "self-signed", "medium").severity == "medium"
    with pytest.raises(ValueError, match="unknown severity 'severe'"):
        make_finding("PACS-TLS-005", "x", "severe")


def test_at_or_above_filters_by_rank():
    findings = [{"severity": s} for s in ("info", "medium", "high", "critical")]
    assert [f["severity"] for f in at_or_above(findings, "high")] == ["high", "critical"]
    assert len(at_or_above(findings, "info")) == 4
    assert severity_rank("critical") > severity_rank("low")
    with pytest.raises(ValueError, match="unknown severity"):
        at_or_above(findings, "urgent")
