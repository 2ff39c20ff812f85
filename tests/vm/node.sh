#!/bin/bash
# The emulated node: boots, shows 2 private and 2 coherent devices, moves
# data to each device and back intact, and a guest that panics or hangs
# is recorded as crashed with a failing exit status. Bad layouts and bad
# kernel trees are refused before anything boots.
. "$(dirname "$0")/../lib.sh"

need_guest
VM_RUN=("$CDM" vm run --kernel "$KERNEL")
# the job files live in the test's scratch dir: the guest sees host paths
DB=$T_TMP/vm.db

# --- the node as its own probe sees it ---
out=$("$CDM" vm exec --kernel "$KERNEL" -- probe 2>&1)
for m in 0 1; do
	echo "$out" | grep -qE "^dmirror$m +yes +/dev/hmm_dmirror$m private: 1-page migration landed in 0x22"
	check "guest probe: /dev/hmm_dmirror$m is private" $? "$out"
done
for m in 2 3; do
	echo "$out" | grep -qE "^dmirror$m +yes +/dev/hmm_dmirror$m coherent: 1-page migration landed in 0x42"
	check "guest probe: /dev/hmm_dmirror$m is coherent" $? "$out"
done
echo "$out" | grep -qE "^gup_test +yes" && echo "$out" | grep -qE "^io_uring +yes" &&
	echo "$out" | grep -qE "^numa.nodes +yes +2 with memory"
check "guest probe: gup_test, io_uring, two NUMA nodes" $? "$out"
echo "$out" | grep -qE "^environment +yes +qemu-(tcg|kvm)$"
check "guest probe: environment is qemu" $? "$out"

# --- a round trip on each of the four devices ---
cat >"$T_TMP/rt.ini" <<'INI'
[global]
repeat = 2
[roundtrip]
workload = migrate
device = private, coherent
instance = 0, 1
size = 256K
INI
"${VM_RUN[@]}" --db "$DB" --tag purpose=vm-test "$T_TMP/rt.ini" >"$T_TMP/rt.out" 2>&1
rc=$?
check "vm run of 4 round trips exits 0" $rc "$(tail -n 8 "$T_TMP/rt.out")"
r=$(q "$DB" "select group_concat(v, ' ') from (select i.value || '=' || c.verdict as v from cases c join case_info i on i.case_id = c.id and i.key = 'device' order by i.value)")
[ "$r" = "/dev/hmm_dmirror0 (private)=pass /dev/hmm_dmirror1 (private)=pass /dev/hmm_dmirror2 (coherent)=pass /dev/hmm_dmirror3 (coherent)=pass" ]
check "each of the 4 devices: data intact, placement as SNAPSHOT says" $? "$r"
[ "$(q "$DB" "select count(*) from case_info where key = 'integrity' and value like 'ok%'")" = 4 ]
check "integrity recorded per device" $? ""
ctx=$(q "$DB" "select r.status, r.environment like 'qemu-%', k.release, r.cmdline like '%memmap=512M\$0x100000000%', h.numa_nodes, (select count(*) from devices d where d.run_id = r.id), length(k.config_digest), (select length(text) > 1000 from run_logs l where l.run_id = r.id and l.name = 'console') from runs r join kernels k on k.id = r.kernel_id join hosts h on h.id = r.host_id")
want_rel=$(sed -n 's/.*"release": "\([^"]*\)".*/\1/p' "$(dirname "$KERNEL")/kernel.json")
[ "$ctx" = "completed|1|$want_rel|1|2|4|64|1" ]
check "the run carries the guest's kernel, cmdline, devices and console" $? "$ctx (want release $want_rel)"
digest=$(sed -n 's/.*"config_sha256": "\([^"]*\)".*/\1/p' "$(dirname "$KERNEL")/kernel.json")
[ "$(q "$DB" "select config_digest from kernels k join runs r on r.kernel_id = k.id")" = "$digest" ]
check "the guest's config digest is the one the build recorded" $? ""

