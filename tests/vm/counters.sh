#!/bin/bash
# Kernel events per phase in the emulated node (issue 12): every device
# case records its counts per phase, the guest kernel offers the mm
# tracepoints (kernel/cdmbench.config turns the tracing core on), and a
# comparison of two boot configurations (init_on_alloc=1 init_on_free=1
# against the default) shows the events beside the timing changes. Event
# counts are kernel behaviour: printed, with only their presence asserted.
. "$(dirname "$0")/../lib.sh"

need_guest
DB=$T_TMP/k.db
cat >"$T_TMP/k.ini" <<'INI'
[global]
name = counters
repeat = 8
warmup = 1
tracepoints = yes
[migrate]
device = private, coherent
size = 2M
[fault-back]
device = private, coherent
size = 1M
[atomics]
device = private, coherent
size = 1M
INI
vm() { "$CDM" vm run --kernel "$KERNEL" --db "$DB" -q "$@" "$T_TMP/k.ini" >>"$T_TMP/vm.out" 2>&1; }
vm --tag boot=default
check "a run in the emulated node" $? "$(tail -n 8 "$T_TMP/vm.out")"
vm --tag boot=init_on_free --append 'init_on_alloc=1 init_on_free=1'
check "a run with init_on_alloc=1 init_on_free=1" $? "$(tail -n 8 "$T_TMP/vm.out")"

# every device case, both runs: its phases counted
missing=$(q "$DB" "select c.run_id || ' ' || c.name from cases c where c.backend = 'dmirror' and c.verdict = 'pass' and not exists (select 1 from case_counters k where k.case_id = c.id and k.phase = 'run' and k.source = 'perf')")
[ -z "$missing" ] && [ "$(q "$DB" "select count(*) from cases where backend = 'dmirror' and verdict = 'pass'")" = 12 ]
check "every device case records perf counts for its phases" $? "without: $missing; $(q "$DB" "select name, verdict, reason from cases where verdict != 'pass'")"
bad=$(q "$DB" "select c.run_id || ' ' || c.name || ' ' || coalesce(k.phase, '?') || ' count=' || coalesce(k.value, 0) from cases c left join case_counters k on k.case_id = c.id and k.source = 'phase' and k.event = 'count' and k.phase in ('to_dev', 'to_sys') where c.workload = 'migrate' and (k.value is null or k.value != 8)")
[ -z "$bad" ]
check "migrate: phases to_dev and to_sys counted once per measured iteration (8)" $? "$bad"
bad=$(q "$DB" "select c.run_id || ' ' || c.name || ' ' || k.phase || ' pages=' || k.value from cases c join case_counters k on k.case_id = c.id and k.source = 'phase' and k.event = 'pages' and k.phase in ('to_dev', 'to_sys') where c.workload = 'migrate' and k.value != 8 * 512")
[ -z "$bad" ]
check "migrate: 512 pages per phase entry" $? "$bad"
st=$(q "$DB" "select distinct status from counter_status where source = 'trace'")
[ "${st#on: }" != "$st" ]
check "the guest kernel offers mm tracepoints ($st)" $? "$st"
n=$(q "$DB" "select count(distinct event) from case_counters where source = 'trace' and phase = 'to_dev'")
[ "$n" -gt 0 ]
check "tracepoints counted in phase to_dev ($n events)" $? ""
st=$(q "$DB" "select distinct status from counter_status where source = 'likwid'")
case $st in
unavailable:?*) [ "$(q "$DB" "select count(*) from case_counters where source = 'likwid'")" = 0 ] ;;
on*) [ "$(q "$DB" "select count(*) from case_counters where source = 'likwid'")" -gt 0 ] ;;
*) false ;;
esac
check "hardware counters in the guest: values, or the reason and no value ($st)" $? ""

echo "# per page, migrate in the default boot (kernel behaviour, printed):"
q "$DB" "select c.device_type, k.phase, k.source || ':' || k.event, printf('%.3f', k.value / p.value) from cases c join case_counters k on k.case_id = c.id join case_counters p on p.case_id = c.id and p.phase = k.phase and p.source = 'phase' and p.event = 'pages' where c.run_id = 1 and c.workload = 'migrate' and k.phase in ('to_dev', 'to_sys') and k.source in ('perf', 'trace', 'vmstat') and k.value != 0 and k.event not like 'nr_%' order by 1, 2, 3" |
	sed 's/^/#   /'

# two boot configurations: events beside each timing change
"$CDM" compare --db "$DB" 1 2 >"$T_TMP/cmp.out" 2>&1
sed 's/^/# /' "$T_TMP/cmp.out" | grep -A40 "kernel events beside"
# a gain flanked by '*' is a significant change: each gets one events line
flagged=$(grep -cE '\*[-+][0-9.]+%\*' "$T_TMP/cmp.out")
lines=$(grep -cE '^  .* [+-][0-9.]+%: phase ' "$T_TMP/cmp.out")
[ "$lines" = "$flagged" ]
check "compare of the two boots: every timing change has its events line ($lines of $flagged)" $? "$(tail -n 20 "$T_TMP/cmp.out")"
if grep -qE ' to_sys_[a-z]+ .*\*[-+][0-9.]+%\*' "$T_TMP/cmp.out"; then
	grep -qE ' to_sys_[a-z]+ [+-][0-9.]+%: phase to_sys: ' "$T_TMP/cmp.out"
	check "a to_sys change is explained by the events of phase to_sys" $? "$(grep -A20 'kernel events beside' "$T_TMP/cmp.out")"
else
	skip "a to_sys change is explained by phase to_sys" "no to_sys metric changed between the two boots in this run (TCG timing)"
fi
