#!/bin/bash
# make run: build the guest kernel and initramfs (cached), boot the emulated
# node, run configs/smoke.ini in it, then say where the results are.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
CDM=$TOP/build/cdmbench
DB=${CDMBENCH_DB:-results/cdmbench.db}
JOB=${CDMBENCH_JOB:-configs/smoke.ini}
start=$SECONDS

echo "cdmbench: guest kernel (cached after the first build, ~4 min on 2 cores)"
kernel=$(kernel/build.sh) || exit 1
make --no-print-directory initramfs >/dev/null || exit 1
echo "cdmbench: booting the emulated node with $JOB"
mkdir -p results
"$CDM" vm run --kernel "$kernel" --db "$DB" "$JOB"
rc=$?
run=$(sqlite3 "$DB" "select max(id) from runs" 2>/dev/null)
echo
"$CDM" runs --db "$DB" --limit 1
if [ -n "$run" ] && "$CDM" help report >/dev/null 2>&1; then
	mkdir -p reports
	report=reports/run-$run.html
	"$CDM" report --db "$DB" -o "$report" "$run" && echo "cdmbench: report: $TOP/$report"
fi
echo "cdmbench: results: $TOP/$DB (run $run); try: build/cdmbench show --db $DB $run"
echo "cdmbench: make run took $((SECONDS - start)) s"
exit $rc
