"""What it takes to bring a systemd unit to the wanted run and boot state (pacs_unit), decided from
one `systemctl show`: the systemctl verbs, and the states after them."""

from __future__ import annotations

# Enablement states in which the unit already starts at boot, or cannot be enabled (a static unit
# starts when another unit wants it): enabling is not a change there.
STARTS_AT_BOOT = frozenset({"enabled", "enabled-runtime", "static", "alias", "indirect", "generated"})
# Enablement states a disable changes.
DISABLABLE = frozenset({"enabled", "enabled-runtime"})
# Running, or on its way: starting again is not a change.
ACTIVE = frozenset({"active", "activating", "reloading"})


def steps(active: str, boot: str, state: str | None, enabled: bool | None) -> tuple[list[str], str, str]:
    """The systemctl verbs (start, stop, enable, disable) in order, then the ActiveState and
    UnitFileState they lead to. ``state`` is "started", "stopped" or None (left as it is);
    ``enabled`` True, False or None (left as it is)."""
    verbs: list[str] = []
    active_after, boot_after = active, boot
    if state == "started" and active not in ACTIVE:
        verbs, active_after = ["start"], "active"
    elif state == "stopped" and active in ACTIVE:
        verbs, active_after = ["stop"], "inactive"
    if enabled is True and boot not in STARTS_AT_BOOT:
        verbs, boot_after = [*verbs, "enable"], "enabled"
    elif enabled is False and boot in DISABLABLE:
        verbs, boot_after = [*verbs, "disable"], "disabled"
    return verbs, active_after, boot_after
