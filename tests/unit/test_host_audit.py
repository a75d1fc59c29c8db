"""The configuration audit (PACS-CFG-001..013) on Debian's own files, as shipped and changed the way
the roles and administrators change them. Each host is a directory tree (``root``): the module reads
a host's files only, so a tree is a host to it."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from pacsguard import dcmqrscp as dcmqrscp_cfg
from pacsguard import orthanc as orthanc_cfg
from pacsguard import tlsfacts
from pacsguard.hostaudit import audit, common, versions
from pacsguard.hostaudit.host import Host

ORTHANC_UID, DCMTK_UID = 4242, 4343
DEBIAN_ORTHANC = Path("/etc/orthanc")
DEBIAN_UNIT = Path("/lib/systemd/system/orthanc.service")
DEBIAN_DCMQRSCP = Path("/etc/dcmtk/dcmqrscp.cfg")
ORTHANC_VERSION = "1.10.1+dfsg-2+deb12u1"
DCMTK_VERSION = "3.6.7-9~deb12u4"
PEERS = [
    {
        "name": "ct",
        "ae_title": "CT01",
        "address": "10.20.0.11",
        "port": 104,
        "services": ["echo", "store"],
        "tls": True,
    },
    {
        "name": "rws",
        "ae_title": "RWS1",
        "address": "10.20.1.5",
        "port": 11112,
        "services": ["echo", "find", "move"],
        "tls": True,
    },
]


# -- building hosts ------------------------------------------------------------------------------
def write(root: Path, path: str, text: str, mode: int = 0o644, uid: int = 0) -> Path:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    os.chmod(target, mode)
    os.chown(target, uid, 0)
    return target


def base_host(root: Path, packages: dict[str, str]) -> Path:
    write(
        root,
        "/etc/passwd",
        f"root:x:0:0::/root:/bin/sh\northanc:x:{ORTHANC_UID}:{ORTHANC_UID}::/var/lib/"
        f"orthanc:/bin/false\ndcmtk:x:{DCMTK_UID}:{DCMTK_UID}::/var/lib/dcmtk:/bin/false\n",
    )
    write(root, "/etc/group", f"root:x:0:\northanc:x:{ORTHANC_UID}:\ndcmtk:x:{DCMTK_UID}:\n")
    write(
        root,
        "/var/lib/dpkg/status",
        "\n\n".join(
            f"Package: {name}\nStatus: install ok installed\nVersion: {version}"
            for name, version in packages.items()
        ),
    )
    (root / "var/log/journal").mkdir(parents=True, exist_ok=True)  # Debian's systemd package ships it
    return root


COLLECTORS = [{"name": "soc-1", "address": "192.0.2.50", "port": 6514, "server_name": "collector.lab",
               "ca": "/ctl/ca.pem", "client_certificate": True, "queue": "pacsguard_soc_1"}]


def harden_log(root: Path, collectors=COLLECTORS) -> None:
    """What pacs_log writes, from its own templates and the policy's plan: rsyslog installed with its
    TLS driver, the forwarding to each collector, the journal's drop-in, the material it names."""
    from pacsguard import auditlog

    tls = {"certificate": "/ctl/node.crt", "private_key": "/ctl/node.key", "ca": "/ctl/ca.pem"}
    plan = auditlog.plan(collectors, tls)
    role = {"pacs_log_plan": plan, "pacs_log_queue_max_disk": "1g", "pacs_log_resume_interval": 30}
    status = root / "var/lib/dpkg/status"
    status.write_text(status.read_text() + "".join(
        f"\n\nPackage: {name}\nStatus: install ok installed\nVersion: 8.2302.0-1"
        for name in ("rsyslog", "rsyslog-gnutls")))
    write(root, "/etc/rsyslog.conf", 'module(load="imuxsock")\n$WorkDirectory /var/spool/rsyslog\n'
          "$IncludeConfig /etc/rsyslog.d/*.conf\n*.*;auth,authpriv.none -/var/log/syslog\n")
    write(root, "/var/log/syslog", "", mode=0o640)
    (root / "var/spool/rsyslog").mkdir(parents=True, exist_ok=True)
    os.chmod(root / "var/spool/rsyslog", 0o700)
    for name in ("59-pacsguard-trail.conf", "60-pacsguard.conf"):
        text = render_role_template("pacs_log", f"etc/rsyslog.d/{name}.j2", **role)
        write(root, f"/etc/rsyslog.d/{name}", text)
    write(root, auditlog.JOURNALD_DROPIN,
          render_role_template("pacs_log", "etc/systemd/journald.conf.d/60-pacsguard.conf.j2", **role))
    for entry in plan["collectors"]:
        write(root, entry["ca_file"], "CA")
    wants = root / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    (wants / "rsyslog.service").symlink_to("/lib/systemd/system/rsyslog.service")


def debian_orthanc(root: Path, version: str = ORTHANC_VERSION) -> Path:
    """Orthanc as Debian ships it: its unit and every file of /etc/orthanc, modes kept."""
    base_host(root, {"orthanc": version})
    shutil.copytree(DEBIAN_ORTHANC, root / "etc/orthanc")
    for name in os.listdir(DEBIAN_ORTHANC):
        os.chmod(root / "etc/orthanc" / name, os.stat(DEBIAN_ORTHANC / name).st_mode)
    write(root, str(DEBIAN_UNIT), DEBIAN_UNIT.read_text())
    # as Orthanc leaves it (seen on both releases): its files 0644 in a directory Debian makes 0750
    write(root, "/var/log/orthanc/Orthanc.log", "", mode=0o644)
    os.chmod(root / "var/log/orthanc", 0o750)
    return root


