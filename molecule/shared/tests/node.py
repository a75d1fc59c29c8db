"""What every host-side test module shares: the container to test and the policy from inventory.

The scenario's verify playbook sets PG_PACS_CONTAINER (the container) and PG_POLICY (the node's
policy, user names only, never passwords). module_utils goes on the path for the parsers.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "module_utils"))

if "PG_PACS_CONTAINER" not in os.environ or "PG_POLICY" not in os.environ:
    raise RuntimeError("run from the scenario's verify playbook: PG_PACS_CONTAINER and PG_POLICY unset")
HOSTS = [f"podman://{os.environ['PG_PACS_CONTAINER']}"]
POLICY = json.loads(os.environ["PG_POLICY"])
