"""Whether a pacsguard nftables table still is what pacsguard last loaded.

Every table pacsguard loads (the firewall, the TLS front's steering) is listed with ``nft list
table`` right after it is loaded and confirmed, and that listing is kept on the host. A run compares
the live listing with it: a table flushed, rolled back or edited by hand since is loaded again, and a
check run shows the difference instead. One comparison for every table, here.
"""

from __future__ import annotations

from typing import Any


def _listing(text: str | None) -> str | None:
    """A listing as compared: trailing newlines do not count (a saved copy ends with one)."""
    return None if text is None else text.rstrip("\n")


def table_drift(live: str | None, saved: str | None) -> dict[str, Any]:
    """Compare the live table (None: not loaded) with the copy saved when it was last loaded (None:
    never saved). ``reload``: a real run must load the table again; ``drifted``: both exist and
    differ (somebody changed the live table); ``missing``: it was loaded once and is gone."""
    live, saved = _listing(live), _listing(saved)
    drifted = live is not None and saved is not None and live != saved
    return {"loaded": live is not None, "saved": saved is not None, "drifted": drifted,
            "missing": live is None and saved is not None,
            "reload": live is None or saved is None or drifted}
