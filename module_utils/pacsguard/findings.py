"""The rule catalogue and the finding model shared by every check and report.

A finding is positive evidence of a weakness. Its evidence text describes what the probe observed
(association results, counts, protocol versions) and never holds patient data: counts, not names
or identifiers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")

_HC3 = "HHS HC3 Alert, June 2021: PACS exposed to the internet (restrict access, firewall, TLS)"
_PS15_TLS = "DICOM PS3.15 Annex B.9: Non-Downgrading BCP 195 TLS Secure Transport Connection Profile"
_PS15_AUTH = "DICOM PS3.15 Annex B: node authentication by certificates"
_PS7_ACSE = "DICOM PS3.7 Annex D / PS3.8: association negotiation (calling and called AE titles)"
_HIPAA_ACCESS = "HIPAA 45 CFR 164.312(a)(1): access control"
_HIPAA_AUTH = "HIPAA 45 CFR 164.312(d): person or entity authentication"
_HIPAA_TRANSMISSION = "HIPAA 45 CFR 164.312(e)(1): transmission security"
_BCP195 = "BCP 195 (RFC 7525, RFC 9325): recommendations for secure use of TLS"
_ORTHANC_SEC = "Orthanc Book: Security of Orthanc (securing the REST API, Lua, remote access)"
_NIST_SERVER = "NIST SP 800-123: Guide to General Server Security (least privilege, file permissions)"
_HIPAA_INTEGRITY = "HIPAA 45 CFR 164.312(c)(1): integrity"
_HIPAA_AUDIT = "HIPAA 45 CFR 164.312(b): audit controls"
_PS15_AUDIT = "DICOM PS3.15 Annex A.5/A.6: audit trail, syslog over TLS (RFC 5425)"
_NIST_LOG = "NIST SP 800-92: Guide to Computer Security Log Management"


@dataclass(frozen=True)
class Rule:
    """One entry of the rule catalogue: what a finding of this rule means and how to fix it."""

    rule_id: str
    severity: str
    title: str
    remediation: str
    references: tuple[str, ...]


RULES: dict[str, Rule] = {
    rule.rule_id: rule
    for rule in (
        Rule(
            "PACS-NET-001", "critical", "Association accepted from an unknown calling AE title",
            "Allowlist the peers (AE title bound to address) and refuse every other calling AE; "
            "on Orthanc set every DicomAlwaysAllow* to false.",
            (_HC3, _PS7_ACSE, _HIPAA_ACCESS),
        ),
        Rule(
            "PACS-NET-002", "high", "Association accepted with a wrong called AE title",
            "Make the node check the called AE title (Orthanc: DicomCheckCalledAet true).",
            (_PS7_ACSE, _HIPAA_ACCESS),
        ),
        Rule(
            "PACS-NET-003", "critical", "An unknown calling AE may query the archive (C-FIND)",
            "Refuse queries from AE titles outside the allowlist and grant C-FIND only to the peers "
            "that need it.",
            (_HC3, _HIPAA_ACCESS),
        ),
        Rule(
            "PACS-NET-004", "medium", "An unknown calling AE may C-ECHO",
            "Refuse C-ECHO from AE titles outside the allowlist (Orthanc: DicomAlwaysAllowEcho false).",
            (_HC3, _HIPAA_ACCESS),
        ),
        Rule(
            "PACS-NET-005", "critical", "An unknown calling AE may store objects (C-STORE)",
            "Refuse C-STORE from AE titles outside the allowlist (Orthanc: DicomAlwaysAllowStore "
            "false) and grant store only to modalities.",
            (_HC3, _HIPAA_ACCESS),
        ),
        Rule(
            "PACS-NET-006", "high", "An allowlisted AE title is accepted from an address not its own",
            "Bind every peer's AE title to its address (Orthanc: DicomCheckModalityHost true and Host "
            "set to the peer's IP; dcmqrscp: HostTable address with -dhl).",
            (_PS7_ACSE, _HIPAA_AUTH),
        ),
        Rule(
            "PACS-NET-007", "high", "A listed peer may use a DICOM service the policy does not grant it",
            "Grant each peer only the services its policy lists (Orthanc: the modality's Allow* flags; "
            "dcmqrscp grants C-FIND, C-GET and C-MOVE to every peer of a storage area: give peers "
            "that must not query an AE title and area of their own, or accept it with a waiver).",
            (_HC3, _PS7_ACSE, _HIPAA_ACCESS),
        ),
        Rule(
            "PACS-TLS-001", "high", "Plaintext DICOM association accepted",
            "Enable DICOM TLS and make the port TLS-only (or put a TLS front before it and firewall "
            "the plaintext port to loopback).",
            (_HC3, _PS15_TLS, _HIPAA_TRANSMISSION),
        ),
        Rule(
            "PACS-TLS-002", "high", "TLS 1.0 or 1.1 accepted",
            "Accept TLS 1.2 or later only (the non-downgrading BCP 195 profile).",
            (_PS15_TLS, _BCP195, _HIPAA_TRANSMISSION),
        ),
        Rule(
            "PACS-TLS-003", "high", "TLS association accepted without a client certificate",
            "Require a client certificate from a trusted CA (Orthanc: "
            "DicomTlsRemoteCertificateRequired true).",
            (_PS15_AUTH, _HIPAA_AUTH),
        ),
        Rule(
            "PACS-TLS-004", "medium", "Cipher suite outside the non-downgrading BCP 195 profile accepted",
            "Restrict TLS 1.2 to the AEAD suites of BCP 195 (ECDHE/DHE with AES-GCM).",
            (_PS15_TLS, _BCP195),
        ),
        Rule(
            "PACS-TLS-005", "high", "Weak server certificate",
            "Issue the node a certificate from the site's CA with an RSA key of 2048 bits or more "
            "(or EC P-256+), a SHA-2 signature, and renew it before it expires.",
            (_PS15_AUTH, _BCP195),
        ),
        Rule(
            "PACS-TLS-006", "high", "Client certificate from an untrusted CA accepted",
            "Trust only the site's CA for client certificates (Orthanc: DicomTlsTrustedCertificates).",
            (_PS15_AUTH, _HIPAA_AUTH),
        ),
        Rule(
            "PACS-WEB-001", "critical", "Web/REST API returns patient data without authentication",
            "Turn authentication on (Orthanc: AuthenticationEnabled with RegisteredUsers) and admit "
            "the web port only from admin sources.",
            (_HC3, _HIPAA_ACCESS, _HIPAA_AUTH),
        ),
        Rule(
            "PACS-WEB-002", "high", "Web/REST API served over plaintext HTTP to non-local clients",
            "Serve the web/REST API over HTTPS only (Orthanc: SslEnabled) or keep it local.",
            (_HC3, _HIPAA_TRANSMISSION),
        ),
        Rule(
            "PACS-WEB-003", "critical", "A default or well-known web credential is accepted",
            "Remove the product's default and example users and give every REST user a long, unique "
            "password (pacsguard's pacs_orthanc_rest_users; the policy refuses default passwords).",
            (_HC3, _HIPAA_ACCESS),
        ),
        Rule(
            "PACS-WEB-004", "high",
            "The web port's TLS accepts TLS < 1.2 or a suite that is not forward-secret AEAD",
            "Serve HTTPS with TLS 1.2 and 1.3 only, TLS 1.2 limited to ECDHE/DHE suites with AES-GCM or "
            "ChaCha20-Poly1305 (Orthanc: SslMinimumProtocolVersion and SslCiphersAccepted, or a TLS "
            "front with that profile).",
            (_HC3, _HIPAA_TRANSMISSION),
        ),
        Rule(
            "PACS-WEB-005", "critical", "DICOMweb (QIDO-RS) answers without credentials",
            "Put DICOMweb behind the same authentication as the REST API (Orthanc: AuthenticationEnabled "
            "true, RegisteredUsers, no remote access without them) or disable the plugin.",
            (_HC3, _HIPAA_ACCESS),
        ),
        Rule(
            "PACS-FW-001", "critical", "A PACS port is reachable from a source outside the policy",
            "Admit the DICOM ports only from the peers' addresses and the web port only from admin "
            "sources (host firewall).",
            (_HC3, _HIPAA_ACCESS),
        ),
        Rule(
            "PACS-DISC-001", "high", "A DICOM endpoint answers that the inventory does not list",
            "Add the endpoint to the inventory with its policy (pacs_peers) so pacsguard hardens and "
            "audits it, or take it off the network.",
            (_HC3, _HIPAA_ACCESS),
        ),
        Rule(
            "PACS-CFG-001", "critical", "The configuration admits unknown calling AE titles",
            "Admit only the listed peers: on Orthanc set every DicomAlwaysAllow* to false; on dcmqrscp "
            "remove every AETable row that admits ANY (pacsguard's roles do both from pacs_peers).",
            (_HC3, _PS7_ACSE, _HIPAA_ACCESS),
        ),
        Rule(
            "PACS-CFG-002", "high", "The configuration does not check the called AE title",
            "Check the called AE title (Orthanc: DicomCheckCalledAet true).",
            (_PS7_ACSE, _HIPAA_ACCESS),
        ),
        Rule(
            "PACS-CFG-003", "high", "The configuration does not bind peers to their addresses",
            "Bind every peer to its IP address (Orthanc: DicomCheckModalityHost true and a Host per "
            "modality; dcmqrscp: HostTable addresses and -dhl on its command line).",
            (_PS7_ACSE, _HIPAA_AUTH),
        ),
        Rule(
            "PACS-CFG-004", "high", "The REST API may rewrite the DICOM allowlist or the peers",
            "Keep modalities and peers in the configuration files (Orthanc: DicomModalitiesInDatabase "
            "and OrthancPeersInDatabase false).",
            (_ORTHANC_SEC, _HIPAA_ACCESS),
        ),
        Rule(
            "PACS-CFG-005", "critical",
            "Remote REST/web access without authentication or with weak credentials",
            "Require authentication with strong, site-specific passwords for every remote REST user "
            "(Orthanc: AuthenticationEnabled true, RegisteredUsers from a vault), or keep the API local "
            "(RemoteAccessAllowed false).",
            (_HC3, _ORTHANC_SEC, _HIPAA_AUTH),
        ),
        Rule(
            "PACS-CFG-006", "critical", "Code-execution paths are enabled",
            "Turn off ExecuteLuaEnabled and RestApiWriteToFileSystemEnabled (CVE-2023-33466) and keep "
            "scripts and plugins owned by root, not writable by the service.",
            (_ORTHANC_SEC, "CVE-2023-33466: Orthanc configuration overwrite through the REST API",
             _NIST_SERVER),
        ),
        Rule(
            "PACS-CFG-007", "high", "DICOM TLS is off, optional for clients or below TLS 1.2",
            "Serve DICOM over mutual TLS 1.2+ with AEAD suites only (Orthanc: DicomTlsEnabled, "
            "DicomTlsRemoteCertificateRequired, a service OpenSSL policy before 1.12.4, "
            "DicomTlsMinimumProtocolVersion 4 and DicomTlsCiphersAccepted from 1.12.4; a TLS front "
            "with requireCert and sslVersionMin TLSv1.2 for dcmqrscp).",
            (_PS15_TLS, _BCP195, _HIPAA_TRANSMISSION),
        ),
        Rule(
            "PACS-CFG-008", "high", "Secrets or configuration are exposed on disk",
            "Keep private keys and credential files owned by root and unreadable by others (0640 with "
            "the service's group) and the configuration not writable by the service user.",
            (_NIST_SERVER, _HIPAA_ACCESS, _HIPAA_INTEGRITY),
        ),
        Rule(
            "PACS-CFG-009", "medium", "The service runs as root or without a systemd sandbox",
            "Run the PACS as its own user with NoNewPrivileges, PrivateTmp, ProtectSystem (full or "
            "strict) and ProtectHome (pacsguard's roles install these).",
            (_NIST_SERVER, "systemd.exec(5): sandboxing"),
        ),
        Rule(
            "PACS-CFG-010", "medium", "Risky features are on",
            "Turn off WebDAV (and uploads over it) and keep HttpsVerifyPeers true.",
            (_ORTHANC_SEC, _HIPAA_ACCESS),
        ),
        Rule(
            "PACS-CFG-011", "high", "The configuration drifts from the policy",
            "Remove the AE titles, addresses and permissions the policy does not list, or add them to "
            "pacs_peers, and harden again (the roles write exactly the policy).",
            (_HIPAA_ACCESS, "NIST SP 800-128: security-focused configuration management"),
        ),
        Rule(
            "PACS-CFG-012", "high", "The configured server certificate is weak or expiring",
            "Issue a certificate from the site's CA with an RSA key of 2048 bits or more (or EC P-256+) "
            "and a SHA-2 signature, and renew it before it expires.",
            (_PS15_AUTH, _BCP195),
        ),
        Rule(
            "PACS-CFG-013", "medium", "The installed PACS version lacks known security fixes",
            "Upgrade the package to the fixed version the evidence names (Debian security updates).",
            ("Debian changelogs of the packages (the fixes and CVEs they record)",
             "NIST SP 800-40: enterprise patch management"),
        ),
        Rule(
            "PACS-CFG-014", "high", "The running PACS service is older than its configuration",
            "Restart the service (the allowlist and TLS settings on disk apply only from its next "
            "start); pacsguard's roles restart it unless <role>_restart_allowed is false.",
            (_HIPAA_ACCESS, "NIST SP 800-128: configuration changes verified in the running system"),
        ),
        Rule(
            "PACS-CFG-015", "high", "Another enabled service runs a PACS program the audit did not judge",
            "Audit that service as a node of its own (the service option of pacs_host_audit names "
            "the unit), or disable and "
            "remove it: a second archive or an old instance keeps its own allowlist, ports and TLS.",
            (_HIPAA_ACCESS, "NIST SP 800-53 CM-8: system component inventory"),
        ),
        Rule(
            "PACS-LOG-001", "high", "The PACS does not log its associations and refusals where they are kept",
            "Log every association and refusal to the system journal: Orthanc with --verbose-dicom and "
            "no --logdir/--logfile, dcmqrscp at level info (pacsguard's roles do both).",
            (_HIPAA_AUDIT, _PS15_AUDIT, _NIST_LOG),
        ),
        Rule(
            "PACS-LOG-002", "high", "The PACS writes patient identifiers to its logs",
            "Keep Orthanc's DeidentifyLogs true and no --trace option; run dcmqrscp below debug level with "
            "a log configuration that drops the identifier dumps (pacsguard's roles write one).",
            (_HIPAA_AUDIT, "HIPAA 45 CFR 164.514(b): de-identification", _NIST_LOG),
        ),
        Rule(
            "PACS-LOG-003", "medium", "Log files or the log queue are readable by every local user",
            "Keep log files and rsyslog's queue directory unreadable by others (0640 or tighter).",
            (_HIPAA_AUDIT, _NIST_SERVER, _NIST_LOG),
        ),
        Rule(
            "PACS-LOG-004", "medium", "Logs do not persist on the host",
            "Keep the journal on disk (journald Storage=persistent) and for at least the retention the "
            "evidence names (MaxRetentionSec unset or longer).",
            (_HIPAA_AUDIT, _NIST_LOG),
        ),
        Rule(
            "PACS-LOG-005", "high", "The audit trail does not leave the host over verified TLS",
            "Forward the logs with rsyslog to each collector the policy names (pacs_log_collectors) "
            "over TLS with the collector's certificate verified by name, through a disk-assisted queue "
            "that retries for ever (role pacs_log); forward nothing in plaintext.",
            (_PS15_AUDIT, _HIPAA_AUDIT, _HIPAA_TRANSMISSION, "RFC 5425: TLS transport mapping for syslog"),
        ),
    )
}


@dataclass(frozen=True)
class Finding:
    """A weakness observed on one endpoint, tied to a catalogue rule."""

    id: str
    severity: str
    title: str
    evidence: str
    remediation: str
    references: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for module results and reports, with the rule's controls."""
        return {**asdict(self), "controls": controls_of(self.id)}


