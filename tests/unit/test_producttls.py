"""Who serves a node's DICOM TLS: read from the installed program, or from the version apt offers."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from pacsguard.producttls import candidate_version, help_lists_tls, native_by_version, own_tls_settings

# dcmqrscp 3.6.9's --help (Debian 13), the lines around its TLS options.
HELP_369 = """\
transport layer security (TLS) options:
  transport protocol stack:
    -tls  --disable-tls           use normal TCP/IP connection (default)
    +tls  --enable-tls            [p]rivate key file, [c]ertificate file: string
                                  use authenticated secure TLS connection
"""
APT_POLICY = """\
dcmtk:
  Installed: (none)
  Candidate: 3.6.9-5+deb13u3
  Version table:
     3.6.9-5+deb13u3 500
"""


def test_dcmqrscp_with_tls_options_speaks_tls_itself():
    assert help_lists_tls(HELP_369)
    # "-tls" alone (use plain TCP) or the word elsewhere is not the option.
    assert not help_lists_tls("    -tls  --disable-tls   use normal TCP/IP connection\n")
    assert not help_lists_tls("storescu +tls is documented elsewhere\n")


@pytest.mark.skipif(not shutil.which("dcmqrscp"), reason="DCMTK is not installed here")
def test_the_installed_dcmqrscp_of_this_machine_is_read_as_it_is():
    """This machine's DCMTK (Debian 12: 3.6.7, no TLS in dcmqrscp) read by its own --help."""
    version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "dcmtk"], capture_output=True,
                             text=True, check=True).stdout
    run = subprocess.run(["dcmqrscp", "--help"], capture_output=True, text=True, env={"LANG": "C"})
    assert help_lists_tls(run.stdout + run.stderr) is native_by_version("dcmqrscp", version)


def test_the_candidate_version_is_read_from_apt_cache_policy():
    assert candidate_version(APT_POLICY) == "3.6.9-5+deb13u3"
    assert candidate_version(APT_POLICY.replace("Candidate: 3.6.9-5+deb13u3", "Candidate: (none)")) is None
    assert candidate_version("N: Unable to locate package dcmtk\n") is None


@pytest.mark.parametrize("version, native", [
    ("3.6.7-9~deb12u4", False),  # Debian 12
    ("3.6.9-5+deb13u3", True),  # Debian 13
    ("1:3.7.0-1", True),  # an epoch does not change the upstream order
    ("", None),
    (None, None),
])
def test_dcmqrscp_has_tls_of_its_own_from_3_6_9(version, native):
    assert native_by_version("dcmqrscp", version) is native


def test_orthanc_always_speaks_dicom_tls_itself():
    assert native_by_version("orthanc", None) is True


@pytest.mark.parametrize("version, own", [
    ("1.10.1+dfsg-2", False),  # Debian 12: the floor needs a service OpenSSL policy
    ("1.12.3+dfsg-1", False),
    ("1.12.4+dfsg-1", True),
    ("1.12.7+dfsg-3", True),  # Debian 13
    ("", None),
])
def test_orthanc_sets_its_own_tls_floor_and_suites_from_1_12_4(version, own):
    assert own_tls_settings("orthanc", version) is own


def test_a_product_without_such_settings_has_none_to_write():
    assert own_tls_settings("dcmqrscp", "3.6.9-5") is None
