"""What a policy check found: errors stop the play, warnings are shown and the play goes on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class PolicyReport:
    """Errors stop the play; warnings are shown and the play goes on. ``policy`` is the resolved
    policy (defaults filled in, values canonical) once the checks have run."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    policy: dict[str, Any] = field(default_factory=dict)