@dataclass(frozen=True)
class Controls:
    """The controls a rule's finding evidences (and a pass of it supports): NIST SP 800-53 rev. 5
    control IDs, the HIPAA Security Rule's paragraphs (45 CFR), and the DICOM PS3.15 profile where
    DICOM TLS is concerned."""

    nist_800_53: tuple[str, ...]
    hipaa: tuple[str, ...]
    dicom_ps3_15: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, list[str]]:
        """Plain lists, for module results and reports."""
        return {"nist_800_53": list(self.nist_800_53), "hipaa": list(self.hipaa),
                "dicom_ps3_15": list(self.dicom_ps3_15)}


# HIPAA Security Rule paragraphs, written as 45 CFR cites them.
_ACCESS, _AUTHN, _TRANSMISSION, _INTEGRITY = "164.312(a)(1)", "164.312(d)", "164.312(e)(1)", "164.312(c)(1)"
_ENCRYPTION, _UNIQUE_USER = "164.312(e)(2)(ii)", "164.312(a)(2)(i)"
_RISK_ANALYSIS, _RISK_MANAGEMENT = "164.308(a)(1)(ii)(A)", "164.308(a)(1)(ii)(B)"
# DICOM PS3.15's profiles: the non-downgrading BCP 195 TLS secure transport connection profile.
_TLS_PROFILE = "B.9"
# PS3.15's audit trail message transport (syslog over TLS).
_AUDIT_PROFILE = "A.6"
_AUDIT = "164.312(b)"

