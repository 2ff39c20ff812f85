#!/bin/bash
# compare in the emulated node. A/A: runs of the same kernel flag (almost)
# no regression, single runs and pooled ones. A/B: the same kernel booted
# with init_on_alloc=1 init_on_free=1 (which about doubles private
# device-to-system migration: the pages are zeroed) is a regression there;
# what it does to the rest is the kernel's business and is printed.
. "$(dirname "$0")/../lib.sh"

if ! "$CDM" help vm >/dev/null 2>&1; then
	skip "compare in the emulated node" "this cdmbench has no 'vm run'"
	exit 0
fi
need_guest

DB=$T_TMP/ab.db
cat >"$T_TMP/ab.ini" <<'INI'
[global]
name = compare-ab
repeat = 10
warmup = 2
[migrate]
device = private, coherent
size = 2M
[stream]
size = 4M
threads = 1
INI
RUNS=4
vm() { "$CDM" vm run --kernel "$KERNEL" --db "$DB" -q "$@" "$T_TMP/ab.ini" >>"$T_TMP/vm.out" 2>&1; }
bad=0
# interleaved, so that drift over time cannot pass for the A/B effect
for i in $(seq 1 $RUNS); do
	half=$((i % 2))
	vm --tag ab=base --tag aa=base-$half || bad=1
	vm --tag ab=cand --tag aa=cand-$half --append 'init_on_alloc=1 init_on_free=1' || bad=1
done
check "$((2 * RUNS)) runs in the emulated node" $bad "$(tail -n 8 "$T_TMP/vm.out")"
[ "$(q "$DB" "select count(*) from runs r where status = 'completed' and (select count(*) from cases c where c.run_id = r.id and verdict = 'pass') = 3")" = $((2 * RUNS)) ]
check "every run completed with 3 passing cases" $? "$(q "$DB" "select id, status, status_reason from runs")"

# --- A/A, the false-positive rate of single runs: every pair of one
# configuration. A one-against-one regression must exceed 95% of the
# differences seen between other runs of the configuration, so by
# construction about 5% of measurements can be flagged; the bound is 4x
# that, because a whole TCG run now and then comes out slow and then all
# its pairs differ (measured: one run in eight). ---
total=0 regress=0 sig=0 pairs=0
for tag in base cand; do
	ids=$(q "$DB" "select run_id from run_tags where key = 'ab' and value = '$tag' order by run_id")
	for a in $ids; do
		for b in $ids; do
			[ "$a" -lt "$b" ] || continue
			"$CDM" compare --db "$DB" -o json "$a" "$b" >"$T_TMP/aa.json"
			set -- $(python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
print(d['measurements'], d['regressions'], sum(m['significant'] for m in d['metrics'] if m['measurement'] == m['metric']))
" "$T_TMP/aa.json")
			total=$((total + $1)) regress=$((regress + $2)) sig=$((sig + $3)) pairs=$((pairs + 1))
		done
	done
done
echo "# A/A in the emulated node: $regress regressions, $sig significant changes in $total measurement comparisons over $pairs single-run pairs"
[ "$total" -gt 0 ] && [ $((regress * 5)) -le "$total" ]
check "A/A: single-run pairs flag at most 20% of measurements ($regress of $total)" $? ""
# --- A/A as regressions are meant to be checked: runs pooled per side
# (2 against 2 of the same configuration). How many a pool of real TCG
# runs flags is the emulated node's behaviour (a clean make test once saw
# 1, at threshold 25, where 4 such runs came out in two speed modes), so
# it is printed with the measurements, not asserted: compare's false
# positive rate is asserted on synthetic runs in the unit tests and
# measured by tests/bench/trust.sh. Asserted: each pool gets a verdict.
pooled_ok=0
for cfg in base cand; do
	"$CDM" compare --db "$DB" --threshold 25 -o json aa=$cfg-0 aa=$cfg-1 >"$T_TMP/aap.json"
	rc=$?
	n=$(q :memory: "select json_extract(readfile('$T_TMP/aap.json'), '\$.regressions')")
	echo "# A/A pooled ($cfg, 2 runs a side): ${n:-?} regressions $(python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
print(' '.join('%s:%s %+.1f%%' % (m['case'], m['metric'], m['gain_pct']) for m in d['metrics'] if m['change'] == 'regression'))
" "$T_TMP/aap.json" 2>/dev/null)"
	case "$rc:$n" in [01]:[0-9]*) pooled_ok=$((pooled_ok + 1)) ;; esac
done
[ "$pooled_ok" = 2 ]
check "A/A: pooled runs of one configuration get compare's verdict (printed above)" $? "verdicts $pooled_ok of 2"

# --- A/B: init_on_alloc=1 init_on_free=1 ---
"$CDM" compare --db "$DB" ab=base ab=cand >"$T_TMP/ab.txt"
rc=$?
cat "$T_TMP/ab.txt" | sed -n '1,24p' | sed 's/^/# /'
[ $rc = 1 ]
check "A/B: compare exits 1" $? "rc=$rc"
"$CDM" compare --db "$DB" -o json ab=base ab=cand >"$T_TMP/ab.json"
python3 - "$T_TMP/ab.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
m = {(r["case"], r["metric"]): r for r in d["metrics"]}
slow = m[("migrate[device=private]", "to_sys_page")]
# the direction and a clear slowdown are the kernel's promise; how much
# slower varies between runs (2x to 3.3x measured), so the upper bound
# only catches a unit or grouping mistake
assert slow["change"] == "regression" and 1.5 < slow["ratio"] < 10, slow
bw = m[("migrate[device=private]", "to_sys_bw")]
assert bw["change"] == "regression" and "to_sys_page" in bw["same_measurement"], bw
EOF
check "A/B: private device-to-system migration is a regression (at least 1.5x slower)" $? "$(grep -E '^migrate\[device=private\] +to_sys' "$T_TMP/ab.txt")"
# whether init_on_alloc/free touches coherent device-to-system or stream
# is the kernel's behaviour and varies between runs (a clean run once saw
# coherent to_sys -24.8%, q = 0.01): printed, not asserted
python3 - "$T_TMP/ab.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["metrics"]:
    if r["measurement"] == r["metric"] and (r["case"] == "stream" or r["case"] == "migrate[device=coherent]"):
        print("# %s:%s %s %+.1f%% (%s)" % (r["case"], r["metric"], r["change"], r["gain_pct"] or 0, r["basis"]))
EOF
# one candidate run against the pooled baseline: the comparison is there
# with its ratio; whether it reaches significance depends on how far the
# baseline's runs drift, so only the ratio is checked, and widely: a
# case's speed under TCG is bimodal (about 1.6x between the modes), so one
# run of a 2x slower kernel can read anywhere from 0.3 to 0.8
"$CDM" report --db "$DB" --baseline ab=base last -o "$T_TMP/ab.html" 2>/dev/null
ratio=$(grep -o '<td>migrate\[device=private\]</td><td>to_sys_bw</td><td>GB/s</td><td class="n">[^<]*</td><td class="n">[^<]*</td><td class="n">[^<]*</td>' "$T_TMP/ab.html" |
	sed 's/.*<td class="n">\([^<]*\)<\/td>$/\1/')
awk -v r="$ratio" 'BEGIN { exit !(r >= 0.2 && r <= 0.85) }'
check "the report of the candidate compares it with the baseline (private to_sys_bw ratio ${ratio:-missing})" $? ""
