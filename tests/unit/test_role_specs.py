"""Role defaults and meta/argument_specs.yml must not drift apart."""

from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[2] / "roles"
SHARED_POLICY = {"pacs_ae_title", "pacs_dicom_port", "pacs_peers", "pacs_product", "pacs_http_port",
                 "pacs_tls", "pacs_admin_sources", "pacs_address", "pacs_plaintext_port",
                 "pacs_web_tls", "pacs_http_plaintext_port",
                 # the plan's settings (module_utils/pacsguard/plan.py holds their defaults)
                 "pacs_tls_front_port_base", "pacs_tls_front_source_prefix", "pacs_tls_suites"}


@pytest.mark.parametrize("role", sorted(p.name for p in ROLES.iterdir() if p.is_dir()))
def test_defaults_match_argument_specs(role):
    defaults = yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text()) or {}
    specs = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"]["options"]
    own = {name: spec for name, spec in options.items() if name not in SHARED_POLICY}
    optional = {name for name, spec in own.items() if not spec.get("required")}
    assert set(defaults) == optional, "defaults and argument_specs list different variables"
    for name, value in defaults.items():
        assert own[name].get("default") == value, f"{name}: default differs from argument_specs"
        assert own[name].get("description"), f"{name}: no description"
        assert name.startswith(role + "_"), f"{name}: not prefixed with the role name"


def test_role_readmes_match_argument_specs():
    import subprocess
    import sys

    tool = Path(__file__).resolve().parents[2] / "tools" / "role_readme.py"
    run = subprocess.run([sys.executable, str(tool), "--check"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout


def test_handler_names_are_unique_across_roles():
    """Ansible runs only one of several handlers that share a name, in the last one's place: the
    product roles all listen on one topic, so a shared name would reorder another role's restart."""
    names = [handler["name"] for path in ROLES.glob("*/handlers/main.yml")
             for handler in yaml.safe_load(path.read_text()) or []]
    assert len(names) == len(set(names)), sorted(name for name in names if names.count(name) > 1)
