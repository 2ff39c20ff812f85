#!/bin/bash
# Every write error is reported with a non-zero exit, and the totals a run
# prints count what was stored. A full disk is a small tmpfs (we are
# root); without root this skips with the reason.
. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" != 0 ]; then
	skip "full disk" "not root: cannot mount a small tmpfs"
	exit 0
fi
FULL=$T_TMP/full
mkdir -p "$FULL"
if ! mount -t tmpfs -o size=64k tmpfs "$FULL" 2>"$T_TMP/mnt.err"; then
	skip "full disk" "mount -t tmpfs failed: $(cat "$T_TMP/mnt.err")"
	exit 0
fi
trap 'umount "$FULL" 2>/dev/null; umount "$T_TMP/small" 2>/dev/null; [ -n "${KEEP_TMP:-}" ] || rm -rf "$T_TMP"' EXIT
dd if=/dev/zero of="$FULL/fill" bs=4k count=64 2>/dev/null

DB=$T_TMP/r.db
"$CDM" run -q --db "$DB" -w selftest --set repeat=3 >/dev/null 2>&1
"$CDM" run -q --db "$DB" -w selftest --set repeat=3 >/dev/null 2>&1

# standard output on a full disk: a non-zero exit and one line saying so
while IFS='|' read -r name args; do
	# shellcheck disable=SC2086
	"$CDM" $args >"$FULL/out" 2>"$T_TMP/err"
	rc=$?
	lines=$(wc -l <"$T_TMP/err")
	[ $rc -ne 0 ] && [ "$lines" = 1 ] && grep -q "writing standard output failed" "$T_TMP/err"
	check "$name on a full disk: exit $rc, one line" $? "$(cat "$T_TMP/err")"
done <<EOF2
runs|runs --db $DB
show|show --db $DB 1
list|list
run -n|run -n -w stream
compare|compare --db $DB 1 2
export|export --db $DB --format csv 1
history|history --db $DB selftest:iteration
report|report --db $DB 1
EOF2

# the disk fills during a run: the first case fits, the second does not
SMALL=$T_TMP/small
mkdir -p "$SMALL"
mount -t tmpfs -o size=1m tmpfs "$SMALL"
printf '[small]\nworkload = selftest\nrepeat = 3\n[big]\nworkload = selftest\nsamples = 100000\nrepeat = 3\nwarmup = 0\n' >"$T_TMP/fill.ini"
"$CDM" run --db "$SMALL/r.db" "$T_TMP/fill.ini" >"$T_TMP/out" 2>"$T_TMP/err"
rc=$?
[ $rc -ne 0 ]
check "a run that fills the disk exits non-zero ($rc)" $? "$(cat "$T_TMP/err")"
stored=$(q "$SMALL/r.db" "SELECT count(*) FROM cases WHERE verdict = 'pass'" 2>/dev/null || echo "?")
said=$(sed -n 's/^cdmbench: \([0-9]*\) pass.*/\1/p' "$T_TMP/err")
[ "${said:-0}" = "$stored" ]
check "the totals count the cases stored ($stored), not the cases run" $? "printed: $(grep '^cdmbench: [0-9]' "$T_TMP/err"), stored: $stored"
grep -q "1 NOT STORED" "$T_TMP/err"
check "the totals name the case that was not stored" $? "$(cat "$T_TMP/err")"
grep -qiE "full|No space" "$T_TMP/err"
check "the error says the disk is full" $? "$(cat "$T_TMP/err")"
