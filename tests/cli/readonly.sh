#!/bin/bash
# Read commands open the database read-only: they leave the file as it is
# (no switch to WAL, no write at all) and work from a read-only mount,
# where a WAL database has no -shm to create (opened immutable).
. "$(dirname "$0")/../lib.sh"

DB=$T_TMP/w.db
"$CDM" run -q --db "$DB" -w selftest --set repeat=3 >/dev/null 2>&1
"$CDM" run -q --db "$DB" -w selftest --set repeat=3 >/dev/null 2>&1
[ "$(q "$DB" 'PRAGMA journal_mode')" = wal ]
check "run leaves a WAL database" $? "journal mode $(q "$DB" 'PRAGMA journal_mode')"

# every read command on a copy in rollback-journal mode keeps it so
cp "$DB" "$T_TMP/d.db"
q "$T_TMP/d.db" "PRAGMA journal_mode = DELETE" >/dev/null
BEFORE=$(sha256sum <"$T_TMP/d.db")
# compare between two real selftest runs: a verdict (cmp_verdict), not
# exit 0 (a clean make test had +50% on 3 samples)
reads() {
	"$CDM" runs --db "$1" &&
	"$CDM" show --db "$1" 1 &&
	"$CDM" export --db "$1" --format json 1 &&
	"$CDM" report --db "$1" -o - 1 &&
	cmp_verdict "$1" &&
	"$CDM" history --db "$1" selftest:iteration &&
	"$CDM" db check --db "$1"
}
reads "$T_TMP/d.db" >"$T_TMP/out" 2>&1
check "read commands succeed" $? "$(tail -n 5 "$T_TMP/out")"
[ "$(q "$T_TMP/d.db" 'PRAGMA journal_mode')" = delete ]
check "read commands do not switch a database to WAL" $? "journal mode is now $(q "$T_TMP/d.db" 'PRAGMA journal_mode')"
[ "$(sha256sum <"$T_TMP/d.db")" = "$BEFORE" ]
check "read commands do not write to the file" $? "the file changed"

# from a read-only mount: a tmpfs remounted read-only (we are root), else
# skip with the reason
MNT=$T_TMP/ro
mkdir -p "$MNT"
if [ "$(id -u)" != 0 ]; then
	skip "read commands from a read-only mount" "not root: cannot mount a tmpfs"
	exit 0
fi
if ! mount -t tmpfs -o size=64m tmpfs "$MNT" 2>"$T_TMP/mnt.err"; then
	skip "read commands from a read-only mount" "mount -t tmpfs failed: $(cat "$T_TMP/mnt.err")"
	exit 0
fi
trap 'umount "$MNT" 2>/dev/null; [ -n "${KEEP_TMP:-}" ] || rm -rf "$T_TMP"' EXIT
cp "$DB" "$MNT/w.db"
cp "$T_TMP/d.db" "$MNT/d.db"
if ! mount -o remount,ro "$MNT" 2>"$T_TMP/mnt.err"; then
	skip "read commands from a read-only mount" "remount,ro failed: $(cat "$T_TMP/mnt.err")"
	exit 0
fi
for f in w d; do
	reads "$MNT/$f.db" >"$T_TMP/out" 2>&1
	check "read commands on a read-only mount ($(q "$T_TMP/$f.db" 'PRAGMA journal_mode' 2>/dev/null || echo wal) journal)" $? "$(tail -n 5 "$T_TMP/out")"
done
ls "$MNT" >"$T_TMP/ls"
[ "$(cat "$T_TMP/ls" | tr '\n' ' ')" = "d.db w.db " ]
check "nothing was created on the read-only mount" $? "$(cat "$T_TMP/ls")"
# a copy taken while a writer was live: the last commit is only in the
# -wal; with its -shm, and without it (SQLite cannot build one on a
# read-only medium), the read commands must still show it
mkdir "$T_TMP/snap"
python3 - "$DB" "$T_TMP/snap" <<'PY'
import sqlite3, shutil, sys
db, snap = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db)
c.execute('PRAGMA wal_autocheckpoint = 0')
c.execute("INSERT INTO run_tags (run_id, key, value) VALUES (1, 'late', 'only-in-wal')")
c.commit()
for s in ('', '-wal', '-shm'):
    shutil.copy(db + s, snap + '/s.db' + s)
PY
umount "$MNT"
for files in "s.db s.db-wal s.db-shm" "s.db s.db-wal"; do
	mount -t tmpfs -o size=64m tmpfs "$MNT" && (cd "$T_TMP/snap" && cp $files "$MNT/") &&
		mount -o remount,ro "$MNT"
	"$CDM" runs --db "$MNT/s.db" >"$T_TMP/out" 2>&1
	grep -q "late=only-in-wal" "$T_TMP/out"
	check "a WAL snapshot on a read-only mount shows its last commit ($files)" $? "$(cat "$T_TMP/out")"
	umount "$MNT"
done
mount -t tmpfs -o size=64m tmpfs "$MNT" && cp "$DB" "$MNT/w.db" && mount -o remount,ro "$MNT"
expect_err "run on a read-only mount: one line, before the run begins" 2 "w.db: database is read-only: Read-only file system" "$CDM" run --db "$MNT/w.db" -w selftest
