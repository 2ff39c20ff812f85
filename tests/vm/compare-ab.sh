#!/bin/bash
# compare in the emulated node. A/A: runs of the same kernel flag no
# regression (the false-positive rate over every pair is printed). A/B:
# the same kernel booted with init_on_alloc=1 init_on_free=1 (which about
# doubles private device-to-system migration, the pages are zeroed) is a
# regression on the metrics it slows and not on those it leaves alone.
. "$(dirname "$0")/../lib.sh"

if ! "$CDM" help vm >/dev/null 2>&1; then
	skip "compare in the emulated node" "this cdmbench has no 'vm run'"
	exit 0
fi
KERNEL=$("$TOP/kernel/build.sh" --print-path 2>/dev/null)
if [ $? != 0 ] || ! command -v qemu-system-x86_64 >/dev/null; then
	skip "compare in the emulated node" "guest kernel or qemu missing ('make test' builds and installs them)"
	exit 0
fi

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
# configuration. Measured and printed, not bounded: under TCG a whole run
# now and then comes out slow (a stream run at half speed), and such a run
# really differs from the others ---
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
print(len(d['metrics']), d['regressions'], sum(m['significant'] for m in d['metrics']))
" "$T_TMP/aa.json")
			total=$((total + $1)) regress=$((regress + $2)) sig=$((sig + $3)) pairs=$((pairs + 1))
		done
	done
done
echo "# A/A in the emulated node: $regress regressions, $sig significant changes in $total metric comparisons over $pairs pairs"
# --- A/A as regressions are meant to be checked: runs pooled per side
# (2 against 2 of the same configuration) flag nothing. Under TCG a whole
# run drifts by up to about 25% (measured: one run in eight came out 25-30%
# slower on every metric), so a gate here needs a threshold above that;
# the A/B effect below is 2x and is checked at the default 5% ---
pooled=0
for cfg in base cand; do
	"$CDM" compare --db "$DB" --threshold 25 -o json aa=$cfg-0 aa=$cfg-1 >"$T_TMP/aap.json"
	n=$(q :memory: "select json_extract(readfile('$T_TMP/aap.json'), '\$.regressions')")
	echo "# A/A pooled ($cfg, 2 runs a side): ${n:-?} regressions"
	pooled=$((pooled + ${n:-99}))
done
[ "$total" -gt 0 ] && [ "$pooled" = 0 ]
check "A/A: pooled runs of one configuration flag no regression" $? "pooled regressions $pooled"

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
assert slow["change"] == "regression" and 1.5 < slow["ratio"] < 3, slow
assert m[("migrate[device=private]", "to_sys_bw")]["change"] == "regression"
EOF
check "A/B: private device-to-system migration is a regression (about 2x)" $? "$(grep -E '^migrate\[device=private\] +to_sys' "$T_TMP/ab.txt")"
python3 - "$T_TMP/ab.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
left_alone = [r for r in d["metrics"] if r["case"] == "stream"
              or (r["case"] == "migrate[device=coherent]" and r["metric"] in ("to_sys_page", "to_sys_bw", "memcpy_bw"))]
assert len(left_alone) == 5
flagged = [(r["case"], r["metric"]) for r in left_alone if r["change"] == "regression"]
assert not flagged, flagged
EOF
check "A/B: what it leaves alone (stream, coherent device-to-system) is not flagged" $? "$(grep -E '^(stream|migrate\[device=coherent\])' "$T_TMP/ab.txt")"
# one candidate run against the pooled baseline: the comparison is there
# with its ratio; whether it reaches significance depends on how far the
# baseline's runs drift, so only the ratio is checked
"$CDM" report --db "$DB" --baseline ab=base last -o "$T_TMP/ab.html" 2>/dev/null
ratio=$(grep -o '<td>migrate\[device=private\]</td><td>to_sys_page</td><td>ns</td><td class="n">[^<]*</td><td class="n">[^<]*</td><td class="n">[^<]*</td>' "$T_TMP/ab.html" |
	sed 's/.*<td class="n">\([^<]*\)<\/td>$/\1/')
awk -v r="$ratio" 'BEGIN { exit !(r >= 1.5 && r <= 3) }'
check "the report of the candidate compares it with the baseline (private to_sys_page ratio ${ratio:-missing})" $? ""
