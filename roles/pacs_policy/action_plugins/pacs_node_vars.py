# Copyright: (c) 2026, pacsguard contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read named variables of every node of the play, each in that node's own context, in one task.

On a fleet, every task that runs per node costs each node a worker process (measured: one set_fact
per node over 1,000 hosts costs 15-17 s of the controller); a gathering task and a role's argument
validation per node were most of an audit's cost. This action runs once and gives, for each node,
what such a task would have read there, through Ansible's public interfaces only:

- the node's own variables come from ``hostvars`` (``HostVars.raw_get``: inventory, group and host
  vars, facts, registered values and set_fact, extra vars, its magic variables), untemplated;
- the play's values (play and role vars and defaults, task vars) come from this task's own variables,
  less what is this task's host's own;
- each value read is templated with the node's variables and ``hostvars``, so an inventory value
  that refers to another host resolves as it would in a task of that node.

Precedence as Ansible's, by what the two public views show: a play value that overrides this host's
own value (a play var, a task var) overrides every node's; a role default gives way to a node's own
value. A value that only the play sets, over a key this host does not set, counts as a role default
when it equals the default of O(argument_spec), else as a play var.

Internal to the roles (pacs_policy's batch entry point), not a module for playbooks. Arguments:
variables (result key to a mapping of field to the variable it reads: a name, ``a.b`` for a key of a
mapping, or a list of those, the first one defined; a field whose variables are all undefined is left
out; a mapping nests), nodes (default: the play's active hosts), argument_spec (a role entry point's
options: each node's values are validated, and read as validated, with the spec's defaults) and
argument_spec_name (for messages). Returns nodes (node to its values by key), by_key (the same, key
to node to values) and errors (node to why it has none); it fails only on bad arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

# Variables that are views or markers, never compared or copied per node.
_VIEWS = frozenset({"hostvars", "vars", "omit"})


class ActionModule(ActionBase):
    """Read the named variables of every node in its own context (see the module docstring)."""

    TRANSFERS_FILES = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = self._task.args
        variables = args.get("variables")
        problem = _bad_variables(variables)
        if problem:
            raise AnsibleError(f"pacs_node_vars: {problem}")
        spec = args.get("argument_spec") or {}
        if not isinstance(spec, dict):
            raise AnsibleError("pacs_node_vars: 'argument_spec' must be a mapping of options")
        spec_name = str(args.get("argument_spec_name") or "argument spec")
        hostvars = task_vars.get("hostvars")
        own_name = task_vars.get("inventory_hostname")
        if not isinstance(hostvars, Mapping) or not hasattr(hostvars, "raw_get") or own_name is None:
            raise AnsibleError("pacs_node_vars: this task has no hostvars to read the nodes' variables from")
        names = list(args.get("nodes") or task_vars.get("ansible_play_hosts") or [])
        layers = _PlayLayers(task_vars, _raw(hostvars, own_name), spec)
        templar = self._templar.copy_with_new_env(available_variables={})
        nodes: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for name in names:
            if name not in hostvars:
                errors[name] = "not in the inventory"
                continue
            context = layers.for_node(_raw(hostvars, name))
            context["hostvars"] = hostvars
            templar.available_variables = context
            try:
                nodes[name] = _node(templar, context, variables, spec, spec_name)
            except (AnsibleError, _Invalid) as exc:
                errors[name] = str(exc)
        # the same values by result key, then node (what a caller hands on for a whole fleet)
        by_key = {key: {name: values[key] for name, values in nodes.items() if key in values}
                  for key in variables}
        result.update(changed=False, nodes=nodes, by_key=by_key, errors=errors)
        return result


def _raw(hostvars: Any, name: str) -> dict[str, Any]:
    """A node's own variables, untemplated (HostVars.raw_get, the public untemplated view)."""
    raw = hostvars.raw_get(name)
    return dict(raw) if isinstance(raw, Mapping) else {}


def _bad_variables(variables: Any) -> str:
    """Why the variables argument cannot be read ('' when it can)."""
    if not isinstance(variables, dict) or not variables:
        return "'variables' must map result keys to mappings of field to variable"
    for key, fields in variables.items():
        problem = _bad_fields(fields, f"variables.{key}")
        if problem:
            return problem
    return ""


def _bad_fields(fields: Any, where: str) -> str:
    """Why a mapping of fields to variables cannot be read ('' when it can); mappings nest."""
    if not isinstance(fields, dict):
        return f"{where} must map fields to variable names"
    for field, names in fields.items():
        if isinstance(names, dict):
            problem = _bad_fields(names, f"{where}.{field}")
            if problem:
                return problem
            continue
        chain = names if isinstance(names, list) else [names]
        if not chain or not all(isinstance(one, str) and one.strip() for one in chain):
            return f"{where}.{field} must be a variable name or a list of them"
    return ""


def _same(left: Any, right: Any) -> bool:
    """Whether two values are one (identity first: values of one source are the same objects)."""
    if left is right:
        return True
    try:
        return bool(left == right)
    except Exception:  # noqa: BLE001 - a value that cannot be compared is not the same
        return False


class _PlayLayers:
    """The play's values at this task, split by whether they give way to a node's own values."""

    def __init__(self, task_vars: dict[str, Any], own: dict[str, Any], spec: dict[str, Any]) -> None:
        defaults = {key: option["default"] for key, option in spec.items()
                    if isinstance(option, dict) and "default" in option}
        self.below: dict[str, Any] = {}   # role defaults: a node's own value wins
        self.above: dict[str, Any] = {}   # play, role and task vars: they win over a node's own
        for key, value in task_vars.items():
            if key in _VIEWS:
                continue
            if key in own:
                if not _same(own[key], value):
                    self.above[key] = value
                elif key in defaults:
                    # this host's own value hides the role default the other nodes fall back on
                    self.below[key] = defaults[key]
            elif key in defaults and _same(defaults[key], value):
                self.below[key] = value
            else:
                self.above[key] = value

    def for_node(self, own: dict[str, Any]) -> dict[str, Any]:
        """The variables one node sees at this task."""
        return {**self.below, **{key: value for key, value in own.items() if key not in _VIEWS},
                **self.above}


class _Invalid(Exception):
    """A node's value cannot be templated, or its options are not valid against the argument spec."""


_UNDEFINED = object()


def _node(templar: Any, context: dict[str, Any], variables: dict[str, dict[str, Any]],
          spec: dict[str, Any], spec_name: str) -> dict[str, Any]:
    """The node's values by key, or raises on its first error. The node's options of the argument
    spec are validated first and read as validated (typed, defaults filled in)."""
    if spec:
        provided = {key: _template(templar, context[key], key) for key in spec if key in context}
        outcome = ArgumentSpecValidator(spec).validate(provided, validate_role_argument_spec=True)
        if outcome.error_messages:
            raise _Invalid(f"{spec_name}: {'; '.join(outcome.error_messages)}")
        context.update(outcome.validated_parameters)
        templar.available_variables = context
    return {key: _fields(templar, context, fields) for key, fields in variables.items()}


def _fields(templar: Any, context: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """A mapping of fields read (a field whose variables are all undefined is left out)."""
    read = {}
    for field, names in fields.items():
        if isinstance(names, dict):
            read[field] = _fields(templar, context, names)
            continue
        value = _first(templar, context, names if isinstance(names, list) else [names])
        if value is not _UNDEFINED:
            read[field] = value
    return read


def _first(templar: Any, context: dict[str, Any], names: list[str]) -> Any:
    """The templated value of the first of names defined for the node (a.b: key b of mapping a)."""
    for name in names:
        top, *path = name.split(".")
        if top not in context:
            continue
        value = _template(templar, context[top], top)
        for step in path:
            if not isinstance(value, Mapping) or step not in value:
                value = _UNDEFINED
                break
            value = value[step]
        if value is not _UNDEFINED:
            return value
    return _UNDEFINED


def _template(templar: Any, value: Any, name: str) -> Any:
    """One value templated; a failure names what it was templating."""
    try:
        return templar.template(value)
    except AnsibleError as exc:
        raise _Invalid(f"{name}: {exc.message}") from None
