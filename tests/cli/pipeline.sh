#!/bin/bash
# A job file goes in; every sample comes out of SQLite with its context.
. "$(dirname "$0")/../lib.sh"

DB=$T_TMP/r.db
out=$("$CDM" run -q --db "$DB" --tag node=test01 --tag purpose=ci "$TOP/configs/smoke-cpu.ini" 2>&1)
rc=$?
check "smoke-cpu.ini runs and exits 0" $rc "$out"

n=$(q "$DB" "select count(*) from cases")
want=$("$CDM" run --dry-run "$TOP/configs/smoke-cpu.ini" | head -n1 | cut -d' ' -f1)
[ "$n" = "$want" ] && [ "$n" -ge 5 ]
check "one case row per expanded case ($want)" $? "cases=$n"

# every sample is stored, not only summaries: counts agree per metric
bad=$(q "$DB" "select count(*) from metrics m join summaries s on s.metric_id = m.id
	where s.n + s.nonfinite != (select count(*) from samples x where x.metric_id = m.id)")
[ "$bad" = 0 ]
check "summaries count exactly the stored samples" $? "$bad metrics disagree"
[ "$(q "$DB" "select count(*) from samples")" -ge 5000 ]
check "selftest stored 1000 samples per iteration" $? "samples=$(q "$DB" "select count(*) from samples")"
# a summary recomputed in SQL matches the stored one
q "$DB" "select m.id, s.min, s.max, s.mean from metrics m join summaries s on s.metric_id = m.id" >"$T_TMP/s"
ok=0
while IFS='|' read -r id mn mx mean; do
	got=$(q "$DB" "select printf('%.6g|%.6g|%.6g', min(value), max(value), avg(value)) from samples where metric_id = $id")
	want=$(q :memory: "select printf('%.6g|%.6g|%.6g', $mn, $mx, $mean)")
	[ "$got" = "$want" ] || { ok=1; echo "# metric $id: $got vs $want"; }
done <"$T_TMP/s"
check "stored min/max/mean agree with the samples" $ok "mismatch"

ctx=$(q "$DB" "select r.status, r.seed, r.job_name, length(r.job_text) > 100, h.cpus > 0, k.release, r.environment != '', r.kmsg_status != ''
	from runs r join hosts h on h.id = r.host_id join kernels k on k.id = r.kernel_id")
[ "$ctx" = "completed|1|smoke-cpu|1|1|$(uname -r)|1|1" ]
check "run context: status, seed, job, host, kernel, environment" $? "$ctx"
[ "$(q "$DB" "select group_concat(key || '=' || value, ',') from (select * from run_tags order by key)")" = "node=test01,purpose=ci" ]
check "tags are stored" $? "$(q "$DB" "select * from run_tags")"
[ "$(q "$DB" "select job_text = cast(readfile('$TOP/configs/smoke-cpu.ini') as text) from runs")" = 1 ]
check "the exact job text is stored" $? "differs"
[ "$(q "$DB" "select count(*) from cases where verdict = 'pass' and workload = 'stream'")" = 4 ]
check "stream cases pass" $? "$(q "$DB" "select name, verdict, reason from cases")"
v=$(q "$DB" "select verdict || ':' || reason from cases where workload = 'numa-migrate'")
nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
if [ "$nodes" -lt 2 ]; then
	case "$v" in skip:*"only one NUMA node"*) r=0 ;; *) r=1 ;; esac
	check "numa-migrate SKIPs with the reason on a one-node machine" $r "$v"
else
	[ "${v%%:*}" = pass ]
	check "numa-migrate passes with two nodes" $? "$v"
fi
[ "$(q "$DB" "select count(*) from metrics where better not in ('lower', 'higher') or unit = ''")" = 0 ]
check "every metric has a unit and a direction" $? ""

# the results view answers the usual question in one query
[ "$(q "$DB" "select count(*) from results where workload = 'stream' and metric = 'copy_bw' and median > 0")" = 4 ]
check "results view" $? "$(q "$DB" "select * from results limit 3")"

# read-side commands
out=$("$CDM" runs --db "$DB") && echo "$out" | grep -qE "^ +1 .* completed "
check "runs lists the run" $? "$out"
out=$("$CDM" show --db "$DB" last) && echo "$out" | grep -q "copy_bw" && echo "$out" | grep -q "kernel events:"
check "show last: cases, metrics, kernel events" $? "$out"
"$CDM" export --db "$DB" --format json 1 >"$T_TMP/e.json"
[ "$(q :memory: "select json_valid(readfile('$T_TMP/e.json'))")" = 1 ] &&
	[ "$(q :memory: "select sum(json_array_length(m.value, '\$.samples')) from json_each(readfile('$T_TMP/e.json'), '\$.cases') c, json_each(c.value, '\$.metrics') m")" = "$(q "$DB" "select count(*) from samples where value is not null or 1")" ]
check "export json: valid, every sample present" $? "$(head -c 200 "$T_TMP/e.json")"
"$CDM" export --db "$DB" --format csv -O "$T_TMP/e.csv" 1
[ "$(($(wc -l <"$T_TMP/e.csv") - 1))" = "$(q "$DB" "select count(*) from samples")" ] && head -n1 "$T_TMP/e.csv" | grep -q "^run_id,case_seq"
check "export csv: a header and one row per sample" $? "$(head -n 3 "$T_TMP/e.csv")"
out=$("$CDM" db check --db "$DB") && echo "$out" | grep -q "integrity *ok" && echo "$out" | grep -qE "schema version +$("$CDM" --version | sed -n 's/^schema version //p') "
check "db check" $? "$out"
out=$("$CDM" run --db "$DB" -o json -w selftest --set samples=3 --set repeat=2 2>/dev/null)
printf '%s' "$out" >"$T_TMP/run.json"
[ "$(q :memory: "select json_extract(readfile('$T_TMP/run.json'), '\$.cases[0].metrics[0].n')")" = 6 ]
check "run --output-format json" $? "$out"

# the same seed reproduces the same case seeds; another seed does not
"$CDM" run -q --db "$DB" --seed 77 -w selftest >/dev/null 2>&1
"$CDM" run -q --db "$DB" --seed 77 -w selftest >/dev/null 2>&1
"$CDM" run -q --db "$DB" --seed 78 -w selftest >/dev/null 2>&1
[ "$(q "$DB" "select count(*) || '/' || count(distinct c.seed) from cases c join runs r on r.id = c.run_id where r.seed in (77, 78)")" = 3/2 ]
check "case seeds derive from the run seed" $? "$(q "$DB" "select r.seed, c.seed from cases c join runs r on r.id = c.run_id")"
