import pytest

from pacsguard.findings import RULES, SEVERITIES, at_or_above, make_finding, severity_rank

DESIGN_RULES = (
    [f"PACS-NET-00{i}" for i in range(1, 8)]
    + [f"PACS-TLS-00{i}" for i in range(1, 7)]
    + [f"PACS-WEB-00{i}" for i in range(1, 6)] + ["PACS-FW-001", "PACS-DISC-001"]
    + [f"PACS-CFG-{i:03d}" for i in range(1, 16)]
    + [f"PACS-LOG-{i:03d}" for i in range(1, 6)]
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


def test_every_rule_maps_to_the_controls_it_evidences_in_their_own_forms():
    import re

    from pacsguard.findings import CONTROLS

    assert sorted(CONTROLS) == sorted(RULES)
    nist = re.compile(r"[A-Z]{2}-\d{1,2}(\(\d{1,2}\))?")
    hipaa = re.compile(r"164\.3(08|12)\([a-e]\)(\(\d\))?(\((i|ii|iii|iv)\))?(\([A-D]\))?")
    for rule_id, controls in CONTROLS.items():
        assert controls.nist_800_53 and controls.hipaa, rule_id
        assert all(nist.fullmatch(control) for control in controls.nist_800_53), rule_id
        assert all(hipaa.fullmatch(paragraph) for paragraph in controls.hipaa), rule_id
        assert len(set(controls.nist_800_53)) == len(controls.nist_800_53), rule_id
    # the DICOM TLS profile exactly where DICOM TLS is judged, the audit trail's transport where
    # the trail's way off the host is
    tls = {rule_id for rule_id, controls in CONTROLS.items() if "B.9" in controls.dicom_ps3_15}
    assert tls == {f"PACS-TLS-00{i}" for i in range(1, 7)} | {"PACS-CFG-007", "PACS-CFG-012"}
    trail = {rule_id for rule_id, controls in CONTROLS.items() if "A.6" in controls.dicom_ps3_15}
    assert trail == {"PACS-LOG-005"}


def test_a_finding_carries_its_rules_controls():
    finding = make_finding("PACS-TLS-001", "plaintext association accepted").as_dict()
    assert finding["controls"] == {"nist_800_53": ["SC-8", "SC-8(1)"],
                                   "hipaa": ["164.312(e)(1)", "164.312(e)(2)(ii)"],
                                   "dicom_ps3_15": ["B.9"]}
    assert make_finding("PACS-NET-004", "C-ECHO accepted").as_dict()["controls"]["dicom_ps3_15"] == []
