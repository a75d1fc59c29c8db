"""docs/rules.md's controls table is the catalogue's (tools/rules_doc.py)."""

import subprocess
import sys
from pathlib import Path


def test_the_controls_table_of_the_docs_is_the_catalogues():
    tool = Path(__file__).resolve().parents[2] / "tools" / "rules_doc.py"
    run = subprocess.run([sys.executable, str(tool), "--check"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout
