# Copyright: (c) 2026, pacsguard contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pacs_policy in the controller's task worker: the module's check without a module process.

The roles run pacs_policy on the controller (``delegate_to: localhost``); as a module that costs a
Python process per task and node (about 0.5 s of a harden run per role that checks). This plugin
validates the same options (the module's documentation is library/pacs_policy.py) and runs the same
code, module_utils/pacsguard/controllertasks.py, in the process Ansible already forked for the task.
Secrets the policy holds (REST passwords, inline keys) are scrubbed from the result as the module
scrubs them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.parameters import remove_values
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
    """Check and resolve PACS policies on the controller (see library/pacs_policy.py)."""

    TRANSFERS_FILES = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        _validation, params = self.validate_argument_spec(argument_spec=controllertasks.POLICY_SPEC,
                                                          **controllertasks.POLICY_RULES)
        missing = controllertasks.missing_cryptography(params)
        if missing:
            return {**result, "failed": True, "msg": missing_required_lib("cryptography"),
                    "exception": missing}
        answer, secrets = controllertasks.run_policy(params)
        return remove_values({**result, **answer}, secrets)
