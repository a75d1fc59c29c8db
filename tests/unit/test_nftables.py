"""One drift check for every nftables table pacsguard loads (pacs_nft_drift)."""

from __future__ import annotations

import pytest

from pacsguard.nftables import table_drift

TABLE = "table inet pacsguard {\n\tchain input {\n\t\ttcp dport 4242 ip saddr @peers_v4 accept\n\t}\n}"
HOLE = TABLE.replace("\tchain input {\n", "\tchain input {\n\t\tip saddr 10.9.9.9 accept\n")


@pytest.mark.parametrize("live, saved, expected", [
    # as loaded (a saved copy ends with a newline that the live listing, as read, may not)
    (TABLE, TABLE + "\n",
     {"loaded": True, "saved": True, "drifted": False, "missing": False, "reload": False}),
    # a rule added by hand
    (HOLE, TABLE, {"loaded": True, "saved": True, "drifted": True, "missing": False, "reload": True}),
    # flushed or deleted since it was loaded
    (None, TABLE, {"loaded": False, "saved": True, "drifted": False, "missing": True, "reload": True}),
    # never loaded by pacsguard, or its copy is gone
    (TABLE, None, {"loaded": True, "saved": False, "drifted": False, "missing": False, "reload": True}),
    (None, None, {"loaded": False, "saved": False, "drifted": False, "missing": False, "reload": True}),
])
def test_a_table_is_loaded_again_unless_it_is_the_one_last_loaded(live, saved, expected):
    assert table_drift(live, saved) == expected
