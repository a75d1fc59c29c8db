#!/bin/sh
# pacsguard firewall guard: loads one candidate table and brings back the table it replaced unless
# the controller confirms the change in time. One change at a time (a lock), and a rollback only
# restores what this change replaced, only while the live table is still the one it loaded.
# Every outcome is written to STATE_DIR/<outcome>.TOKEN and to the system log (tag pacsguard).
#
# Usage: guard.sh TOKEN WAIT_SECONDS STATE_DIR TABLE
#   reads  STATE_DIR/candidate.TOKEN.nft
#   writes loaded.TOKEN (table loaded), failed.TOKEN (nothing loaded, with the reason),
#          done.TOKEN (confirmed | rolled-back | superseded | restore-failed), rolled-back.TOKEN
set -u
token=$1 wait_seconds=$2 dir=$3 table=$4

say() { # priority message
  logger -t pacsguard -p "user.$1" "firewall change $token: $2" 2>/dev/null || true
  echo "$(date -u +%FT%TZ) $token $2" >>"$dir/guard.log"
}
mark() { printf '%s\n' "$2" >"$dir/$1.$token.tmp" && mv "$dir/$1.$token.tmp" "$dir/$1.$token"; }
give_up() { say err "$1; nothing was loaded"; mark failed "$1"; exit 1; }

# One change at a time: wait for an earlier change to be confirmed or rolled back.
exec 9>"$dir/lock"
flock -w "$((wait_seconds + 60))" 9 || give_up "another change still holds $dir/lock"

# What to restore: the live table as it is now, or no table at all on a first apply.
previous="$dir/previous.$token.nft"
printf 'table inet %s\ndelete table inet %s\n' "$table" "$table" >"$previous" || give_up "cannot write $previous"
if nft list table inet "$table" >"$dir/replaced.$token.live" 2>/dev/null; then
  cat "$dir/replaced.$token.live" >>"$previous"
fi
nft -c -f "$previous" >/dev/null 2>&1 || give_up "the table to restore would not load back"
nft -f "$dir/candidate.$token.nft" 2>"$dir/load.$token.err" \
  || give_up "the new table did not load: $(head -c 300 "$dir/load.$token.err")"
nft list table inet "$table" >"$dir/loaded.$token.live"
mark loaded "table $table loaded"

# Wait for the controller to come back in through the new rules and confirm.
end=$(( $(date +%s) + wait_seconds ))
while [ "$(date +%s)" -lt "$end" ]; do
  if [ -e "$dir/confirmed.$token" ]; then
    say info "confirmed by the controller"
    rm -f "$previous" "$dir/replaced.$token.live" "$dir/loaded.$token.live" "$dir/load.$token.err" \
          "$dir/candidate.$token.nft"
    mark "done" confirmed
    exit 0
  fi
  sleep 1
done

# Not confirmed. Restore only if nobody has replaced this change's table since.
if ! nft list table inet "$table" >"$dir/now.$token.live" 2>/dev/null \
   || ! cmp -s "$dir/now.$token.live" "$dir/loaded.$token.live"; then
  say warning "not confirmed within ${wait_seconds}s, but the live table is no longer the one this change loaded: left as it is"
  mark "done" superseded
  exit 1
fi
if nft -f "$previous"; then
  say warning "not confirmed within ${wait_seconds}s: the table it replaced is restored"
  mark rolled-back "restored at $(date -u +%FT%TZ)"
  mark "done" rolled-back
  exit 0
fi
say err "not confirmed within ${wait_seconds}s, and the table it replaced could not be restored"
mark "done" restore-failed
exit 1