# Every rule's controls (a unit test holds every rule to an entry, and each ID to its form).
CONTROLS: dict[str, Controls] = {
    "PACS-NET-001": Controls(("AC-3", "IA-3", "SC-7"), (_ACCESS, _AUTHN)),
    "PACS-NET-002": Controls(("AC-3", "CM-6"), (_ACCESS,)),
    "PACS-NET-003": Controls(("AC-3", "AC-6"), (_ACCESS,)),
    "PACS-NET-004": Controls(("AC-3", "CM-7"), (_ACCESS,)),
    "PACS-NET-005": Controls(("AC-3", "SI-7"), (_ACCESS, _INTEGRITY)),
    "PACS-NET-006": Controls(("IA-3", "AC-3"), (_AUTHN,)),
    "PACS-NET-007": Controls(("AC-6", "AC-3"), (_ACCESS,)),
    "PACS-TLS-001": Controls(("SC-8", "SC-8(1)"), (_TRANSMISSION, _ENCRYPTION), (_TLS_PROFILE,)),
    "PACS-TLS-002": Controls(("SC-8(1)", "SC-13"), (_ENCRYPTION,), (_TLS_PROFILE,)),
    "PACS-TLS-003": Controls(("IA-3", "SC-8"), (_AUTHN,), (_TLS_PROFILE,)),
    "PACS-TLS-004": Controls(("SC-13", "SC-8(1)"), (_ENCRYPTION,), (_TLS_PROFILE,)),
    "PACS-TLS-005": Controls(("SC-17", "IA-5(2)"), (_TRANSMISSION,), (_TLS_PROFILE,)),
    "PACS-TLS-006": Controls(("IA-3", "IA-5(2)"), (_AUTHN,), (_TLS_PROFILE,)),
    "PACS-WEB-001": Controls(("AC-3", "IA-2"), (_ACCESS, _AUTHN)),
    "PACS-WEB-002": Controls(("SC-8", "SC-8(1)"), (_TRANSMISSION, _ENCRYPTION)),
    "PACS-WEB-003": Controls(("IA-5", "IA-5(1)"), (_AUTHN, _UNIQUE_USER)),
    "PACS-WEB-004": Controls(("SC-8(1)", "SC-13"), (_ENCRYPTION,)),
    "PACS-WEB-005": Controls(("AC-3", "IA-2"), (_ACCESS, _AUTHN)),
    "PACS-FW-001": Controls(("SC-7", "AC-4"), (_ACCESS,)),
    "PACS-DISC-001": Controls(("CM-8", "CM-7"), (_RISK_ANALYSIS,)),
    "PACS-CFG-001": Controls(("AC-3", "CM-6"), (_ACCESS,)),
    "PACS-CFG-002": Controls(("AC-3", "CM-6"), (_ACCESS,)),
    "PACS-CFG-003": Controls(("IA-3", "CM-6"), (_AUTHN,)),
    "PACS-CFG-004": Controls(("AC-3", "CM-5"), (_ACCESS, _INTEGRITY)),
    "PACS-CFG-005": Controls(("IA-2", "IA-5(1)"), (_AUTHN, _UNIQUE_USER)),
    "PACS-CFG-006": Controls(("CM-7", "AC-6"), (_ACCESS, _INTEGRITY)),
    "PACS-CFG-007": Controls(("SC-8", "SC-8(1)", "CM-6"), (_TRANSMISSION, _ENCRYPTION), (_TLS_PROFILE,)),
    "PACS-CFG-008": Controls(("AC-6", "SC-28", "IA-5"), (_ACCESS, _INTEGRITY)),
    "PACS-CFG-009": Controls(("AC-6", "CM-7"), (_ACCESS,)),
    "PACS-CFG-010": Controls(("CM-7",), (_ACCESS,)),
    "PACS-CFG-011": Controls(("CM-2", "CM-3", "CM-6"), (_INTEGRITY,)),
    "PACS-CFG-012": Controls(("SC-17", "SC-12"), (_TRANSMISSION,), (_TLS_PROFILE,)),
    "PACS-CFG-013": Controls(("SI-2", "RA-5"), (_RISK_MANAGEMENT,)),
    "PACS-CFG-014": Controls(("CM-6", "CM-3"), (_ACCESS,)),
    "PACS-CFG-015": Controls(("CM-8", "CM-7"), (_ACCESS,)),
    "PACS-LOG-001": Controls(("AU-2", "AU-3", "AU-12"), (_AUDIT,)),
    "PACS-LOG-002": Controls(("AU-3", "SI-12"), (_AUDIT,)),
    "PACS-LOG-003": Controls(("AU-9",), (_AUDIT, _INTEGRITY)),
    "PACS-LOG-004": Controls(("AU-4", "AU-11"), (_AUDIT,)),
    "PACS-LOG-005": Controls(("AU-4(1)", "AU-9(2)", "SC-8"), (_AUDIT, _TRANSMISSION), (_AUDIT_PROFILE,)),
}


