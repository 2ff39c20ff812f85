#!/bin/bash
# vm ab: an interleaved A/B of two kernels (here one kernel, booted plain
# and with init_on_alloc=1 init_on_free=1) as one command that ends with
# compare's verdict and exit status. Whether the candidate is slower is
# the kernel's (and a loaded TCG host's) business, so the test checks the
# mechanics: order, tags, arguments, and that the verdict and exit status
# are compare's. Bad input: one line, exit 2, nothing booted.
. "$(dirname "$0")/../lib.sh"

DB=$T_TMP/ab.db
printf '[global]\nname = ab\nrepeat = 10\nwarmup = 2\n[migrate]\ndevice = private\nsize = 2M\n[fault-back]\ndevice = private\nsize = 1M\n' >"$T_TMP/ab.ini"
expect_err "vm ab without --base" 2 "vm ab: expected --base KERNEL and --cand KERNEL" "$CDM" vm ab --cand /etc/hostname "$T_TMP/ab.ini"
expect_err "vm ab with a missing kernel" 2 "vm ab: --cand /nonexistent: No such file" "$CDM" vm ab --base /etc/hostname --cand /nonexistent "$T_TMP/ab.ini"
expect_err "vm ab --runs 0" 2 "vm ab: --runs 0: expected a number of runs a side from 1 to 1000" "$CDM" vm ab --base /etc/hostname --cand /etc/hostname --runs 0 "$T_TMP/ab.ini"
expect_err "vm ab --kernel is refused with the fix" 2 "vm ab: --kernel: use --base/--cand" "$CDM" vm ab --base /etc/hostname --cand /etc/hostname --kernel x "$T_TMP/ab.ini"
[ ! -e "$DB" ]
check "bad input boots nothing and writes no database" $? ""

need_guest
# no_timer_check: on a loaded host a TCG guest's IO-APIC timer check can
# time out and panic ("IO-APIC + timer doesn't work!"); seen at load 20
"$CDM" vm ab --db "$DB" --base "$KERNEL" --cand "$KERNEL" --base-append no_timer_check \
	--cand-append 'no_timer_check init_on_alloc=1 init_on_free=1' \
	--runs 2 "$T_TMP/ab.ini" >"$T_TMP/ab.out" 2>"$T_TMP/ab.err"
rc=$?
sed -n '1,16p' "$T_TMP/ab.out" | sed 's/^/# /'
s=$(q "$DB" "select value from run_tags where key = 'ab-session' limit 1")
"$CDM" compare --db "$DB" "ab-session=$s,ab=base" "ab-session=$s,ab=cand" >"$T_TMP/cmp.out"
crc=$?
# each vm run prints its case lines first; the end is compare's table
[ $rc = $crc ] && [ $rc -le 1 ] && [ -s "$T_TMP/cmp.out" ] &&
	tail -n "$(wc -l <"$T_TMP/cmp.out")" "$T_TMP/ab.out" | cmp -s - "$T_TMP/cmp.out"
check "vm ab: ends with compare's table and exit status (rc=$rc, compare $crc)" $? "$(tail -n 5 "$T_TMP/ab.err")"
order=$(q "$DB" "select group_concat(t.value, ' ') from (select value from run_tags where key = 'ab' order by run_id) t")
[ "$order" = "base cand base cand" ]
check "vm ab: runs interleaved base, cand, base, cand ($order)" $? ""
[ "$(q "$DB" "select count(distinct value) from run_tags where key = 'ab-session'")" = 1 ] &&
	[ "$(q "$DB" "select count(*) from runs r where r.cmdline like '%init_on_free=1%' and exists (select 1 from run_tags t where t.run_id = r.id and t.key = 'ab' and t.value = 'cand')")" = 2 ]
check "vm ab: both sides tagged, one session; the candidate booted with its arguments" $? "$(q "$DB" "select run_id, key, value from run_tags")"
# a device case that times no control itself gets the harness's, the
# refault preferred, or the copy where the refault itself changed between
# the sides (which init_on_free may do: the kernel's business, so either
# passes); a refault is measured against the copy, the copy is raw
"$CDM" compare --db "$DB" -o json ab=base ab=cand >"$T_TMP/ab.json"
python3 - "$T_TMP/ab.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ctl = ("calib_bw", "calib_refault_bw", "memcpy_bw", "refault_bw")
copy_of = {"calib_refault_bw": "calib_bw", "refault_bw": "memcpy_bw"}
def against(m, refault):
    return m.get("control") == refault or (m.get("control") == copy_of[refault] and m.get("control_passed_over") == refault)
fb = [m for m in d["metrics"] if m["workload"] == "fault-back" and m["metric"] not in ctl]
mig = [m for m in d["metrics"] if m["workload"] == "migrate" and m["metric"] == "to_sys_bw"]
raw = [m for m in d["metrics"] if m["metric"] in ctl]
assert fb and all(against(m, "calib_refault_bw") for m in fb), fb[:1]
assert {m["metric"] for m in raw if m["workload"] == "fault-back"} == {"calib_bw", "calib_refault_bw"}, raw
assert all(m.get("control") == copy_of[m["metric"]] if m["metric"] in copy_of else not m.get("control") for m in raw), raw
assert mig and against(mig[0], "refault_bw"), mig
PY
check "in-run controls: migrate's refault_bw, the harness's calib_refault_bw for fault-back (or the copy, passing over a refault that changed); the refault in units of the copy, the copy raw" $? "$(head -c 600 "$T_TMP/ab.json")"