def certificate(root: Path, name: str, days: int = 365, digest=hashes.SHA256, key=None) -> tuple[str, str]:
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "archive.lab")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .sign(key, digest())
    )
    crt = write(
        root, f"/etc/pacsguard/tls/{name}.crt", cert.public_bytes(serialization.Encoding.PEM).decode()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    key_path = write(root, f"/etc/pacsguard/tls/{name}.key", pem, mode=0o640)
    return "/" + str(crt.relative_to(root)), "/" + str(key_path.relative_to(root))


def harden_orthanc(root: Path, **extra) -> None:
    """What pacs_orthanc writes, through the same engine (orthanc_config's plan): keys changed in the
    file that holds them, new ones in pacsguard.json; its drop-ins and TLS files."""
    cert, key = certificate(root, "node")
    settings = {
        "DicomAet": "ARCHIVE1",
        "DicomCheckCalledAet": True,
        "DicomCheckModalityHost": True,
        **{
            flag: False
            for flag in (
                "DicomAlwaysAllowEcho",
                "DicomAlwaysAllowStore",
                "DicomAlwaysAllowFind",
                "DicomAlwaysAllowFindWorklist",
                "DicomAlwaysAllowGet",
                "DicomAlwaysAllowMove",
            )
        },
        "DicomModalitiesInDatabase": False,
        "DicomModalities": {
            p["name"]: {
                "AET": p["ae_title"],
                "Host": p["address"],
                "Port": p["port"],
                **{
                    flag: service in p["services"]
                    for flag, service in (
                        ("AllowEcho", "echo"),
                        ("AllowStore", "store"),
                        ("AllowFind", "find"),
                        ("AllowFindWorklist", "find_worklist"),
                        ("AllowGet", "get"),
                        ("AllowMove", "move"),
                    )
                },
            }
            for p in PEERS
        },
        "DicomTlsEnabled": True,
        "DicomTlsCertificate": cert,
        "DicomTlsPrivateKey": key,
        "DicomTlsTrustedCertificates": cert,
        "DicomTlsRemoteCertificateRequired": True,
        "AuthenticationEnabled": True,
        "RemoteAccessAllowed": False,
        "WebDavEnabled": False,
        "ExecuteLuaEnabled": False,
        **extra,
    }
    directory = root / "etc/orthanc"
    files = orthanc_cfg.load_dir(str(directory))
    for name, text in orthanc_cfg.plan(files, settings, "pacsguard.json").texts.items():
        write(root, f"/etc/orthanc/{name}", text, mode=0o640)
    # the role's drop-ins and OpenSSL policy, from its own templates
    role = {
        "pacs_policy_resolved": role_policy(PEERS),
        "pacs_orthanc_openssl_conf": "/etc/pacsguard/orthanc-openssl.cnf",
    }
    write(root, "/etc/pacsguard/orthanc-openssl.cnf",
          render_role_template("pacs_tls", "etc/pacsguard/openssl.cnf.j2", **role))
    role["pacs_orthanc_program"], role["pacs_orthanc_config_dir"] = "/usr/sbin/Orthanc", "/etc/orthanc"
    harden_log(root)
    for target, template in (
        (
            "/etc/systemd/system/orthanc.service.d/pacsguard-log.conf",
            "etc/systemd/system/orthanc.service.d/pacsguard-log.conf.j2",
        ),
        (
            "/etc/systemd/system/orthanc.service.d/pacsguard-tls.conf",
            "etc/systemd/system/orthanc.service.d/pacsguard-tls.conf.j2",
        ),
        (
            "/etc/systemd/system/orthanc.service.d/pacsguard-sandbox.conf",
            "etc/systemd/system/orthanc.service.d/pacsguard-sandbox.conf.j2",
        ),
    ):
        write(root, target, render_role_template("pacs_orthanc", template, **role))


def set_keys(root: Path, **settings) -> None:
    """An administrator's edit: keys changed where they are, new ones in local.json."""
    files = orthanc_cfg.load_dir(str(root / "etc/orthanc"))
    for name, text in orthanc_cfg.plan(files, settings, "local.json").texts.items():
        target = root / "etc/orthanc" / name
        mode = os.stat(target).st_mode & 0o777 if target.exists() else 0o644
        write(root, f"/etc/orthanc/{name}", text, mode=mode)


def run(root: Path, **kwargs) -> dict:
    return audit.run(root=str(root), **kwargs)


def status(result: dict) -> dict[str, str]:
    return {rule: check["status"] for rule, check in result["checks"].items()}


def failed(result: dict) -> list[str]:
    return sorted(f["id"] for f in result["findings"])


# -- Orthanc as Debian ships it and as pacsguard leaves it ---------------------------------------
def test_debian_orthanc_as_shipped_is_flagged_for_what_its_defaults_deserve(tmp_path):
    result = run(debian_orthanc(tmp_path))
    assert result["product"] == "orthanc" and result["detected"] and result["version"] == ORTHANC_VERSION
    assert result["service"] == "orthanc.service" and result["unit"]["user"] == "orthanc"
    assert failed(result) == [
        "PACS-CFG-001",
        "PACS-CFG-002",
        "PACS-CFG-003",
        "PACS-CFG-007",
        "PACS-CFG-009",
        "PACS-CFG-010",
        "PACS-LOG-001",
        "PACS-LOG-005",
    ]
    checks = result["checks"]
    assert checks["PACS-LOG-003"]["status"] == "pass"  # 0644 files, but in a 0750 directory
    # Debian's unit: default level (no accepted association logged), log files outside the journal
    assert "--verbose-dicom" in checks["PACS-LOG-001"]["detail"]
    assert "/var/log/orthanc" in checks["PACS-LOG-001"]["detail"]
    # no rsyslog and no collector in a policy: a finding below the usual gate
    assert next(f for f in result["findings"] if f["id"] == "PACS-LOG-005")["severity"] == "medium"
    assert "orthanc.json:" in checks["PACS-CFG-001"]["detail"]
    assert "DicomAlwaysAllowEcho = true" in checks["PACS-CFG-001"]["detail"]
    assert status(result)["PACS-CFG-005"] == "pass"  # REST local only
    assert status(result)["PACS-CFG-011"] == "skipped"  # no policy given
    assert status(result)["PACS-CFG-012"] == "skipped"  # no TLS
    assert status(result)["PACS-CFG-013"] == "pass"  # the CVE-2023-33466 backport
    assert len(result["checks"]) == 19  # 001 .. 013 and 015 (014 is pacs_service_state's), LOG 001 .. 005
    assert status(result)["PACS-CFG-015"] == "pass"  # orthanc.service alone runs a PACS program


def test_orthanc_hardened_as_the_role_writes_it_has_no_finding(tmp_path):
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    result = run(root, product="orthanc", peers=PEERS, ae_title="ARCHIVE1")
    assert failed(result) == [], result["findings"]
    assert set(status(result).values()) == {"pass"}
    assert "/etc/orthanc/pacsguard.json" in result["config_files"]
    assert result["unit"]["dropins"][-1].endswith("pacsguard-tls.conf")


def test_keys_from_several_files_merge_and_a_key_in_two_files_is_an_error_naming_both(tmp_path):
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    # credentials.json gives RegisteredUsers to the merged configuration (CFG-005 reads it)
    set_keys(root, RemoteAccessAllowed=True, RegisteredUsers={"admin": "a-long-enough-secret-9"})
    assert run(root)["checks"]["PACS-CFG-005"]["status"] == "pass"
    write(root, "/etc/orthanc/zz-override.json", '{\n  // a site file\n  "DicomAlwaysAllowEcho" : true\n}\n')
    result = run(root)
    assert result["checks"]["PACS-CFG-001"]["status"] == "error"
    detail = result["checks"]["PACS-CFG-001"]["detail"]
    assert "DicomAlwaysAllowEcho is defined in /etc/orthanc/orthanc.json:" in detail
    assert "/etc/orthanc/zz-override.json:3" in detail
    # the rules that need no configuration still run
    assert status(result)["PACS-CFG-009"] == "pass" and status(result)["PACS-CFG-013"] == "pass"


def test_an_unparsable_file_is_an_error_naming_file_and_line_and_nothing_raises(tmp_path):
    root = debian_orthanc(tmp_path)
    write(root, "/etc/orthanc/broken.json", '{\n  "DicomAet" : "X",\n  "DicomPort" 4242\n}\n')
    result = run(root)
    assert result["checks"]["PACS-CFG-002"]["status"] == "error"
    assert "broken.json: line 3" in result["checks"]["PACS-CFG-002"]["detail"]
    assert status(result)["PACS-CFG-009"] == "fail"


@pytest.mark.parametrize(
    ("change", "rule", "evidence"),
    [
        ({"DicomAlwaysAllowFind": True}, "PACS-CFG-001", "DicomAlwaysAllowFind = true"),
        ({"DicomCheckCalledAet": False}, "PACS-CFG-002", "DicomCheckCalledAet = false"),
        ({"DicomCheckModalityHost": False}, "PACS-CFG-003", "DicomCheckModalityHost = false"),
        ({"DicomModalities": {"ct": ["CT01", "", 104]}}, "PACS-CFG-003", "modality 'ct' (CT01) has no Host"),
        ({"DicomModalitiesInDatabase": True}, "PACS-CFG-004", "DicomModalitiesInDatabase = true"),
        ({"OrthancPeersInDatabase": True}, "PACS-CFG-004", "OrthancPeersInDatabase = true"),
        (
            {"RemoteAccessAllowed": True, "AuthenticationEnabled": False},
            "PACS-CFG-005",
            "without credentials",
        ),
        ({"RemoteAccessAllowed": True}, "PACS-CFG-005", "creates the default user orthanc"),
        ({"ExecuteLuaEnabled": True}, "PACS-CFG-006", "ExecuteLuaEnabled = true"),
        ({"RestApiWriteToFileSystemEnabled": True}, "PACS-CFG-006", "RestApiWriteToFileSystemEnabled = true"),
        ({"DicomTlsEnabled": False}, "PACS-CFG-007", "DICOM is served in plaintext"),
        ({"DicomTlsRemoteCertificateRequired": False}, "PACS-CFG-007", "clients need no certificate"),
        ({"WebDavEnabled": True}, "PACS-CFG-010", "WebDavUploadAllowed = true"),
        ({"HttpsVerifyPeers": False}, "PACS-CFG-010", "HttpsVerifyPeers = false"),
        ({"DeidentifyLogs": False}, "PACS-LOG-002", "patient identifiers of queries reach the logs"),
    ],
)
def test_each_orthanc_setting_an_administrator_weakens_is_named(tmp_path, change, rule, evidence):
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    set_keys(root, **change)
    result = run(root, peers=PEERS)
    assert rule in failed(result), result["checks"][rule]
    finding = next(f for f in result["findings"] if f["id"] == rule)
    assert evidence in finding["evidence"]
    assert finding["remediation"] and finding["references"]


def test_weak_and_default_rest_credentials_are_named_by_user_never_by_password(tmp_path):
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    users = {"orthanc": "orthanc", "sam": "sam", "short": "Xy7!pq", "good": "correct-horse-battery-9"}
    set_keys(root, RemoteAccessAllowed=True, RegisteredUsers=users)
    result = run(root)
    evidence = next(f for f in result["findings"] if f["id"] == "PACS-CFG-005")["evidence"]
    assert "'orthanc' has a default" in evidence and "'sam' has a default" in evidence
    assert "'short' has a password shorter than 12" in evidence and "'good'" not in evidence
    text = json.dumps(result)
    assert "Xy7!pq" not in text and "correct-horse-battery-9" not in text
    set_keys(root, RegisteredUsers={"good": "correct-horse-battery-9"})
    assert run(root)["checks"]["PACS-CFG-005"]["status"] == "pass"


def test_orthanc_tls_floor_depends_on_the_version(tmp_path):
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    assert run(root)["checks"]["PACS-CFG-007"]["status"] == "pass"  # 1.10.1 + OPENSSL_CONF
    os.remove(root / "etc/systemd/system/orthanc.service.d/pacsguard-tls.conf")
    detail = run(root)["checks"]["PACS-CFG-007"]["detail"]
    assert "accepts TLS 1.0 and 1.1" in detail and "no OPENSSL_CONF" in detail
    base_host(root, {"orthanc": "1.12.7+dfsg-1"})  # Debian 13's Orthanc
    result = run(root)
    assert "DicomTlsMinimumProtocolVersion not set" in result["checks"]["PACS-CFG-007"]["detail"]
    set_keys(
        root,
        DicomTlsMinimumProtocolVersion=4,
        DicomTlsCiphersAccepted=["ECDHE-RSA-AES128-GCM-SHA256", "AES128-SHA"],
    )
    assert "(AES128-SHA)" in run(root)["checks"]["PACS-CFG-007"]["detail"]
    set_keys(root, DicomTlsCiphersAccepted=["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"])
    assert run(root)["checks"]["PACS-CFG-007"]["status"] == "pass"


def test_secrets_and_configuration_on_disk(tmp_path):
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    set_keys(root, RegisteredUsers={"good": "correct-horse-battery-9"})
    assert run(root)["checks"]["PACS-CFG-008"]["status"] == "pass"
    os.chmod(root / "etc/pacsguard/tls/node.key", 0o644)
    os.chmod(root / "etc/orthanc/credentials.json", 0o644)
    os.chown(root / "etc/orthanc/pacsguard.json", ORTHANC_UID, 0)
    os.chmod(root / "etc/orthanc/pacsguard.json", 0o640)
    detail = run(root)["checks"]["PACS-CFG-008"]["detail"]
    assert "private key /etc/pacsguard/tls/node.key is readable by every local user (mode 0644)" in detail
    assert "credentials file /etc/orthanc/credentials.json is readable by every local user" in detail
    assert "/etc/orthanc/pacsguard.json is writable by the service user orthanc" in detail


def test_scripts_writable_by_the_service_are_a_code_execution_path(tmp_path):
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    write(root, "/etc/orthanc/lua/route.lua", "-- routing\n")
    set_keys(root, LuaScripts=["lua/route.lua"])
    assert run(root)["checks"]["PACS-CFG-006"]["status"] == "pass"
    os.chown(root / "etc/orthanc/lua/route.lua", ORTHANC_UID, ORTHANC_UID)
    detail = run(root)["checks"]["PACS-CFG-006"]["detail"]
    assert "script /etc/orthanc/lua/route.lua is writable by the service user orthanc" in detail


def test_service_user_and_sandbox(tmp_path):
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    write(root, "/etc/systemd/system/orthanc.service.d/zz-root.conf", "[Service]\nUser=\nProtectSystem=no\n")
    detail = run(root)["checks"]["PACS-CFG-009"]["detail"]
    assert "runs as root" in detail and "ProtectSystem=no" in detail


def test_drift_names_the_modality_and_the_permission_the_policy_lacks(tmp_path):
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    assert run(root, peers=PEERS)["checks"]["PACS-CFG-011"]["status"] == "pass"
    modalities = orthanc_cfg.merged(orthanc_cfg.load_dir(str(root / "etc/orthanc")), {})["DicomModalities"]
    modalities["vendor"] = {"AET": "VENDOR9", "Host": "203.0.113.9", "Port": 104}
    modalities["ct"]["AllowFind"] = True
    set_keys(root, DicomModalities=modalities)
    detail = run(root, peers=PEERS)["checks"]["PACS-CFG-011"]["detail"]
    assert "modality 'vendor' admits VENDOR9 from 203.0.113.9" in detail
    assert "modality 'ct' (CT01) may use find, beyond its policy" in detail
    assert "rws" not in detail


def test_certificates(tmp_path):
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    assert run(root)["checks"]["PACS-CFG-012"]["status"] == "pass"
    cases = [
        ({"days": -1}, "high", "expired on"),
        ({"days": 10}, "medium", "within 30 days"),
        ({"key": rsa.generate_private_key(65537, 1024)}, "high", "RSA 1024 bits (at least 2048)"),
    ]
    for kwargs, severity, evidence in cases:
        certificate(root, "node", **kwargs)
        finding = next(f for f in run(root)["findings"] if f["id"] == "PACS-CFG-012")
        assert finding["severity"] == severity and evidence in finding["evidence"]
    # cryptography no longer signs with SHA-1: openssl makes that one
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-sha1",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=archive.lab",
            "-days",
            "90",
            "-keyout",
            str(tmp_path / "k.pem"),
            "-out",
            str(root / "etc/pacsguard/tls/node.crt"),
        ],
        check=True,
        capture_output=True,
    )
    finding = next(f for f in run(root)["findings"] if f["id"] == "PACS-CFG-012")
    assert finding["severity"] == "high" and "signed with sha1" in finding["evidence"]


