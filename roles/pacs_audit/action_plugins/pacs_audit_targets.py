# Copyright: (c) 2026, pacsguard contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Put together each vantage's probe targets from the nodes' plans and the audit's options, once
for the play, on the controller (no task per node, no Jinja loop).

Internal to pacs_audit (tasks/probe.yml). Arguments: nodes (the play's nodes, in order), policies
(pacs_policy batch: node to its policy, errors and warnings) and callers (node to what the audit
gathered in its context: vantage and the probe's options). Returns targets: vantage to the targets
its probe call checks. A node whose policy is not valid, or that has no options, is not probed (it
is an error in the report).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase


def probe_targets(nodes: list[str], policies: Mapping[str, Any],
                  callers: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each vantage's targets: the node's plan (address, port, AE titles, peers, web URL, local
    ports) with the audit's options for it; an option left empty is not set (the probe's default),
    and a web URL of its own replaces the one the plan derives."""
    targets: dict[str, list[dict[str, Any]]] = {}
    for name in nodes:
        policy = (policies.get(name) or {}).get("policy")
        caller = callers.get(name)
        if not policy or not isinstance(caller, Mapping):
            continue
        options = {key: value for key, value in (caller.get("probe") or {}).items() if value != ""}
        planned = policy["plan"]["probe"]
        target = {**options, **planned, "web_url": options.get("web_url", planned["web_url"])}
        targets.setdefault(caller["vantage"], []).append(target)
    return targets


class ActionModule(ActionBase):
    """Group the nodes' probe targets by vantage (see the module docstring)."""

    TRANSFERS_FILES = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        args = self._task.args
        nodes, policies, callers = args.get("nodes"), args.get("policies"), args.get("callers")
        if not (isinstance(nodes, list) and isinstance(policies, Mapping) and isinstance(callers, Mapping)):
            raise AnsibleError("pacs_audit_targets: nodes must be a list, policies and callers mappings")
        result.update(changed=False, targets=probe_targets(nodes, policies, callers))
        return result
