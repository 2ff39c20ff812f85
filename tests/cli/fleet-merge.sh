#!/bin/bash
# cdmbench merge: idempotent by run uuid, provenance kept, never loses a
# sample, refuses what it cannot read with one line and writes nothing.
. "$(dirname "$0")/../lib.sh"

A=$T_TMP/a.db B=$T_TMP/b.db M=$T_TMP/m.db
"$CDM" run -q -w selftest --set samples=40 --set repeat=3 --db "$A" >/dev/null 2>&1
SLURMD_NODENAME=n7 SLURM_JOB_ID=41 SLURM_STEP_ID=0 \
	"$CDM" run -q -w stream --set size=64K --set repeat=4 --db "$B" >/dev/null 2>&1
"$CDM" run -q -w selftest --set samples=10 --db "$B" --tag node=tagged >/dev/null 2>&1

sum_src=$(( $(q "$A" "select count(*) from samples") + $(q "$B" "select count(*) from samples") ))
ok_if "merge two node databases" "$CDM" merge -q -o "$M" "$A" "$B"
[ "$(q "$M" "select count(*) from samples")" = "$sum_src" ] && [ "$sum_src" -gt 0 ]
check "every sample of both sources is in the merge ($sum_src)" $? "$(q "$M" "select count(*) from samples") != $sum_src"

# the same rows, value for value, joined through the shifted ids
dump() { q "$1" "select r.uuid, c.seq, m.name, s.seq, quote(s.value) from samples s join metrics m on m.id = s.metric_id join cases c on c.id = m.case_id join runs r on r.id = c.run_id order by 1,2,3,4"; }
[ "$( (dump "$A"; dump "$B") | sort)" = "$(dump "$M" | sort)" ]
check "samples keep run, case, metric and value through the merge" $? "dumps differ"
[ "$(q "$M" "select count(*) from summaries s join metrics m on m.id = s.metric_id")" = \
  "$(( $(q "$A" "select count(*) from summaries") + $(q "$B" "select count(*) from summaries") ))" ]
check "summaries follow their metrics" $? "summary count differs"

before=$(db_digest "$M")
ok_if "merging the same files again succeeds" "$CDM" merge -q -o "$M" "$A" "$B" "$A"
[ "$(db_digest "$M")" = "$before" ]
check "merging the same files again changes nothing (uuids dedupe)" $? "database changed"

r=$(q "$M" "select group_concat(n.node || '/' || n.slurm_job_id || '/' || (n.source <> ''), ' ') from run_nodes n join runs r on r.id = n.run_id order by n.node")
case "$r" in *n7/41/1*) ;; *) false ;; esac && case "$r" in *tagged//1*) ;; *) false ;; esac
check "provenance: Slurm node and job kept, the node tag used, source file recorded" $? "$r"
[ "$(q "$M" "select count(*) from runs r left join run_nodes n on n.run_id = r.id where n.source is null or n.source = ''")" = 0 ]
check "every merged run names its source file" $? "some run without provenance"
[ "$(q "$M" "pragma foreign_key_check" | wc -l)" = 0 ] && [ "$(q "$M" "pragma integrity_check")" = ok ]
check "the merge passes SQLite's integrity and foreign-key checks" $? "check failed"

# a run still 'running' (its node died) is kept and marked; a later,
# fuller copy of it replaces the partial one
P=$T_TMP/partial.db
cp "$A" "$P"
uuid=$(q "$P" "select uuid from runs limit 1")
q "$P" "update runs set status = 'running', owner_host = 'elsewhere' ; delete from samples where seq > 5" >/dev/null
M2=$T_TMP/m2.db
"$CDM" merge -q -o "$M2" "$P" >/dev/null 2>&1
r=$(q "$M2" "select status || '|' || status_reason from runs where uuid = '$uuid'")
case "$r" in interrupted*"when merged"*) true ;; *) false ;; esac
check "a run cut off mid-run is kept and marked interrupted" $? "$r"
part=$(q "$M2" "select count(*) from samples")
"$CDM" merge -q -o "$M2" "$A" >/dev/null 2>&1
[ "$(q "$M2" "select count(*) from samples")" = "$(q "$A" "select count(*) from samples")" ] &&
	[ "$(q "$M2" "select count(*) from runs")" = 1 ] && [ "$part" -lt "$(q "$A" "select count(*) from samples")" ]
check "a fuller copy of a run replaces its partial copy ($part samples before)" $? \
	"$(q "$M2" "select count(*) from runs"), $(q "$M2" "select count(*) from samples")"

