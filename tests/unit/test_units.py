"""pacs_unit's decision: the systemctl verbs a unit needs, and none when it is as wanted."""

from __future__ import annotations

import pytest

from pacsguard.units import steps


@pytest.mark.parametrize("active, boot, state, enabled, verbs", [
    ("active", "enabled", "started", True, []),
    ("inactive", "enabled", "started", True, ["start"]),
    ("failed", "disabled", "started", True, ["start", "enable"]),
    ("activating", "enabled", "started", None, []),
    ("active", "static", "started", True, []),
    ("active", "alias", None, True, []),
    ("active", "enabled", "stopped", False, ["stop", "disable"]),
    ("inactive", "disabled", "stopped", False, []),
    ("inactive", "static", "stopped", False, []),
    ("inactive", "masked", None, True, ["enable"]),
    ("active", "disabled", None, None, []),
])
def test_verbs_only_for_what_differs(active, boot, state, enabled, verbs):
    assert steps(active, boot, state, enabled)[0] == verbs


def test_states_after_are_what_the_verbs_make():
    assert steps("failed", "disabled", "started", True)[1:] == ("active", "enabled")
    assert steps("active", "enabled", "stopped", False)[1:] == ("inactive", "disabled")
    assert steps("active", "enabled", None, None)[1:] == ("active", "enabled")