def _run(argv: list[str]) -> tuple[int, str, str]:
    """The command runner the module gives (run_command), as a test gives it."""
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
    return done.returncode, done.stdout, done.stderr


def test_openssl_reads_a_certificate_as_cryptography_does(tmp_path):
    """Hosts without python3-cryptography read certificates with openssl: same facts."""
    root = base_host(tmp_path, {})
    for key in (ec.generate_private_key(ec.SECP384R1()), rsa.generate_private_key(65537, 2048)):
        cert, _ = certificate(root, "c", days=40, digest=hashes.SHA256, key=key)
        path = root / cert.lstrip("/")
        by_library = common._facts_cryptography(path.read_bytes())
        host = Host(str(root), command=_run)
        by_openssl = common._facts_openssl(host, cert)
        assert by_openssl[1:] == by_library[1:]
        assert abs((by_openssl[0] - by_library[0]).total_seconds()) < 1


def test_versions_missing_known_fixes(tmp_path):
    assert (
        "CVE-2023-33466"
        in run(debian_orthanc(tmp_path / "a", "1.10.1+dfsg-2"))["checks"]["PACS-CFG-013"]["detail"]
    )
    assert run(debian_orthanc(tmp_path / "b", "1.12.7+dfsg-1"))["checks"]["PACS-CFG-013"]["status"] == "pass"
    missing, covered = versions.missing_fixes("dcmtk", "3.6.7-9~deb12u2")
    assert covered and [fix.fixed for fix in missing] == ["3.6.7-9~deb12u3", "3.6.7-9~deb12u4"]
    assert versions.missing_fixes("dcmtk", DCMTK_VERSION) == ([], True)
    assert versions.missing_fixes("dcmtk", "3.6.9-1") == ([], False)  # not judged, not guessed


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("3.6.7-9~deb12u4", "3.6.7-9"),
        ("3.6.7-9~deb12u4", "3.6.7-9~deb12u10"),
        ("1.10.1+dfsg-2", "1.10.1+dfsg-2+deb12u1"),
        ("1.12.7+dfsg-1", "1.10.1+dfsg-2+deb12u1"),
        ("1:1.0", "2.0"),
        ("1.0~rc1", "1.0"),
        ("1.0a", "1.0+"),
        ("2.30-1", "2.4-1"),
        ("1.0", "1.0"),
    ],
)
def test_debian_version_order_agrees_with_dpkg(a, b):
    for op, expected in (("lt", versions.compare(a, b) < 0), ("eq", versions.compare(a, b) == 0)):
        dpkg = subprocess.run(["dpkg", "--compare-versions", a, op, b], check=False).returncode == 0
        assert dpkg == expected, (a, op, b)


