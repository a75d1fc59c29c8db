"""The checks pacsguard runs on the controller, shared by their modules and their action plugins,
and the controller's own address toward a node (the firewall's action plugin).

pacs_policy and pacs_render_check never touch a host: the roles run them with
``delegate_to: localhost``. As modules each such task costs a module process on the controller
(about 0.3-0.5 s per task here); the pacs_policy role's action plugins of the same names run the same
code in the worker Ansible already forked for the task. Both paths take their options from here and
return what ``run_*`` returns, so the module (a playbook without the role's plugins, ansible-doc,
ansible-test) and the plugin cannot answer differently.

Each ``run_*`` takes the options as validated against its spec and returns ``(result, secrets)``:
the task's result (``failed`` and ``msg`` when it fails, ``warnings`` as a list) and the values that
must be scrubbed from every output.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from .languages import check_plain_token
from .policy import check_policy
from .stunnel import StunnelConfigError, front_services, verify
from .tlscheck import LIBRARY_IMPORT_ERROR as CRYPTOGRAPHY_IMPORT_ERROR

POLICY_SPEC: dict[str, dict[str, Any]] = {
    "product": {"type": "str"},
    "ae_title": {"type": "str"},
    "node": {"type": "dict"},
    "nodes": {"type": "dict"},
    "node_errors": {"type": "dict", "default": {}},
    "dicom_port": {"type": "raw"},
    "http_port": {"type": "raw"},
    "plaintext_port": {"type": "raw"},
    "http_plaintext_port": {"type": "raw"},
    "product_tls": {"type": "bool"},
    "product_version": {"type": "str"},
    "product_tls_settings": {"type": "bool"},
    "web_tls": {"type": "raw", "default": {}},
    "address": {"type": "str"},
    "host": {"type": "str"},
    "fact_address": {"type": "str"},
    "material": {"type": "bool", "default": True},
    "peers": {"type": "raw", "default": []},
    "admin_sources": {"type": "raw", "default": []},
    "log_collectors": {"type": "raw", "default": []},
    "tls": {"type": "raw", "default": {}},
    # Not no_log as a whole: a user name is not a secret and messages name the user. Each password
    # is returned among the values scrubbed from all output instead (see _prepared).
    "rest_users": {"type": "raw", "no_log": False},
    # role settings (paths, unit and user names), not secrets
    "tokens": {"type": "dict", "default": {}, "no_log": False},
    "suites": {"type": "raw"},
    "front_port_base": {"type": "raw"},
    "front_source_prefix": {"type": "raw"},
}
POLICY_RULES: dict[str, list] = {
    "required_one_of": [("product", "node", "nodes")],
    "mutually_exclusive": [("product", "node", "nodes")],
    "required_together": [("product", "ae_title")],
}

RENDER_CHECK_SPEC: dict[str, dict[str, Any]] = {
    "language": {"type": "str", "choices": ["stunnel", "tokens"], "required": True},
    "content": {"type": "str"},
    "values": {"type": "dict", "default": {}},
    "routes": {"type": "list", "elements": "dict", "default": []},
    "backend_port": {"type": "int"},
    "options": {"type": "dict", "default": {}},
}
RENDER_CHECK_RULES: dict[str, list] = {
    "required_if": [("language", "stunnel", ("backend_port", "content"))],
}

# The options that carry other options (one node's, many nodes') or are about many nodes.
_MANY = ("node", "nodes", "node_errors")
# options that are not policy inputs: the batch's and the role settings' token check
_NOT_INPUTS = (*_MANY, "tokens")
_PORTS = ("dicom_port", "http_port", "plaintext_port", "http_plaintext_port", "front_port_base")
# what Ansible's boolean() (not strict) takes for true; anything else is false
_TRUE = frozenset({"y", "yes", "on", "1", "true", "t", 1})


def _as_int(value: object) -> object:
    """Inventory ports often arrive as strings from templating; keep anything else for the check."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if value == "":
        return None
    return value


def _as_flag(value: object) -> bool:
    """A templated flag may arrive as a string (a node of O(nodes) is not converted by the spec)."""
    if isinstance(value, bool):
        return value
    normalized = value.strip().lower() if isinstance(value, str) else value
    return isinstance(normalized, (str, int, float)) and normalized in _TRUE