# --- a guest that panics on purpose ---
cat >"$T_TMP/one.ini" <<'INI'
[one]
workload = selftest
INI
start=$SECONDS
"${VM_RUN[@]}" --db "$DB" --test-flag cdmbench.panic_test=1 "$T_TMP/one.ini" >"$T_TMP/p.out" 2>&1
rc=$?
[ $rc = 1 ]
check "a panicking guest makes vm run exit 1" $? "rc=$rc $(tail -n 3 "$T_TMP/p.out")"
r=$(q "$DB" "select status || '|' || status_reason from runs order by id desc limit 1")
case "$r" in "crashed|guest crashed: Kernel panic"*) x=0 ;; *) x=1 ;; esac
check "a panicking guest is recorded as crashed, naming the panic" $x "$r"
q "$DB" "select text from run_logs where name = 'console' and run_id = (select max(id) from runs)" | grep -q "Kernel panic - not syncing"
check "the console log of the crashed guest is stored" $? ""

# --- a guest that hangs ---
start=$SECONDS
"${VM_RUN[@]}" --db "$DB" --timeout 25s --test-flag cdmbench.hang_test=1 "$T_TMP/one.ini" >"$T_TMP/h.out" 2>&1
rc=$?
took=$((SECONDS - start))
[ $rc = 1 ] && [ $took -lt 60 ]
check "a hung guest is killed at --timeout (${took}s) and vm run exits 1" $? "rc=$rc $(tail -n 3 "$T_TMP/h.out")"
r=$(q "$DB" "select status || '|' || status_reason from runs order by id desc limit 1")
case "$r" in "crashed|guest hung"*"hang_test"*) x=0 ;; "crashed|guest hung"*) x=0 ;; *) x=1 ;; esac
check "a hung guest is recorded as crashed" $x "$r"
! pgrep -f "cdmout.*$(basename "$T_TMP")" >/dev/null && ! pgrep -f "qemu-system-x86_64.*$KERNEL.*hang_test" >/dev/null
check "no QEMU is left running" $? "$(pgrep -af qemu-system)"

# --- refused before anything boots ---
N=$(q "$DB" "select count(*) from runs")
expect_err "--mem too small" 2 "--mem 2G: too small" "${VM_RUN[@]}" --db "$DB" --mem 2G "$T_TMP/one.ini"
expect_err "misaligned reservation" 2 "--spm-base 0x100100000: not 2 MiB aligned" "${VM_RUN[@]}" --db "$DB" --spm-base 0x100100000 "$T_TMP/one.ini"
expect_err "reservation in low RAM" 2 "--spm-base 0x80000000: below 4 GiB" "${VM_RUN[@]}" --db "$DB" --spm-base 0x80000000 "$T_TMP/one.ini"
expect_err "reservation past the end of RAM" 2 "--spm-base 0x130000000: the 512M reservation ends at 0x150000000, past the guest RAM" "${VM_RUN[@]}" --db "$DB" --spm-base 0x130000000 "$T_TMP/one.ini"
expect_err "odd CPU count" 2 "--cpus 3: expected 1 or an even number" "${VM_RUN[@]}" --db "$DB" --cpus 3 "$T_TMP/one.ini"
expect_err "memmap in --append" 2 "--append: memmap= and test_hmm.spm_addr" "${VM_RUN[@]}" --db "$DB" --append "memmap=1G\$0x200000000" "$T_TMP/one.ini"
printf '[a]\nworkload = migrate\nsize = 5K\n' >"$T_TMP/bad.ini"
expect_err "a bad job file is refused on the host" 2 "bad.ini:3: .*page size" "${VM_RUN[@]}" --db "$DB" "$T_TMP/bad.ini"
expect_err "missing kernel file" 2 "--kernel $T_TMP/nope: No such file" "$CDM" vm run --kernel "$T_TMP/nope" --db "$DB" "$T_TMP/one.ini"
mkdir -p "$T_TMP/bin"
for t in sqlite3; do ln -sf "$(command -v $t)" "$T_TMP/bin/$t"; done
expect_err "qemu missing" 2 "qemu-system-x86_64 not found.*apt-get install -y qemu-system-x86" env PATH="$T_TMP/bin" "$CDM" vm run --kernel "$KERNEL" --db "$DB" "$T_TMP/one.ini"
[ "$(q "$DB" "select count(*) from runs")" = "$N" ]
check "refused runs leave no trace in the database" $? ""