def test_product_found_from_any_unit_and_a_config_file_on_its_command_line(tmp_path):
    root = base_host(tmp_path, {})
    write(root, "/srv/pacs/orthanc.json", '{ "DicomCheckCalledAet" : true }')
    write(
        root,
        "/etc/systemd/system/pacs-archive.service",
        "[Service]\nUser=orthanc\nExecStart=/usr/local/bin/Orthanc --verbose /srv/pacs/orthanc.json\n",
    )
    result = run(root)
    assert result["product"] == "orthanc" and result["service"] == "pacs-archive.service"
    assert result["config_files"] == ["/srv/pacs/orthanc.json"] and result["version"] == ""
    assert result["checks"]["PACS-CFG-002"]["status"] == "pass"
    assert result["checks"]["PACS-CFG-013"]["status"] == "skipped"
    with pytest.raises(audit.HostAuditError, match="no PACS product found"):
        run(base_host(tmp_path / "empty", {}))


def test_a_unit_directory_that_cannot_be_listed_hides_no_unit(tmp_path, monkeypatch):
    """A unit directory a non-root audit may pass through but not list (mode 0711): the unit in it is
    still opened and judged. Root lists every directory, so the refusal is the operating system's
    answer given here."""
    root = base_host(tmp_path, {})
    write(root, "/srv/pacs/orthanc.json", '{ "DicomCheckCalledAet" : true }')
    write(root, "/etc/systemd/system/pacs-archive.service",
          "[Service]\nUser=orthanc\nExecStart=/usr/local/bin/Orthanc /srv/pacs/orthanc.json\n")
    listdir = os.listdir
    refused = str(root / "etc/systemd/system")

    def refusing(path):
        if str(path).rstrip("/") == refused:
            raise PermissionError(13, "Permission denied", path)
        return listdir(path)

    monkeypatch.setattr(os, "listdir", refusing)
    result = run(root, service="pacs-archive")
    assert result["product"] == "orthanc" and result["service"] == "pacs-archive.service"
    assert result["checks"]["PACS-CFG-002"]["status"] == "pass"


