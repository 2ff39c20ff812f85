#!/bin/bash
# A guest runs the harness from the host over 9p. A rebuild that replaces
# the binary while `vm run` or `vm ab` goes on (make during a long session)
# must not change what the guest runs: it runs a private copy of the file
# the host process is running, made beside it and gone at the end.
. "$(dirname "$0")/../lib.sh"

need_guest
# a repository of our own: the binary and the initramfs it boots
R=$T_TMP/repo
mkdir -p "$R/build" "$T_TMP/tmp"
cp "$CDM" "$R/build/cdmbench" && cp "$TOP/build/initramfs.cpio" "$R/build/"
printf '[global]\nname = rebuild\nrepeat = 20\n[slow]\nworkload = selftest\nmode = slow\nsleep = 100ms\n' >"$T_TMP/job.ini"
TMPDIR=$T_TMP/tmp "$R/build/cdmbench" vm run -q --kernel "$KERNEL" --append no_timer_check \
	--db "$T_TMP/r.db" "$T_TMP/job.ini" >"$T_TMP/vm.out" 2>&1 &
pid=$!
# once the host process has made its share (after the copy), a rebuild
# replaces the file as the linker does (a new file in its place: the
# running one is busy); the guest has not booted yet
for _ in $(seq 1 100); do
	ls -d "$T_TMP"/tmp/cdmbench-vm.* >/dev/null 2>&1 && break
	sleep 0.1
done
copies=$(find "$R/build" -name '.cdmbench-guest.*' | wc -l)
cp /bin/true "$R/build/cdmbench.new" && mv -f "$R/build/cdmbench.new" "$R/build/cdmbench" &&
	cmp -s /bin/true "$R/build/cdmbench"
check "the binary was replaced while vm run went on" $? "$(ls -l "$R/build")"
wait $pid
rc=$?
[ "$copies" = 1 ]
check "the guest runs a private copy beside the binary" $? "copies: $copies"
[ $rc = 0 ] && [ "$(q "$T_TMP/r.db" "select status || '/' || (select verdict from cases) from runs")" = "completed/pass" ]
check "the binary replaced before the guest ran it: the run completes" $? "rc=$rc $(q "$T_TMP/r.db" "select status, status_reason from runs") $(tail -n 5 "$T_TMP/vm.out")"
[ -z "$(find "$R/build" -name '.cdmbench-guest.*')" ]
check "the private copy is removed at the end" $? "$(ls -a "$R/build")"
