"""Real PACS servers on loopback for the demo and the integration tests.

Orthanc and dcmqrscp run from the Debian packages as child processes with private working
directories and free ports; small pynetdicom servers stand in for behaviours no product shows on
demand (an archive that accepts anything, a port that never answers). Every wait has a deadline.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "module_utils"))

from pacsguard import jsonc  # noqa: E402

DEBIAN_ORTHANC_CONFIG = Path("/etc/orthanc/orthanc.json")
BCP195_OPENSSL_POLICY = """\
# Scoped OpenSSL policy for one service: {min_protocol}+ with the non-downgrading BCP 195 suites.
openssl_conf = pacsguard_init
[pacsguard_init]
ssl_conf = pacsguard_ssl
[pacsguard_ssl]
system_default = pacsguard_tls
[pacsguard_tls]
MinProtocol = {min_protocol}
CipherString = ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:\
ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:\
DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384
"""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_port(host: str, port: int, deadline: float, proc: subprocess.Popen | None = None) -> None:
    """Wait until host:port accepts TCP connections; fail early when ``proc`` died."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {host}:{port} opened")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"{host}:{port} did not open within {deadline} s")


@dataclass
class Server:
    """A lab server: its name, DICOM AE and port, optional web URL, and how to stop it."""

    name: str
    ae_title: str
    port: int
    host: str = "127.0.0.1"
    web_url: str | None = None
    proc: subprocess.Popen | None = None
    workdir: Path | None = None
    stopper: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        """Terminate the child process (by its own PID) or the in-process server."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.stopper is not None:
            self.stopper()


# -- PKI ----------------------------------------------------------------------------------
def make_pki(folder: Path, client_names: tuple[str, ...] = ("CT01",)) -> dict[str, str]:
    """A site CA, a server certificate for 127.0.0.1 and one client certificate per name.

    Also a second, untrusted CA with its own client, to prove a server refuses it, and a log
    collector's certificate (collector.lab). The server certificate also names pacs.lab, the name a
    collector admits the nodes by.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    paths: dict[str, str] = {}

    def write(name: str, cert: Any, key: Any) -> None:
        crt, pem_key = folder / f"{name}.crt", folder / f"{name}.key"
        crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        pem_key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.TraditionalOpenSSL,
                                              serialization.NoEncryption()))
        pem_key.chmod(0o600)
        paths[f"{name}_cert"], paths[f"{name}_key"] = str(crt), str(pem_key)

    def issue(cn: str, issuer: tuple[Any, Any] | None, ca: bool = False, server: bool = False,
              names: tuple[str, ...] = ("localhost",)):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pacsguard lab"),
                             x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        issuer_cert, issuer_key = issuer if issuer else (None, key)
        builder = (x509.CertificateBuilder()
                   .subject_name(subject)
                   .issuer_name(issuer_cert.subject if issuer_cert else subject)
                   .public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(hours=1))
                   .not_valid_after(now + datetime.timedelta(days=365))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if server:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [*map(x509.DNSName, names), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
        if not ca:
            usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
            builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        return builder.sign(issuer_key, hashes.SHA256()), key

    ca = issue("pacsguard lab CA", None, ca=True)
    write("ca", *ca)
    write("server", *issue("pacs.lab", ca, server=True, names=("localhost", "pacs.lab")))
    write("collector", *issue("collector.lab", ca, server=True, names=("collector.lab",)))
    for name in client_names:
        write(f"client_{name.lower()}", *issue(name, ca))
    rogue_ca = issue("rogue CA", None, ca=True)
    write("rogue_ca", *rogue_ca)
    write("rogue_client", *issue("CT01", rogue_ca))
    return paths


def make_self_signed(folder: Path, days: int, key: Any = None) -> tuple[str, str]:
    """A self-signed server certificate valid until ``days`` from now (negative: expired), for
    ``key`` (a cryptography private key; RSA 2048 bits when not given)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pacs.lab")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now + datetime.timedelta(days=days - 365))
            .not_valid_after(now + datetime.timedelta(days=days))
            .sign(key, hashes.SHA256()))
    crt, pem_key = folder / "self.crt", folder / "self.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem_key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.TraditionalOpenSSL,
                                          serialization.NoEncryption()))
    pem_key.chmod(0o600)
    return str(crt), str(pem_key)


# -- Orthanc ------------------------------------------------------------------------------
def debian_orthanc_defaults() -> dict[str, Any]:
    """The keys of Debian's /etc/orthanc/orthanc.json (comments removed)."""
    return jsonc.loads(DEBIAN_ORTHANC_CONFIG.read_text())


def start_orthanc(workdir: Path, name: str, settings: dict[str, Any] | None = None,
                  openssl_policy: str | None = None, deadline: float = 60.0,
                  files: dict[str, dict[str, Any]] | None = None) -> Server:
    """Start Orthanc with Debian's defaults overlaid by ``settings`` on free loopback ports.

    ``files`` are more files of its configuration directory, by name; their keys leave orthanc.json
    (a key in two files stops Orthanc).

    ``openssl_policy`` ("TLSv1.2" or "TLSv1.3") starts it under a service-scoped OpenSSL
    configuration with that minimum protocol and the BCP 195 cipher string.
    """
    workdir = Path(workdir) / name
    (workdir / "config").mkdir(parents=True, exist_ok=True)
    # A free port can be taken by another process before Orthanc binds it (another test session on
    # the machine): Orthanc then exits at once, and it is started again on other ports.
    for attempt in range(1, 4):
        try:
            return _start_orthanc_once(workdir, name, settings, openssl_policy, deadline, files)
        except _ExitedEarly:
            if attempt == 3:
                raise RuntimeError(f"Orthanc {name} exited at start three times; "
                                   f"see {workdir / 'orthanc.log'}") from None
    raise AssertionError("unreachable")


class _ExitedEarly(Exception):
    """The server process ended before its ports opened (private to start_orthanc)."""


def _start_orthanc_once(workdir: Path, name: str, settings: dict[str, Any] | None,
                        openssl_policy: str | None, deadline: float,
                        files: dict[str, dict[str, Any]] | None) -> Server:
    """One start of Orthanc on fresh free ports (see start_orthanc)."""
    dicom_port, http_port = free_port(), free_port()
    config = debian_orthanc_defaults()
    config.update({
        "Name": name,
        "StorageDirectory": str(workdir / "db"),
        "IndexDirectory": str(workdir / "db"),
        "Plugins": [],
        "DicomPort": dicom_port,
        "HttpPort": http_port,
    })
    config.update(settings or {})
    ae_title = next((c["DicomAet"] for c in (files or {}).values() if "DicomAet" in c), config["DicomAet"])
    for file_name, content in (files or {}).items():
        for key in content:
            config.pop(key, None)
        (workdir / "config" / file_name).write_text(json.dumps(content, indent=2))
    (workdir / "config" / "orthanc.json").write_text(json.dumps(config, indent=2))
    env = dict(os.environ)
    if openssl_policy:
        policy = workdir / "openssl-bcp195.cnf"
        policy.write_text(BCP195_OPENSSL_POLICY.format(min_protocol=openssl_policy))
        env["OPENSSL_CONF"] = str(policy)
    log = open(workdir / "orthanc.log", "wb")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(["/usr/sbin/Orthanc", str(workdir / "config")], stdout=log,
                            stderr=subprocess.STDOUT, env=env, cwd=workdir)
    server = Server(name, ae_title, dicom_port, web_url=f"http://127.0.0.1:{http_port}",
                    proc=proc, workdir=workdir, stopper=log.close)
    try:
        wait_for_port("127.0.0.1", http_port, deadline, proc)
        wait_for_port("127.0.0.1", dicom_port, deadline, proc)
    except Exception:
        exited = proc.poll() is not None
        server.stop()
        if exited:
            raise _ExitedEarly() from None
        raise RuntimeError(f"Orthanc {name} did not start; see {workdir / 'orthanc.log'}") from None
    return server


def orthanc_upload(server: Server, dicom_file: str, credentials: tuple[str, str] | None = None) -> None:
    """Store one DICOM file through the REST API (from 127.0.0.1)."""
    request = urllib.request.Request(f"{server.web_url}/instances",
                                     data=Path(dicom_file).read_bytes(), method="POST")
    if credentials:
        import base64
        token = base64.b64encode(":".join(credentials).encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status != 200:
            raise RuntimeError(f"upload to {server.name} answered {response.status}")


# -- dcmqrscp -----------------------------------------------------------------------------
def start_dcmqrscp(workdir: Path, name: str, ae_title: str = "DCMQRSCP",
                   peers: list[tuple[str, str, int]] | None = None, access: str = "RW",
                   deadline: float = 20.0, port: int | None = None) -> Server:
    """Start dcmqrscp with one storage area; ``peers`` (AE, IP, port) or ANY when None."""
    workdir = Path(workdir) / name
    storage = workdir / "db"
    storage.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    host_lines = [f"peer{i} = ({ae}, {host}, {p})" for i, (ae, host, p) in enumerate(peers or [])]
    allowed = ", ".join(f"peer{i}" for i in range(len(peers))) if peers else "ANY"
    config = "\n".join([
        f"NetworkTCPPort = {port}", "MaxPDUSize = 16384", "MaxAssociations = 16",
        "HostTable BEGIN", *host_lines, "HostTable END",
        "VendorTable BEGIN", "VendorTable END",
        "AETable BEGIN", f"{ae_title} {storage} {access} (200, 1024mb) {allowed}", "AETable END",
        "",
    ])
    cfg = workdir / "dcmqrscp.cfg"
    cfg.write_text(config)
    log = open(workdir / "dcmqrscp.log", "wb")  # noqa: SIM115 - lives as long as the process
    debug = ["-d"] if os.environ.get("PACSLAB_DEBUG") else []
    proc = subprocess.Popen(["dcmqrscp", "-dhl", *debug, "-c", str(cfg)], stdout=log,
                            stderr=subprocess.STDOUT, cwd=workdir)
    server = Server(name, ae_title, port, proc=proc, workdir=workdir, stopper=log.close)
    try:
        wait_for_port("127.0.0.1", port, deadline, proc)
    except Exception:
        server.stop()
        raise RuntimeError(f"dcmqrscp {name} did not start; see {workdir / 'dcmqrscp.log'}") from None
    return server


def dicom_store(server: Server, dicom_file: str, calling_ae: str = "LABLOADER") -> None:
    """C-STORE one file into a lab server (plaintext), failing loudly on any refusal."""
    from pydicom import dcmread
    from pynetdicom import AE

    ds = dcmread(dicom_file)
    ae = AE(ae_title=calling_ae)
    for timeout_name in ("acse_timeout", "dimse_timeout", "network_timeout", "connection_timeout"):
        setattr(ae, timeout_name, 10)
    ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
    assoc = ae.associate(server.host, server.port, ae_title=server.ae_title)
    try:
        if not assoc.is_established:
            raise RuntimeError(f"{server.name} refused the lab loader's association")
        status = assoc.send_c_store(ds)
        if getattr(status, "Status", None) != 0x0000:
            raise RuntimeError(f"{server.name} refused the lab loader's C-STORE")
        assoc.release()
    finally:
        ae.shutdown()


# -- stand-ins no product shows on demand -------------------------------------------------
def start_accept_anything(name: str = "accept-anything", ae_title: str = "ANYTHING") -> Server:
    """A pynetdicom archive that accepts any AE titles and every C-ECHO, C-FIND and C-STORE."""
    from pydicom.dataset import Dataset
    from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, evt
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind, Verification

    def on_find(event: Any):
        for index in range(3):
            match = Dataset()
            match.QueryRetrieveLevel = "STUDY"
            match.StudyInstanceUID = f"1.2.826.0.1.3680043.10.543.{index}"
            yield 0xFF00, match

    ae = AE(ae_title=ae_title)
    ae.require_called_aet = False
    ae.add_supported_context(Verification)
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelFind)
    ae.add_supported_context("1.2.840.10008.5.1.4.1.2.1.1")  # Patient Root FIND
    for context in AllStoragePresentationContexts:
        ae.add_supported_context(context.abstract_syntax, ALL_TRANSFER_SYNTAXES)
    port = free_port()
    handlers = [(evt.EVT_C_FIND, on_find), (evt.EVT_C_STORE, lambda event: 0x0000)]
    server = ae.start_server(("127.0.0.1", port), block=False, evt_handlers=handlers,
                             ae_title=ae_title)
    return Server(name, ae_title, port, stopper=server.shutdown)


def serve_connections(name: str, ae_title: str, handler: Any, wrap: Any = None) -> Server:
    """Accept TCP connections on a free loopback port and run ``handler(conn, stop_event)`` on each
    in a thread (after a TLS handshake when ``wrap``, an ssl.SSLContext, is given)."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    stop = threading.Event()
    conns: list[Any] = []

    def one(conn: Any) -> None:
        with contextlib.suppress(OSError):
            if wrap is not None:
                conn.settimeout(5)
                conn = wrap.wrap_socket(conn, server_side=True)
                conns.append(conn)
            handler(conn, stop)

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                conn, _ = listener.accept()
                conns.append(conn)
                threading.Thread(target=one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()

    def shutdown() -> None:
        stop.set()
        thread.join(timeout=2)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.close()
        listener.close()

    return Server(name, ae_title, listener.getsockname()[1], stopper=shutdown)


def _hold(conn: Any, stop: threading.Event) -> None:
    """Say nothing and keep the connection open until the server stops."""
    stop.wait()


def start_silent(name: str = "silent") -> Server:
    """A port that accepts TCP connections and never says a word (a stuck or tarpitting host)."""
    return serve_connections(name, "SILENT", _hold)


def remove(path: Path) -> None:
    """Delete a lab working directory."""
    shutil.rmtree(path, ignore_errors=True)


def main(argv: list[str]) -> int:
    """Command line for playbooks and scenarios:
    ``pki DIR [CLIENT_AE ...]`` writes the lab PKI (existing files are kept);
    ``testfile`` prints the path of the pydicom test object the lab stores."""
    if len(argv) >= 2 and argv[0] == "pki":
        folder = Path(argv[1])
        if not (folder / "ca.crt").exists():
            make_pki(folder, tuple(argv[2:]) or ("CT01",))
        return 0
    if argv == ["testfile"]:
        from pydicom.data import get_testdata_file
        print(get_testdata_file("CT_small.dcm"))
        return 0
    print("usage: pacslab.py pki DIR [CLIENT_AE ...] | testfile", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