@pytest.mark.parametrize("program", ["'/usr/local/bin/Orthanc'", "/usr/local/bin/Orth\"anc\"",
                                     "/usr/local/bin/Ortha\\nc"])
def test_a_program_name_split_by_quotes_or_escapes_is_still_found(tmp_path, program):
    """The unit's command line is split as a shell would: quotes and escapes hide no program."""
    root = base_host(tmp_path, {})
    write(root, "/srv/pacs/orthanc.json", '{ "DicomCheckCalledAet" : true }')
    write(root, "/etc/systemd/system/pacs-archive.service",
          f"[Service]\nUser=orthanc\nExecStart={program} /srv/pacs/orthanc.json\n")
    result = run(root)
    assert result["product"] == "orthanc" and result["service"] == "pacs-archive.service"


# -- dcmqrscp -------------------------------------------------------------------------------------
SITE_UNIT = "[Service]\nExecStart=/usr/bin/dcmqrscp -c /etc/dcmtk/dcmqrscp.cfg\n"
ROLES = Path(__file__).resolve().parents[2] / "roles"


def render_role_template(role: str, template: str, **variables) -> str:
    """A role's own template rendered with Ansible's own filters, as the role renders it."""
    import jinja2
    from ansible.plugins.filter.core import FilterModule

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(ROLES / role / "templates")),
        trim_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(FilterModule().filters())
    return env.get_template(template).render(ansible_managed="managed by pacsguard", **variables)


def role_policy(peers, listen_port: int = 11113) -> dict:
    """The parts of pacs_policy_resolved the dcmqrscp and front templates read."""
    return {
        "tls": {"require_client_certificate": True, "min_version": "TLSv1.2", "profile": tlsfacts.profile()},
        "plaintext_port": 11113,
        "listen_port": listen_port,
        "peers": peers,
    }


def site_dcmqrscp(root: Path) -> Path:
    """dcmqrscp as the lab's site runs it: Debian's file with a row open to ANY, a root unit."""
    base_host(root, {"dcmtk": DCMTK_VERSION})
    text = DEBIAN_DCMQRSCP.read_text().replace(
        "AETable END", "ARCHIVE1 /var/lib/dcmtk/db/ARCHIVE1 RW (200, 1024mb) ANY\nAETable END"
    )
    write(root, "/etc/dcmtk/dcmqrscp.cfg", text)
    write(root, "/etc/systemd/system/dcmqrscp.service", SITE_UNIT)
    return root


def harden_dcmqrscp(root: Path, peers=PEERS, native: bool = False) -> None:
    """What pacs_dcmqrscp and pacs_tls_front write, from their own templates and writer: behind the
    front dcmqrscp admits each peer at the loopback address the front's service for it connects
    from; with its own TLS (``native``, DCMTK 3.6.9) at the peer's own address, and no front."""
    routes = [
        {
            "name": p["name"],
            "ae_title": p["ae_title"],
            "address": p["address"],
            "front_port": 41100 + i,
            "source": f"127.77.0.{i + 1}",
        }
        for i, p in enumerate(sorted(peers, key=lambda p: p["name"]))
    ]
    config = dcmqrscp_cfg.parse((root / "etc/dcmtk/dcmqrscp.cfg").read_text())
    as_seen = peers if native else [
        {**peer, "address": next(r["source"] for r in routes if r["name"] == peer["name"])} for peer in peers
    ]
    dcmqrscp_cfg.apply_peers(config, "ARCHIVE1", "/var/lib/dcmtk/db/ARCHIVE1", as_seen)
    write(root, "/etc/dcmtk/dcmqrscp.cfg", dcmqrscp_cfg.render(config), mode=0o640)
    policy = role_policy(peers, listen_port=104) if native else role_policy(peers)
    tls_files = {
        "pacs_tls_dir": "/etc/pacsguard/tls",
        "pacs_tls_certificate_name": "node.crt",
        "pacs_tls_private_key_name": "node.key",
        "pacs_tls_ca_name": "trusted-ca.crt",
    }
    write(
        root,
        "/etc/systemd/system/dcmqrscp.service",
        render_role_template(
            "pacs_dcmqrscp",
            "etc/systemd/system/dcmqrscp.service.j2",
            pacs_policy_resolved=policy,
            pacs_dcmqrscp_config="/etc/dcmtk/dcmqrscp.cfg",
            pacs_dcmqrscp_user="dcmtk",
            pacs_dcmqrscp_group="dcmtk",
            pacs_dcmqrscp_allowlist={"storage": "/var/lib/dcmtk/db/ARCHIVE1"},
            pacs_dcmqrscp_storage_root="/var/lib/dcmtk/db",
            pacs_dcmqrscp_native_tls=native,
            pacs_dcmqrscp_openssl_conf="/etc/pacsguard/dcmqrscp-openssl.cnf",
            pacs_dcmqrscp_log_config="/etc/dcmtk/dcmqrscp-log.cfg",
            **tls_files,
        ),
    )
    write(root, "/etc/dcmtk/dcmqrscp-log.cfg",
          render_role_template("pacs_dcmqrscp", "etc/dcmtk/dcmqrscp-log.cfg.j2"))
    harden_log(root)
    cert, _key = certificate(root, "node")
    if native:
        write(root, "/etc/pacsguard/tls/trusted-ca.crt", (root / cert.lstrip("/")).read_text())
        write(root, "/etc/pacsguard/dcmqrscp-openssl.cnf",
              render_role_template("pacs_tls", "etc/pacsguard/openssl.cnf.j2", pacs_policy_resolved=policy))
        return
    front = {
        "pacs_policy_resolved": policy,
        "pacs_tls_front_user": "stunnel4",
        "pacs_tls_front_group": "stunnel4",
        "pacs_tls_front_config": "/etc/pacsguard/tls-front.conf",
        "pacs_tls_front_routes": routes,
        **tls_files,
    }
    write(
        root,
        "/etc/pacsguard/tls-front.conf",
        render_role_template("pacs_tls_front", "etc/pacsguard/tls-front.conf.j2", **front),
    )
    write(
        root,
        "/etc/systemd/system/pacsguard-tls-front.service",
        render_role_template("pacs_tls_front", "etc/systemd/system/pacsguard-tls-front.service.j2", **front),
    )
    wants = root / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    os.symlink("../pacsguard-tls-front.service", wants / "pacsguard-tls-front.service")


def test_dcmqrscp_as_sites_run_it_is_flagged(tmp_path):
    result = run(site_dcmqrscp(tmp_path))
    assert result["product"] == "dcmqrscp" and result["detected"] and result["version"] == DCMTK_VERSION
    assert failed(result) == ["PACS-CFG-001", "PACS-CFG-007", "PACS-CFG-009", "PACS-LOG-001", "PACS-LOG-005"]
    assert "level warn" in result["checks"]["PACS-LOG-001"]["detail"]
    assert "dcmqrscp.cfg:" in result["checks"]["PACS-CFG-001"]["detail"]
    assert "runs as dcmtk" not in result["checks"]["PACS-CFG-009"]["detail"]  # Debian's UserName drops
    for rule in ("PACS-CFG-004", "PACS-CFG-005", "PACS-CFG-006", "PACS-CFG-010", "PACS-CFG-011"):
        assert result["checks"][rule]["status"] == "skipped"


