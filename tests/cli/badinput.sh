#!/bin/bash
# Bad input: one line naming the file:line or option, a non-zero exit, and
# the database exactly as it was.
. "$(dirname "$0")/../lib.sh"

DB=$T_TMP/keep.db
"$CDM" run -q --db "$DB" -w selftest --set repeat=3 >/dev/null 2>&1
BEFORE=$(db_digest "$DB")
intact() {
	[ "$(db_digest "$DB")" = "$BEFORE" ]
	check "$1: database left intact" $? "digest changed"
}

job() { printf "$2" >"$T_TMP/$1.ini"; echo "$T_TMP/$1.ini"; }

J=$(job malformed '[a]\nworkload = stream\nthis is not a key value line\n')
expect_err "malformed INI names file:line" 2 "malformed.ini:3: malformed line" "$CDM" run --db "$DB" "$J"
intact "malformed INI"
J=$(job unclosed '[a\nworkload = stream\n')
expect_err "unclosed section header" 2 "unclosed.ini:1: malformed" "$CDM" run --db "$DB" "$J"
J=$(job key '[a]\nworkload = stream\nsise = 4K\n')
expect_err "unknown key, with a hint" 2 "key.ini:3: unknown option 'sise' .*did you mean 'size'" "$CDM" run --db "$DB" "$J"
intact "unknown key"
J=$(job wl '[a]\nworkload = strem\n')
expect_err "unknown workload, with a hint" 2 "wl.ini:2: unknown workload 'strem' .*did you mean 'stream'" "$CDM" run --db "$DB" "$J"
expect_err "unknown -w workload" 2 "-w numa: unknown workload 'numa'.*numa-migrate" "$CDM" run --db "$DB" -w numa
for v in "0:must not be 0" "-4K:negative" "99999999999999999999:overflows" "16777216T:overflows" "4097:page size" "4Q:unknown unit"; do
	val=${v%%:*} want=${v#*:}
	J=$(job size "[a]\nworkload = stream\nsize = $val\n")
	expect_err "size = $val" 2 "size.ini:3: .*$want" "$CDM" run --db "$DB" "$J"
	expect_err "--set size=$val" 2 "^cdmbench: --set size=$val: .*$want" "$CDM" run --db "$DB" -w stream --set "size=$val"
done
intact "bad sizes"
expect_err "bad duration" 2 "--set timeout=10parsecs: .*unknown unit" "$CDM" run --db "$DB" -w selftest --set timeout=10parsecs
expect_err "bad --set syntax" 2 "--set size: expected key=value" "$CDM" run --db "$DB" -w stream --set size
expect_err "bad --seed" 2 "--seed: 'x' is not an integer" "$CDM" run --db "$DB" -w stream --seed x
expect_err "bad --tag" 2 "--tag nokey: expected KEY=VALUE" "$CDM" run --db "$DB" -w stream --tag nokey
expect_err "bad --output-format" 2 "--output-format xml: expected text or json" "$CDM" run --db "$DB" -w stream -o xml
expect_err "missing job file" 2 "nope.ini: cannot read job file: No such file" "$CDM" run --db "$DB" "$T_TMP/nope.ini"
printf 'a\0b' >"$T_TMP/bin.ini"
expect_err "binary job file" 2 "contains NUL bytes" "$CDM" run --db "$DB" "$T_TMP/bin.ini"
intact "bad options"

# database paths
expect_err "db in a missing directory" 2 "--db .*/no/such/x.db: directory '.*/no/such' does not exist" "$CDM" run --db "$T_TMP/no/such/x.db" -w selftest
mkdir "$T_TMP/ro"
if [ "$(id -u)" = 0 ]; then
	mount -t tmpfs -o ro,size=1m tmpfs "$T_TMP/ro" 2>/dev/null && RO_MOUNTED=1
else
	chmod 555 "$T_TMP/ro" && RO_MOUNTED=1
fi
if [ "${RO_MOUNTED:-0}" = 1 ]; then
	expect_err "db in a read-only directory" 2 "--db .*/ro/x.db: cannot create the database in '.*/ro'" "$CDM" run --db "$T_TMP/ro/x.db" -w selftest
	[ "$(id -u)" = 0 ] && umount "$T_TMP/ro"
else
	skip "db in a read-only directory" "cannot make a read-only directory here"
fi
echo "this is not a database, just a text file with some words in it" >"$T_TMP/text.db"
cp "$T_TMP/text.db" "$T_TMP/text.orig"
expect_err "a file that is not SQLite" 2 "text.db: not an SQLite database" "$CDM" run --db "$T_TMP/text.db" -w selftest
cmp -s "$T_TMP/text.db" "$T_TMP/text.orig"
check "a non-SQLite file is left untouched" $? "file changed"
cp "$DB" "$T_TMP/newer.db"
sqlite3 "$T_TMP/newer.db" "PRAGMA user_version = 999"
N_BEFORE=$(db_digest "$T_TMP/newer.db")
expect_err "a database with a newer schema" 2 "newer.db: schema version 999 is newer than this cdmbench supports" "$CDM" run --db "$T_TMP/newer.db" -w selftest
expect_err "runs on a newer schema" 2 "schema version 999" "$CDM" runs --db "$T_TMP/newer.db"
[ "$(db_digest "$T_TMP/newer.db")" = "$N_BEFORE" ]
check "a newer-schema database is left intact" $? "digest changed"
sqlite3 "$T_TMP/other.db" "create table t(x); insert into t values (1)"
expect_err "another application's SQLite file" 2 "not a cdmbench one" "$CDM" run --db "$T_TMP/other.db" -w selftest
expect_err "show: unknown run id" 2 "no run '42'" "$CDM" show --db "$DB" 42
expect_err "show: database missing" 2 "no such database" "$CDM" show --db "$T_TMP/absent.db" 1
expect_err "export: bad format" 2 "--format yaml: expected json, csv, junit or tap" "$CDM" export --db "$DB" --format yaml 1
intact "read commands"
