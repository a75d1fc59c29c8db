"""The audit's probe targets, grouped by vantage from the nodes' plans (pacs_audit_targets)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from pacsguard.policy import check_policy

PLUGIN = Path(__file__).resolve().parents[2] / "roles/pacs_audit/action_plugins/pacs_audit_targets.py"
_spec = importlib.util.spec_from_file_location("pacs_audit_targets", PLUGIN)
targets_plugin = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(targets_plugin)

PEER = {"name": "ct", "ae_title": "CT01", "address": "10.20.0.11"}


def _policy(address: str, product: str = "orthanc") -> dict:
    report = check_policy({"product": product, "ae_title": "ARCHIVE1", "address": address, "peers": [PEER]})
    return {"policy": report.policy, "errors": report.errors, "warnings": report.warnings}


def _caller(vantage: str, name: str, **probe) -> dict:
    return {"vantage": vantage, "workers": 8, "probe": {"name": name, "calling_ae_title": "", **probe}}


def test_nodes_are_grouped_by_vantage_with_their_plan_and_options():
    policies = {"a": _policy("10.0.0.1"), "b": _policy("10.0.0.2", "dcmqrscp"), "c": _policy("10.0.0.3")}
    callers = {"a": _caller("localhost", "a"), "b": _caller("rogue", "b", intrusive=True),
               "c": _caller("localhost", "c", web_url="https://pacs.example:8443")}
    grouped = targets_plugin.probe_targets(["a", "b", "c"], policies, callers)
    assert list(grouped) == ["localhost", "rogue"]
    first, third = grouped["localhost"]
    assert first == {"name": "a", "host": "10.0.0.1", "port": 4242, "called_ae_title": "ARCHIVE1",
                     "peers": policies["a"]["policy"]["peers"], "web_url": "http://10.0.0.1:8042",
                     "other_ports": []}
    # an option of its own replaces the derived web URL; an empty option is not passed on
    assert third["web_url"] == "https://pacs.example:8443" and "calling_ae_title" not in third
    assert grouped["rogue"] == [{"name": "b", "intrusive": True, "host": "10.0.0.2", "port": 104,
                                 "called_ae_title": "ARCHIVE1", "peers": policies["b"]["policy"]["peers"],
                                 "web_url": None, "other_ports": []}]


def test_a_node_without_a_valid_policy_or_options_is_not_probed():
    bad = {"policy": None, "errors": ["pacs_ae_title: empty"], "warnings": []}
    grouped = targets_plugin.probe_targets(["a", "b", "c"], {"a": bad, "b": _policy("10.0.0.2")},
                                           {"a": _caller("localhost", "a"), "c": _caller("localhost", "c")})
    assert grouped == {}