def test_dcmqrscp_hardened_as_the_roles_write_it_has_no_finding(tmp_path):
    """dcmqrscp grants access per storage area: the row lets every peer store when one must; that
    follows from the policy (the role warns) and is noted in the check, not reported as drift."""
    root = site_dcmqrscp(tmp_path)
    harden_dcmqrscp(root)
    result = run(root, product="dcmqrscp", peers=PEERS, ae_title="ARCHIVE1")
    assert failed(result) == [], result["findings"]
    assert "RWS1 may store through row ARCHIVE1 (RW)" in result["checks"]["PACS-CFG-011"]["detail"]
    assert result["front"]["service"] == "pacsguard-tls-front.service"


def test_dcmqrscp_weakened_by_hand_is_named(tmp_path):
    root = site_dcmqrscp(tmp_path)
    harden_dcmqrscp(root)
    cfg = root / "etc/dcmtk/dcmqrscp.cfg"
    text = cfg.read_text()
    row = next(line for line in text.splitlines() if line.startswith("ARCHIVE1 "))
    cfg.write_text(text.replace(row, row + ", (VENDOR9, 203.0.113.9, 104)"))
    unit = root / "etc/systemd/system/dcmqrscp.service"
    unit.write_text(unit.read_text().replace("--disable-host-lookup ", ""))
    front = root / "etc/pacsguard/tls-front.conf"
    front.write_text(front.read_text().replace("requireCert = yes", "requireCert = no"))
    os.chmod(root / "etc/pacsguard/tls/node.key", 0o644)
    result = run(root, peers=PEERS)
    checks = result["checks"]
    assert (
        "admits VENDOR9 from 203.0.113.9, which the policy does not list" in checks["PACS-CFG-011"]["detail"]
    )
    readers = [{**peer, "services": ["echo", "find"]} for peer in PEERS]
    assert (
        "lets its peers store; the policy gives none of them store"
        in run(root, peers=readers)["checks"]["PACS-CFG-011"]["detail"]
    )
    assert "without -dhl" in checks["PACS-CFG-003"]["detail"]
    assert "requireCert=no" in checks["PACS-CFG-007"]["detail"]
    assert "node.key is readable by every local user" in checks["PACS-CFG-008"]["detail"]
    os.remove(root / "etc/systemd/system/multi-user.target.wants/pacsguard-tls-front.service")
    assert "plaintext" in run(root)["checks"]["PACS-CFG-007"]["detail"]  # a retired front is no TLS


def test_unreadable_dcmqrscp_configuration_is_an_error_and_other_rules_run(tmp_path):
    root = site_dcmqrscp(tmp_path)
    write(root, "/etc/dcmtk/dcmqrscp.cfg", "AETable BEGIN\nARCHIVE1 /x RW (1, 1mb) nobody\n")
    result = run(root)
    assert result["checks"]["PACS-CFG-001"]["status"] == "error"
    assert "AETable BEGIN without AETable END" in result["checks"]["PACS-CFG-001"]["detail"]
    assert result["checks"]["PACS-CFG-009"]["status"] == "fail"


def test_the_module_reads_nothing_it_would_need_to_change(tmp_path):
    """Read-only: every file's bytes and times are the same after an audit."""
    root = site_dcmqrscp(tmp_path)
    harden_dcmqrscp(root)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}
    run(root, peers=PEERS)
    assert before == {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}
    assert Host(str(root)).enabled("pacsguard-tls-front")


def test_values_of_the_wrong_type_are_errors_of_their_rules_never_a_traceback(tmp_path):
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    set_keys(root, LuaScripts="route.lua", RegisteredUsers=["admin"], DicomModalities=[1, 2])
    result = run(root, peers=PEERS)
    assert "LuaScripts must be a JSON list, not str" in result["checks"]["PACS-CFG-006"]["detail"]
    assert result["checks"]["PACS-CFG-003"]["status"] == "error"
    assert result["checks"]["PACS-CFG-011"]["status"] == "error"
    assert result["checks"]["PACS-CFG-002"]["status"] == "pass"  # the other rules still run
    with pytest.raises(audit.HostAuditError, match=r"peers\[0\]: each peer needs ae_title and address"):
        run(root, peers=[{"name": "ct"}])


def test_dcmqrscp_own_tls_options_are_judged(tmp_path):
    """DCMTK 3.6.9's dcmqrscp speaks TLS itself (+tls KEY CERT): the unit as pacs_dcmqrscp writes it
    has no finding; its profile and peer-certificate options decide PACS-CFG-007; its key is read."""
    root = site_dcmqrscp(tmp_path)
    harden_dcmqrscp(root, native=True)
    result = run(root, product="dcmqrscp", peers=PEERS, ae_title="ARCHIVE1")
    assert failed(result) == [], result["findings"]
    assert result["checks"]["PACS-CFG-007"]["status"] == "pass"
    assert result["checks"]["PACS-CFG-012"]["status"] == "pass"
    assert not result.get("front")
    unit = root / "etc/systemd/system/dcmqrscp.service"
    native = unit.read_text()
    assert " +tls /etc/pacsguard/tls/node.key /etc/pacsguard/tls/node.crt " in native
    unit.write_text(native.replace("+pg -rc", "+px -vc"))
    os.chmod(root / "etc/pacsguard/tls/node.key", 0o644)
    result = run(root)
    assert "+px: the downgrading BCP 195 profile" in result["checks"]["PACS-CFG-007"]["detail"]
    assert "-vc: a peer without a certificate is accepted" in result["checks"]["PACS-CFG-007"]["detail"]
    assert "node.key is readable by every local user" in result["checks"]["PACS-CFG-008"]["detail"]


def test_a_fifo_or_a_huge_file_where_a_file_is_expected_is_an_error_never_a_hang(tmp_path):
    """A configuration may name anything: a FIFO would block a plain read for ever, a device never
    ends. The audit reads regular files of sane size only and names what it refused."""
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    os.mkfifo(root / "etc/orthanc/zz-pipe.json")
    os.mkfifo(root / "etc/systemd/system/orthanc.service.d/zz-pipe.conf")
    cert = root / "etc/pacsguard/tls/node.crt"
    cert.unlink()
    os.mkfifo(cert)
    result = run(root)  # returns: nothing blocks on a FIFO
    assert (
        "cannot read /etc/orthanc/zz-pipe.json: not a regular file"
        in result["checks"]["PACS-CFG-001"]["detail"]
    )
    assert result["checks"]["PACS-CFG-009"]["status"] == "pass"  # the FIFO drop-in is not read
    os.remove(root / "etc/orthanc/zz-pipe.json")
    assert "node.crt: not a regular file" in run(root)["checks"]["PACS-CFG-012"]["detail"]
    with open(root / "etc/orthanc/zz-big.json", "wb") as handle:
        handle.truncate(17 * 2**20)
    assert "larger than 16 MiB" in run(root)["checks"]["PACS-CFG-002"]["detail"]


