"""Shared test set-up: module_utils, lab and tools on sys.path."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT / "module_utils", ROOT / "lab", ROOT / "tools"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
