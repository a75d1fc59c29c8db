# Copyright: (c) 2026, pacsguard contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Template variables of every node of the play, each in that node's own context, in one task.

On a fleet, every task that runs per node costs each node a worker process (about 15-25 ms of the
controller's time, measured); a gathering task and a role's argument validation per node were most
of an audit's cost. This action runs once and does, for each node, what such a task would have done
in the node's worker: it asks Ansible's variable manager for the variables that node sees at this
task (inventory, group and host vars, facts, the play's and the role's vars and defaults, magic
variables, hostvars), templates the named variables with them, and validates the node's values of a
role's options against that role's argument spec. A node whose values cannot be templated or are not
valid gets an error of its own; the others are unaffected.

Internal to the roles (pacs_policy's batch entry point), not a module for playbooks. Arguments:
variables (result key to a variable's name), nodes (default: the play's active hosts), argument_spec
(a role entry point's options) and argument_spec_name (for messages). Returns nodes (node to its
values by key) and errors (node to why it has none); it fails only on bad arguments.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    """Template the named variables of every node in its own context (see the module docstring)."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = self._task.args
        variables = args.get("variables")
        if not isinstance(variables, dict) or not variables:
            raise AnsibleError("pacs_node_vars: 'variables' must map result keys to variable names")
        spec = args.get("argument_spec") or {}
        if not isinstance(spec, dict):
            raise AnsibleError("pacs_node_vars: 'argument_spec' must be a mapping of options")
        spec_name = str(args.get("argument_spec_name") or "argument spec")
        hostvars = task_vars.get("hostvars")
        manager = getattr(hostvars, "_variable_manager", None)
        inventory = getattr(hostvars, "_inventory", None)
        if manager is None or inventory is None:
            raise AnsibleError("pacs_node_vars: this Ansible does not expose hostvars' variable manager")
        play_hosts = list(task_vars.get("ansible_play_hosts") or [])
        names = list(args.get("nodes") or play_hosts)
        hosts_all = list(task_vars.get("ansible_play_hosts_all") or play_hosts)
        play = self._task.get_play()
        # one templar for every node, each node's variables swapped in
        templar = self._templar.copy_with_new_env(available_variables={})
        _reuse_compiled_templates(templar)
        nodes: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for name in names:
            host = inventory.get_host(name)
            if host is None:
                errors[name] = "not in the inventory"
                continue
            node_vars = manager.get_vars(play=play, host=host, task=self._task, include_hostvars=True,
                                         _hosts=play_hosts, _hosts_all=hosts_all)
            templar.available_variables = node_vars
            try:
                nodes[name] = _node(templar, node_vars, variables, spec, spec_name)
            except (AnsibleError, _Invalid) as exc:
                errors[name] = str(exc)
        result.update(changed=False, nodes=nodes, errors=errors)
        return result


def _reuse_compiled_templates(templar: Any) -> None:
    """Compile each template source once for all the nodes: Ansible compiles a template each time it
    renders one (measured: most of the cost of templating the same variables for every node). A
    compiled template holds no variables; each node's are given when it is rendered. Left as it is
    on an Ansible whose templar does not have this shape."""
    engine = getattr(templar, "_engine", None)
    compile_template = getattr(engine, "_compile_template", None)
    if compile_template is None:
        return
    compiled: dict[Any, Any] = {}

    def reuse(template: str, options: Any) -> Any:
        key = (template, options)
        if key not in compiled:
            compiled[key] = compile_template(template, options)
        return compiled[key]

    engine._compile_template = reuse


class _Invalid(Exception):
    """A node's value cannot be templated, or its options are not valid against the argument spec."""


def _node(templar: Any, node_vars: dict[str, Any], variables: dict[str, str], spec: dict[str, Any],
          spec_name: str) -> dict[str, Any]:
    """The node's templated variables, after its options are validated (raises on the first error)."""
    if spec:
        provided = {key: _template(templar, node_vars[key], key) for key in spec if key in node_vars}
        outcome = ArgumentSpecValidator(spec).validate(provided, validate_role_argument_spec=True)
        if outcome.error_messages:
            raise _Invalid(f"{spec_name}: {'; '.join(outcome.error_messages)}")
    values = {}
    for key, variable in variables.items():
        if variable not in node_vars:
            raise _Invalid(f"'{variable}' is not defined for this node")
        raw = node_vars[variable]
        values[key] = ({name: _template(templar, value, name) for name, value in raw.items()}
                       if isinstance(raw, dict) else _template(templar, raw, variable))
    return values


def _template(templar: Any, value: Any, name: str) -> Any:
    """One value templated; a failure names what it was templating."""
    try:
        return templar.template(value)
    except AnsibleError as exc:
        raise _Invalid(f"{name}: {exc.message}") from None