# --- kernel trees ---
mkdir -p "$T_TMP/notakernel"
echo "all:" >"$T_TMP/notakernel/Makefile"
expect_err "KSRC that is not a kernel tree" 1 "KSRC=.*notakernel is not a kernel tree" env KSRC="$T_TMP/notakernel" "$TOP/kernel/build.sh"
mkdir -p "$T_TMP/old/lib"
printf 'VERSION = 5\nPATCHLEVEL = 15\nSUBLEVEL = 0\nEXTRAVERSION =\n' >"$T_TMP/old/Makefile"
touch "$T_TMP/old/lib/test_hmm.c"
expect_err "KSRC older than 6.0" 1 "is Linux 5.15.0; cdmbench needs 6.0 or later" env KSRC="$T_TMP/old" "$TOP/kernel/build.sh"
# build tools missing and no root to install them: the exact apt-get line
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	mkdir -p "$T_TMP/notools" "$T_TMP/fake/lib" "$T_TMP/ncache"
	for f in /usr/bin/* /bin/*; do
		b=$(basename "$f")
		case $b in flex|bison) continue ;; esac
		[ -e "$T_TMP/notools/$b" ] || ln -s "$f" "$T_TMP/notools/$b"
	done
	printf 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\nEXTRAVERSION =\n' >"$T_TMP/fake/Makefile"
	touch "$T_TMP/fake/lib/test_hmm.c"
	chmod -R a+rwX "$T_TMP" && chmod a+x "$(dirname "$T_TMP")"
	expect_err "missing build tools without root" 1 "missing build tools; install them with: apt-get install -y flex bison" \
		setpriv --reuid=65534 --regid=65534 --clear-groups env PATH="$T_TMP/notools" HOME="$T_TMP" \
		CDMBENCH_CACHE="$T_TMP/ncache" KSRC="$T_TMP/fake" "$TOP/kernel/build.sh"
else
	skip "missing build tools without root" "needs root and setpriv to act as another user"
fi
SRC=$(sed -n 's/.*"source_tree": "\([^"]*\)".*/\1/p' "$(dirname "$KERNEL")/kernel.json")
if [ -d "$SRC" ]; then
	cp "$TOP/kernel/cdmbench.config" "$T_TMP/frag.config"
	printf 'CONFIG_CDMBENCH_NO_SUCH_OPTION=y\nCONFIG_NO_SUCH_EITHER=y\n' >>"$T_TMP/frag.config"
	CDMBENCH_CACHE=$T_TMP/cache CDMBENCH_FRAGMENT=$T_TMP/frag.config KSRC=$SRC \
		"$TOP/kernel/build.sh" >"$T_TMP/k.out" 2>"$T_TMP/k.err"
	rc=$?
	[ $rc != 0 ] && grep -q "required options not set.*CONFIG_CDMBENCH_NO_SUCH_OPTION=y(got n) CONFIG_NO_SUCH_EITHER=y(got n)" "$T_TMP/k.err" &&
		! ls "$T_TMP"/cache/kernel/*/bzImage >/dev/null 2>&1
	check "options the tree cannot set are listed before compiling" $? "rc=$rc $(tail -n 3 "$T_TMP/k.err")"
else
	skip "options the tree cannot set are listed" "source tree $SRC not cached"
fi
