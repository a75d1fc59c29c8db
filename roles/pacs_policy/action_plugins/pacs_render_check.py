# Copyright: (c) 2026, pacsguard contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pacs_render_check in the controller's task worker: the module's check without a module process.

Every pacsguard role checks its settings (and stunnel's rendered file) on the controller before it
writes; as a module that costs a Python process per task and node. This plugin validates the same
options (the module's documentation is library/pacs_render_check.py) and runs the same code,
module_utils/pacsguard/controllertasks.py, in the process Ansible already forked for the task. The
roles include pacs_policy first, which brings this plugin; without it the module runs.
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
    """Read rendered configuration and role settings back on the controller
    (see library/pacs_render_check.py)."""

    TRANSFERS_FILES = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        _validation, params = self.validate_argument_spec(argument_spec=controllertasks.RENDER_CHECK_SPEC,
                                                          **controllertasks.RENDER_CHECK_RULES)
        answer, _secrets = controllertasks.run_render_check(params)
        return {**result, **answer}