# -- what the product reads, by its own rules ------------------------------------------------------
@pytest.mark.parametrize("name", ["zz-site.JSON", ".hidden.json", "Site.Json"])
def test_every_file_orthanc_loads_is_read_whatever_its_case_or_a_leading_dot(tmp_path, name):
    """Orthanc lower-cases a file's extension before comparing it with .json and lists dot-files too
    (tests/integration/test_orthanc_loads.py shows a real Orthanc doing it): the audit once read
    *.json alone and passed a host that a file named otherwise opened."""
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    assert status(run(root))["PACS-CFG-001"] == "pass"
    write(root, f"/etc/orthanc/{name}", '{ "DicomAlwaysAllowFind" : true }\n')
    result = run(root)
    # Debian's orthanc.json defines the key too: Orthanc would refuse to start, the audit says so
    assert result["checks"]["PACS-CFG-001"]["status"] == "error", result["checks"]["PACS-CFG-001"]
    detail = result["checks"]["PACS-CFG-001"]["detail"]
    assert f"/etc/orthanc/{name}:1" in detail and "Orthanc refuses to start" in detail
    assert f"/etc/orthanc/{name}" in result["config_files"]


def test_a_file_orthanc_does_not_load_is_not_read(tmp_path):
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    write(root, "/etc/orthanc/orthanc.json.1234.2026-11-26@15:00:00~", '{ "DicomAlwaysAllowFind" : true }\n')
    write(root, "/etc/orthanc/notes.txt", "DicomAlwaysAllowFind true\n")
    assert status(run(root))["PACS-CFG-001"] == "pass"


def test_a_configuration_nested_too_deep_is_an_error_of_its_file_not_a_crash(tmp_path):
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    write(root, "/etc/orthanc/deep.json", '{ "X" : ' + "[" * 100_000 + "]" * 100_000 + " }\n")
    result = run(root)  # no RecursionError
    assert result["checks"]["PACS-CFG-001"]["status"] == "error"
    assert "deep.json: nested deeper than 64 levels" in result["checks"]["PACS-CFG-001"]["detail"]
    with pytest.raises(orthanc_cfg.OrthancConfigError, match="deep.json: nested deeper than 64"):
        orthanc_cfg.load_dir(str(root / "etc/orthanc"))


@pytest.mark.parametrize("exec_start", [
    "/usr/sbin/Orthanc /srv/old-orthanc",
    "/bin/sh -c 'exec /usr/bin/dcmqrscp -c /srv/dcmqrscp.cfg 11112'",
])
def test_another_enabled_unit_that_runs_a_pacs_program_is_a_finding(tmp_path, exec_start):
    """The audit judged the unit the policy names and missed a second archive on the same host."""
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    assert status(run(root))["PACS-CFG-015"] == "pass"
    write(root, "/etc/systemd/system/legacy-pacs@.service", f"[Service]\nExecStart={exec_start}\n")
    # a unit file alone is not enabled: nothing starts it
    assert status(run(root))["PACS-CFG-015"] == "pass"
    link = root / "etc/systemd/system/multi-user.target.wants/legacy-pacs@a.service"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to("/etc/systemd/system/legacy-pacs@.service")
    result = run(root)
    assert result["checks"]["PACS-CFG-015"]["status"] == "fail", result["checks"]["PACS-CFG-015"]
    assert "legacy-pacs@a.service (/etc/systemd/system/legacy-pacs@.service) is enabled" \
        in result["checks"]["PACS-CFG-015"]["detail"]
    assert "PACS-CFG-015" in failed(result)


# -- PACS-LOG: the audit trail -------------------------------------------------------------------
def edit_rendered(root: Path, path: str, old: str, new: str) -> None:
    """An administrator's edit of a file a role rendered: ``old`` must be in it (else the test would
    prove nothing), and becomes ``new``."""
    target = root / path.lstrip("/")
    assert old in target.read_text(), f"{old!r} is not in {path}"
    target.write_text(target.read_text().replace(old, new))


def test_hardened_log_settings_pass_against_the_policys_collectors_both_products(tmp_path):
    orthanc = debian_orthanc(tmp_path / "o")
    harden_orthanc(orthanc)
    dcmqrscp = site_dcmqrscp(tmp_path / "d")
    harden_dcmqrscp(dcmqrscp)
    for root in (orthanc, dcmqrscp):
        result = run(root, peers=PEERS, ae_title="ARCHIVE1", log_collectors=COLLECTORS)
        assert [rule for rule in failed(result) if rule.startswith("PACS-LOG")] == [], result["findings"]
        assert "192.0.2.50:6514" in result["checks"]["PACS-LOG-005"]["detail"]
        # a collector the policy names that rsyslog does not reach is a high finding
        other = [{**COLLECTORS[0], "name": "soc-2", "address": "192.0.2.51"}]
        result = run(root, peers=PEERS, ae_title="ARCHIVE1", log_collectors=COLLECTORS + other)
        finding = next(f for f in result["findings"] if f["id"] == "PACS-LOG-005")
        assert finding["severity"] == "high" and "soc-2 (192.0.2.51:6514)" in finding["evidence"]


@pytest.mark.parametrize(
    ("edit", "evidence"),
    [
        (('StreamDriverMode="1"', 'StreamDriverMode="0"'), "in plaintext"),
        (('StreamDriverAuthMode="x509/name"', 'StreamDriverAuthMode="anon"'), "not checked against a name"),
        (('StreamDriver="gtls"', 'StreamDriver="ptcp"'), "in plaintext"),
        (('queue.type="LinkedList"', 'queue.type="Direct"'), "not disk-assisted"),
        (('action.resumeRetryCount="-1"', 'action.resumeRetryCount="3"'), "gives up"),
        (('StreamDriver.CAFile="/etc/pacsguard/log/ca.pem"', ""), "no CA file"),
        (('StreamDriver.CertFile="/etc/pacsguard/log/node.crt"', ""), "no client certificate and key"),
    ],
)
def test_each_weakened_forward_is_named(tmp_path, edit, evidence):
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    edit_rendered(root, "/etc/rsyslog.d/60-pacsguard.conf", *edit)
    result = run(root, peers=PEERS, log_collectors=COLLECTORS)
    assert "PACS-LOG-005" in failed(result)
    assert evidence in result["checks"]["PACS-LOG-005"]["detail"]


