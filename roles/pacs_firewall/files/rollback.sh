#!/bin/sh
# pacsguard firewall rollback: after SECONDS, restore the saved table unless the controller confirmed
# this change (by creating STATE_DIR/confirmed.TOKEN). Started in the background before every change.
# Usage: rollback.sh SECONDS TOKEN STATE_DIR
set -u
sleep "$1"
if [ ! -e "$3/confirmed.$2" ]; then
  if nft -f "$3/previous.nft"; then
    echo "rolled back at $(date -u +%FT%TZ): no confirmation for change $2" >"$3/rolled-back.$2"
    logger -t pacsguard "firewall change $2 not confirmed: previous table restored" 2>/dev/null || true
  fi
fi