# refusals: one line, exit 2, the destination untouched
N=$T_TMP/newer.db
cp "$A" "$N"
q "$N" "pragma user_version = 99" >/dev/null
before=$(db_digest "$M")
expect_err "a database with a newer schema is refused" 2 "newer.db: schema version 99 is newer" \
	"$CDM" merge -q -o "$M" "$B" "$N"
[ "$(db_digest "$M")" = "$before" ]
check "a refused merge writes nothing, not even the good sources" $? "destination changed"
O=$T_TMP/negative.db
cp "$A" "$O"
q "$O" "pragma user_version = -1000" >/dev/null
expect_err "a database with a negative schema version is refused" 2 "negative.db: schema version -1000 is not one cdmbench ever wrote" \
	"$CDM" merge -q -o "$M" "$O"
# what likwid saw of the host travels with it
t=$(q "$A" "select count(*) from host_topology")
[ "$t" -gt 0 ] && [ "$(q "$M" "select count(*) from host_topology")" -ge "$t" ]
check "host topology rows travel with their host ($t in a)" $? "$(q "$M" "select count(*) from host_topology")"
echo "not a database" >"$T_TMP/junk.db"
expect_err "a file that is not a database is refused" 2 "junk.db: not an SQLite database" \
	"$CDM" merge -q -o "$M" "$T_TMP/junk.db"
sqlite3 "$T_TMP/other.db" "create table t(x)"
expect_err "another application's database is refused" 2 "other.db: not a cdmbench database" \
	"$CDM" merge -q -o "$M" "$T_TMP/other.db"
expect_err "a missing source is refused" 2 "missing.db: No such file" \
	"$CDM" merge -q -o "$M" "$T_TMP/missing.db"
expect_err "merging a database into itself is refused" 2 "is the destination itself" \
	"$CDM" merge -q -o "$M" "$M"
expect_err "-o is required" 2 "-o DB is required" "$CDM" merge "$A"

# a new destination is built aside and linked into place only when done:
# a refused merge leaves no file at all, a finished one has the schema's
# every index (dropped during the bulk copy) and the WAL journal
expect_err "a refused merge into a new file" 2 "newer.db: schema version 99 is newer" \
	"$CDM" merge -q -o "$T_TMP/new.db" "$A" "$N"
[ -z "$(ls "$T_TMP" | grep -E '^new\.db')" ]
check "a refused merge into a new file leaves no file behind" $? "$(ls "$T_TMP")"
idx() { q "$1" "select name || ':' || sql from sqlite_schema where type = 'index' order by name"; }
[ "$(idx "$M")" = "$(idx "$A")" ] && [ "$(q "$M" "pragma journal_mode")" = wal ] &&
	[ -z "$(ls "$T_TMP" | grep -E 'merging')" ]
check "a new merge has every index of the schema, the WAL journal, no file left aside" $? \
	"$(idx "$M" | tr '\n' ' ') / $(q "$M" "pragma journal_mode") / $(ls "$T_TMP")"

# from 256 sources a new merge splits the work with a child process (its
# half merged in at the end): the same database as a merge in place,
# source by source, provenance included
mkdir -p "$T_TMP/many"
for i in $(seq -w 1 300); do
	cp "$A" "$T_TMP/many/n$i.db"
	q "$T_TMP/many/n$i.db" "update runs set uuid = 'u$i'; update run_tags set value = 'n$i' where key = 'node'" >/dev/null
done
ok_if "a new merge of 300 node databases" "$CDM" merge -q -o "$T_TMP/split.db" "$T_TMP"/many/n*.db
"$CDM" merge -q -o "$T_TMP/seq.db" "$T_TMP/many/n001.db" &&
	"$CDM" merge -q -o "$T_TMP/seq.db" "$T_TMP"/many/n*.db
prov() { q "$1" "select r.uuid, n.node, n.source from run_nodes n join runs r on r.id = n.run_id order by 1"; }
[ "$(dump "$T_TMP/split.db" | sort)" = "$(dump "$T_TMP/seq.db" | sort)" ] &&
	[ "$(prov "$T_TMP/split.db")" = "$(prov "$T_TMP/seq.db")" ] &&
	[ "$(q "$T_TMP/split.db" "select count(*) from runs")" = 300 ] &&
	[ "$(q "$T_TMP/split.db" "pragma integrity_check")" = ok ] &&
	[ -z "$(ls "$T_TMP" | grep merging)" ]
check "a merge split over two processes equals one in place: samples, provenance, 300 runs" $? \
	"$(q "$T_TMP/split.db" "select count(*) from runs") runs; $(prov "$T_TMP/split.db" | head -n 2)"