def controls_of(rule_id: str) -> dict[str, list[str]]:
    """A rule's controls as plain lists (empty lists for a rule without an entry)."""
    found = CONTROLS.get(rule_id)
    return found.as_dict() if found else Controls((), ()).as_dict()


def controls_line(controls: dict[str, list[str]]) -> str:
    """A finding's controls in one line for people (JUnit failures, the HTML report)."""
    parts = [f"{label} {', '.join(controls[key])}" for key, label in
             (("nist_800_53", "NIST SP 800-53"), ("hipaa", "HIPAA 45 CFR"), ("dicom_ps3_15", "DICOM PS3.15"))
             if controls.get(key)]
    return "; ".join(parts) or "none mapped"


# The families the configuration audit on the host judges; every other family is the network probe's.
HOST_FAMILIES: tuple[str, ...] = ("PACS-CFG", "PACS-LOG")


def is_host_rule(rule_id: str) -> bool:
    """Whether the host audit (not the network probe) judges the rule."""
    return rule_id.rsplit("-", 1)[0] in HOST_FAMILIES


def family(prefix: str) -> tuple[str, ...]:
    """The catalogue's rules of one family (``PACS-NET``, ``PACS-CFG``, ...), in catalogue order:
    the one list every check family, count and report takes its rules from."""
    return tuple(rule_id for rule_id in RULES if rule_id.rsplit("-", 1)[0] == prefix)


def make_finding(rule_id: str, evidence: str, severity: str | None = None) -> Finding:
    """Build a finding of a catalogue rule; ``severity`` overrides the rule's (PACS-TLS-005)."""
    rule = RULES[rule_id]
    chosen = severity or rule.severity
    if chosen not in SEVERITIES:
        raise ValueError(f"unknown severity {chosen!r}; expected one of {', '.join(SEVERITIES)}")
    return Finding(rule.rule_id, chosen, rule.title, evidence, rule.remediation, list(rule.references))


def severity_rank(severity: str) -> int:
    """Position of a severity in SEVERITIES (info = 0 ... critical = 4)."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        raise ValueError(
            f"unknown severity {severity!r}; expected one of {', '.join(SEVERITIES)}"
        ) from None


def at_or_above(findings: list[dict[str, Any]], threshold: str) -> list[dict[str, Any]]:
    """The findings whose severity is ``threshold`` or worse."""
    floor = severity_rank(threshold)
    return [f for f in findings if severity_rank(f["severity"]) >= floor]
