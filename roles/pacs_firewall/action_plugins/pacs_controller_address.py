# Copyright: (c) 2026, pacsguard contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The address the controller reaches a node from, asked of the controller's kernel in the task's
worker (a UDP socket's connect picks the route and sends nothing): what ``ip -o route get`` on the
controller says as ``src``, without a command run per node.

Internal to pacs_firewall (the table always admits the controller, so that a run cannot lock it out).
Argument: destination (the node's address). Returns address ("" when the destination is not an IP
address or no route leads there); never fails and changes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ansible.plugins.action import ActionBase

# The core: module_utils/pacsguard beside roles/ in a clone (imported as the unit tests import it),
# the collection's plugins/module_utils once installed (tools/build_collection.py).
_CLONE_CORE = Path(__file__).resolve().parents[3] / "module_utils"
if (_CLONE_CORE / "pacsguard" / "controllertasks.py").is_file():
    if str(_CLONE_CORE) not in sys.path:
        sys.path.insert(0, str(_CLONE_CORE))
    from pacsguard import controllertasks
else:
    from ansible_collections.pacsguard.pacs.plugins.module_utils import controllertasks  # type: ignore[no-redef]


class ActionModule(ActionBase):
    """The controller's source address toward a node (see the module docstring)."""

    TRANSFERS_FILES = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        _validation, params = self.validate_argument_spec(
            argument_spec={"destination": {"type": "str"}})
        return {**result, "changed": False,
                "address": controllertasks.source_address(params["destination"] or "")}