def _prepared(params: dict, secrets: set[str]) -> dict:
    """One node's inputs as the check takes them (ports as numbers); its secrets added to secrets."""
    params = {key: params.get(key, spec.get("default")) for key, spec in POLICY_SPEC.items()
              if key not in _NOT_INPUTS} | {key: value for key, value in params.items()
                                            if key not in _NOT_INPUTS}
    for user in params["rest_users"] if isinstance(params["rest_users"], list) else []:
        password = user.get("password") if isinstance(user, dict) else None
        if isinstance(password, str) and password:
            secrets.add(password)
    for material in (params["tls"], params["web_tls"]):
        key = material.get("private_key") if isinstance(material, dict) else None
        if isinstance(key, str) and "\n" in key:
            # Key material given inline instead of a path: never echoed, not even in the invocation.
            secrets.add(key)
    for port in _PORTS:
        params[port] = _as_int(params[port])
    params["material"] = _as_flag(params["material"])
    if isinstance(params["peers"], list):
        params["peers"] = [{**peer, "port": _as_int(peer["port"])}
                           if isinstance(peer, dict) and "port" in peer else peer
                           for peer in params["peers"]]
    return params


def _with_tls(params: dict) -> bool:
    """Whether any policy given configures TLS (its material is read with cryptography)."""
    nodes = params["nodes"]
    policies = (nodes.values() if isinstance(nodes, dict)
                else [params["node"]] if isinstance(params["node"], dict) else [params])
    return any(isinstance(policy, dict) and (policy.get("tls") or policy.get("web_tls"))
               for policy in policies)


def _many(params: dict, secrets: set[str]) -> dict:
    """O(nodes): every node checked in one run; a bad node's errors are its own."""
    policies = {}
    for name, node in sorted(params["nodes"].items()):
        report = check_policy(_prepared(node if isinstance(node, dict) else {}, secrets))
        policies[name] = {"policy": report.policy if not report.errors else None,
                          "errors": report.errors, "warnings": report.warnings}
    for name, error in sorted(params["node_errors"].items()):
        policies[name] = {"policy": None, "errors": [str(error)], "warnings": []}
    messages = [f"{name}: policy is not valid: {error}" if kind == "errors" else f"{name}: {error}"
                for name, node in sorted(policies.items()) for kind in ("errors", "warnings")
                for error in node[kind]]
    return {"changed": False, "policies": policies, "messages": messages}


def missing_cryptography(params: dict) -> str | None:
    """Why cryptography could not be imported, when the policy needs it (it holds TLS material)."""
    return CRYPTOGRAPHY_IMPORT_ERROR if CRYPTOGRAPHY_IMPORT_ERROR and _with_tls(params) else None


def run_policy(params: dict) -> tuple[dict, set[str]]:
    """pacs_policy: one node's policy (O(product) or O(node)) or many (O(nodes)), checked and resolved."""
    secrets: set[str] = set()
    if params["nodes"] is not None:
        return _many(params, secrets), secrets
    given = params["node"] if params["node"] is not None else dict(params)
    report = check_policy(_prepared(given, secrets))
    report.errors.extend(f"{name}: {reason}" for name, value in sorted(params["tokens"].items())
                         for ok, reason in [check_plain_token(value)] if not ok)
    if report.errors:
        return {"failed": True, "changed": False,
                "msg": "pacsguard policy is not valid, nothing was changed: " + "; ".join(report.errors),
                "policy_errors": report.errors, "policy_warnings": report.warnings,
                "warnings": report.warnings}, secrets
    return {"changed": False, "policy": report.policy, "policy_warnings": report.warnings,
            "warnings": report.warnings}, secrets


def run_render_check(params: dict) -> tuple[dict, set[str]]:
    """pacs_render_check: role settings as plain tokens, or a rendered stunnel file read back."""
    if params["language"] == "tokens":
        errors = [f"{name}: {reason}" for name, value in sorted(params["values"].items())
                  for ok, reason in [check_plain_token(value)] if not ok]
        if errors:
            message = "nothing was changed: " + "; ".join(errors)
            return {"failed": True, "changed": False, "msg": message}, set()
        return {"changed": False}, set()
    services = front_services(params["routes"], params["backend_port"])
    try:
        verify(params["content"], services, {k: str(v) for k, v in params["options"].items()})
    except StunnelConfigError as exc:
        return {"failed": True, "changed": False,
                "msg": f"the rendered {params['language']} configuration is not the one meant, "
                       f"nothing was written: {exc}"}, set()
    return {"changed": False, "services": sorted(services)}, set()


def source_address(destination: str) -> str:
    """The address this machine would send from to reach ``destination`` (what ``ip route get``
    says as ``src``), asked of the kernel by connecting a UDP socket, which sends nothing; "" when
    the destination is not an IP address or no route leads there."""
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(destination).version == 6 else socket.AF_INET
    except ValueError:
        return ""
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((destination, 9))
            return str(probe.getsockname()[0])
    except OSError:
        return ""