def test_a_plaintext_forward_anywhere_fails_even_next_to_a_good_one(tmp_path):
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    write(root, "/etc/rsyslog.d/10-site.conf", "# the old collector\n*.* @@192.0.2.9:514\n")
    result = run(root, peers=PEERS, log_collectors=COLLECTORS)
    finding = next(f for f in result["findings"] if f["id"] == "PACS-LOG-005")
    assert finding["severity"] == "high" and "192.0.2.9:514 (TCP)" in finding["evidence"]


def test_orthanc_trace_options_write_identifiers_and_a_log_dir_is_not_the_journal(tmp_path):
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    edit_rendered(root, "/etc/systemd/system/orthanc.service.d/pacsguard-log.conf", "--verbose-dicom",
                  "--trace-dicom --logdir=/var/log/orthanc")
    os.chmod(root / "var/log/orthanc", 0o755)  # a site opened the directory
    result = run(root, peers=PEERS, log_collectors=COLLECTORS)
    assert {"PACS-LOG-001", "PACS-LOG-002", "PACS-LOG-003"} <= set(failed(result))
    assert "--trace-dicom" in result["checks"]["PACS-LOG-002"]["detail"]
    detail = result["checks"]["PACS-LOG-003"]["detail"]
    assert "/var/log/orthanc/Orthanc.log is readable by every local user" in detail


@pytest.mark.parametrize(
    ("edit", "evidence"),
    [
        (("log4cplus.rootLogger = INFO", "log4cplus.rootLogger = WARN"), "no association"),
        (("log4cplus.rootLogger = INFO", "log4cplus.rootLogger = DEBUG"), "dataset dumps"),
        (("StringToMatch = SOP Instance UID", "StringToMatch = nothing"), "journal: SOP Instance UID"),
        (("AcceptOnMatch = false", "AcceptOnMatch = true"), "journal: Identifiers"),
        (("ImmediateFlush = true", "ImmediateFlush = false"), "without ImmediateFlush"),
    ],
)
def test_dcmqrscp_log_configuration_weakened_is_named(tmp_path, edit, evidence):
    root = site_dcmqrscp(tmp_path)
    harden_dcmqrscp(root)
    edit_rendered(root, "/etc/dcmtk/dcmqrscp-log.cfg", *edit)
    result = run(root, peers=PEERS, log_collectors=COLLECTORS)
    details = result["checks"]["PACS-LOG-001"]["detail"] + result["checks"]["PACS-LOG-002"]["detail"]
    assert evidence in details
    assert {"PACS-LOG-001", "PACS-LOG-002"} & set(failed(result))


def test_dcmqrscp_at_info_without_filters_writes_identifiers(tmp_path):
    root = site_dcmqrscp(tmp_path)
    write(root, "/etc/systemd/system/dcmqrscp.service", SITE_UNIT.replace("-c ", "-v -c "))
    result = run(root)
    assert result["checks"]["PACS-LOG-001"]["status"] == "pass"
    assert "PACS-LOG-002" in failed(result)


@pytest.mark.parametrize(
    ("setting", "evidence", "status"),
    [
        ("Storage=volatile", "lost at every reboot", "fail"),
        ("MaxRetentionSec=1week", "before 30 days", "fail"),
        ("MaxRetentionSec=2months", "", "pass"),
        ("MaxRetentionSec=soon", "not a systemd time span", "error"),
    ],
)
def test_the_journal_must_persist(tmp_path, setting, evidence, status):
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    write(root, "/etc/systemd/journald.conf.d/90-site.conf", f"[Journal]\n{setting}\n")
    result = run(root, peers=PEERS, log_collectors=COLLECTORS)
    assert result["checks"]["PACS-LOG-004"]["status"] == status
    assert evidence in result["checks"]["PACS-LOG-004"]["detail"]


def test_a_world_readable_queue_directory_is_named(tmp_path):
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    os.chmod(root / "var/spool/rsyslog", 0o755)
    result = run(root, peers=PEERS, log_collectors=COLLECTORS)
    assert "rsyslog's queue" in result["checks"]["PACS-LOG-003"]["detail"]


def test_a_log_configuration_the_service_user_cannot_read_is_named(tmp_path):
    """dcmqrscp stops at start when its user cannot open --log-config (seen on Debian 12)."""
    root = site_dcmqrscp(tmp_path)
    harden_dcmqrscp(root)
    result = run(root, peers=PEERS, log_collectors=COLLECTORS)
    assert result["checks"]["PACS-LOG-001"]["status"] == "pass"
    os.chmod(root / "etc/dcmtk/dcmqrscp-log.cfg", 0o600)
    result = run(root, peers=PEERS, log_collectors=COLLECTORS)
    assert "who cannot read its log configuration" in result["checks"]["PACS-LOG-001"]["detail"]
    # on a port below 1024 the unit starts dcmqrscp as root, which reads it before switching user
    native = site_dcmqrscp(tmp_path / "native")
    harden_dcmqrscp(native, native=True)
    os.chmod(native / "etc/dcmtk/dcmqrscp-log.cfg", 0o600)
    result = run(native, peers=PEERS, log_collectors=COLLECTORS)
    assert result["checks"]["PACS-LOG-001"]["status"] == "pass", result["checks"]["PACS-LOG-001"]


@pytest.mark.parametrize(
    ("directory", "rule", "evidence"),
    [
        ("/etc/systemd/journald.conf.d", "PACS-LOG-004", "journald.conf.d: cannot be listed"),
        ("/etc/rsyslog.d", "PACS-LOG-005", "the directory of /etc/rsyslog.d/*.conf cannot be listed"),
        ("/var/log/orthanc", "PACS-LOG-003", "/var/log/orthanc cannot be listed"),
    ],
)
def test_a_log_directory_that_cannot_be_listed_is_an_error_never_a_pass(tmp_path, monkeypatch, directory,
                                                                          rule, evidence):
    """A non-root audit may not list a directory whose files a rule judges: the rule says error."""
    root = debian_orthanc(tmp_path)
    harden_orthanc(root)
    edit_rendered(root, "/etc/systemd/system/orthanc.service.d/pacsguard-log.conf", "--verbose-dicom",
                  "--verbose-dicom --logdir=/var/log/orthanc")
    result = run(root, peers=PEERS, log_collectors=COLLECTORS)
    assert result["checks"][rule]["status"] in ("pass", "fail")
    listdir = os.listdir
    refused = str(root / directory.lstrip("/"))

    def refusing(path):
        if str(path).rstrip("/") == refused:
            raise PermissionError(13, "Permission denied", path)
        return listdir(path)

    monkeypatch.setattr(os, "listdir", refusing)
    result = run(root, peers=PEERS, log_collectors=COLLECTORS)
    assert result["checks"][rule]["status"] == "error", result["checks"][rule]
    assert evidence in result["checks"][rule]["detail"]
