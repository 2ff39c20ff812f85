#!/bin/bash
# stream's figures are physically possible: samples timed by the workers
# (earliest start to latest finish) over at least 64 MiB each, likwid-bench's
# copy recorded beside them at the same size and thread count (its median
# over runs taken through the case), and a sample
# far above the best sustained copy left out and named, never pooled.
. "$(dirname "$0")/../lib.sh"

DB=$T_TMP/s.db
"$CDM" run -q --db "$DB" -w stream --set size=4M --set threads=1 --set repeat=20 >"$T_TMP/out" 2>&1
check "stream runs" $? "$(cat "$T_TMP/out")"
fact() { q "$DB" "select value from case_info where key = '$1'"; }
p=$(fact passes)
case "$p" in "8 (each sample moves at least 64 MiB)") r=0 ;; *) r=1 ;; esac
check "a sample moves at least 64 MiB (4M arrays: 8 passes)" $r "passes = $p"
n=$(q "$DB" "select n + nonfinite from summaries s join metrics m on m.id = s.metric_id where m.name = 'copy_bw'")
bad=$(fact implausible_samples)
[ "$n" = 20 ] || { [ -n "$bad" ] && [ "$n" -lt 20 ]; }
check "every sample is pooled or left out by name (n=$n${bad:+; $bad})" $? ""
if command -v likwid-bench >/dev/null; then
	l=$(fact likwid_copy_bw)
	# one run before the samples and one after every 5th: 20 samples, 5 runs
	case "$l" in *" GB/s (median of 5 runs through the case: "*"; likwid-bench -t copy -i "*" -w S0:8388kB:1)") r=0 ;; *) r=1 ;; esac
	check "likwid-bench's copy is recorded beside stream's, same size and threads, at 5 moments of the case" $r "likwid_copy_bw = $l"
	# printed, not asserted: on a loaded machine either figure can be off
	q "$DB" "select printf('# copy_bw median %.2f GB/s, largest sample %.2f GB/s; %s', s.median, s.max, '$l')
		from summaries s join metrics m on m.id = s.metric_id where m.name = 'copy_bw'"
else
	skip "likwid-bench's copy beside stream's" "likwid-bench not installed (apt-get install likwid)"
fi
"$CDM" run -q --db "$DB" -w stream --set size=4M --set threads=1 --set repeat=3 --set reference=no >/dev/null 2>&1
[ "$(q "$DB" "select count(*) from case_info i join cases c on c.id = i.case_id where c.run_id = 2 and i.key = 'likwid_copy_bw'")" = 0 ]
check "reference = no runs no likwid-bench" $? ""
