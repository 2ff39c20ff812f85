#!/bin/bash
# The GPU engines on a machine without a GPU (CI, these machines): the
# plugins build when their compiler is there and export only their table;
# hipcc leaves nothing in TMPDIR; --version and probe say what was built
# and what each runtime answers; every engine workload SKIPs with the
# runtime's own words; the GPU workloads' checks are live (on a stand-in
# engine where the CPU plays the device: a correct one passes, a broken
# one fails naming the page); bad engine options are one line, exit 2.
. "$(dirname "$0")/../lib.sh"

DB=$T_TMP/g.db
ENG=$TOP/build/engines
HIP_NODEV="hipGetDeviceCount: hipErrorNoDevice (error 100)"
CUDA_NODRV="cudaGetDeviceCount: cudaErrorInsufficientDriver: CUDA driver version is insufficient for CUDA runtime version (error 35)"
have_hipcc=$(command -v hipcc)
have_nvcc=$(command -v nvcc || { [ -x /usr/local/cuda/bin/nvcc ] && echo /usr/local/cuda/bin/nvcc; })
# the exact no-device answers hold only where there is no device
no_amd=$([ -e /dev/kfd ] || echo yes)
no_nvidia=$(ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1' || echo yes)

# --- the plugins ---

# the one symbol a plugin exports: its table
exports_only_table() {
	[ "$(nm -D --defined-only "$1" | awk '{print $3}')" = cdm_engine_plugin ]
}

if [ -n "$have_hipcc" ]; then
	[ -f "$ENG/hip.so" ] && exports_only_table "$ENG/hip.so"
	check "hip.so is built and exports only cdm_engine_plugin" $? "$(nm -D --defined-only "$ENG/hip.so" 2>&1 | head -n 5)"
	s=$(strings -a "$ENG/hip.so")
	echo "$s" | grep -q 'gfx90a:xnack+' && echo "$s" | grep -q 'gfx90a:xnack-'
	check "hip.so carries code for gfx90a:xnack+ and gfx90a:xnack-" $? "$(echo "$s" | grep -m 3 gfx)"
	# hipcc leaves two empty folders in TMPDIR per compile: ours stays clean
	mkdir -p "$T_TMP/tmpdir"
	out=$(TMPDIR=$T_TMP/tmpdir nice make -C "$TOP" --no-print-directory BUILD="$T_TMP/hb" "$T_TMP/hb/engines/hip.so" 2>&1)
	rc=$?
	[ $rc = 0 ] && [ -z "$(ls -A "$T_TMP/tmpdir")" ] && [ -z "$(ls -d "$T_TMP"/hb/engines/tmp* 2>/dev/null)" ]
	check "building hip.so leaves nothing in TMPDIR or the build folder" $? "rc=$rc $(ls -A "$T_TMP/tmpdir" "$T_TMP/hb/engines" 2>&1 | head -n 5) $out"
else
	skip "hip.so is built" "hipcc not installed (harness/setup.sh installs it)"
fi
if [ -n "$have_nvcc" ]; then
	[ -f "$ENG/cuda.so" ] && exports_only_table "$ENG/cuda.so"
	check "cuda.so is built and exports only cdm_engine_plugin" $? "$(nm -D --defined-only "$ENG/cuda.so" 2>&1 | head -n 5)"
else
	skip "cuda.so is built" "nvcc not found (PATH or /usr/local/cuda/bin)"
fi

# without a compiler make plans no plugin; with one it does
out=$(make -C "$TOP" -n --no-print-directory BUILD="$T_TMP/nb" HIPCC= NVCC= all 2>&1)
! echo "$out" | grep -qE 'hipcc|nvcc|\.so'
check "make builds no plugin when neither compiler is there" $? "$out"
out=$(make -C "$TOP" -n --no-print-directory BUILD="$T_TMP/nb" HIPCC=/x/hipcc NVCC=/x/nvcc all 2>&1)
echo "$out" | grep -q 'engines/hip.so' && echo "$out" | grep -q 'engines/cuda.so'
check "make plans hip.so and cuda.so when the compilers are there" $? "$out"

# --- --version and probe ---

out=$("$CDM" --version)
ok=0
if [ -n "$have_hipcc" ]; then
	echo "$out" | grep -qE "^  hip +built: $ENG/hip.so \(hipcc, HIP [0-9.]+, targets gfx90a:xnack\+ gfx90a:xnack-" || ok=1
fi
if [ -n "$have_nvcc" ]; then
	echo "$out" | grep -qE "^  cuda +built: $ENG/cuda.so \(nvcc, CUDART_VERSION [0-9]+" || ok=1
fi
check "--version names each plugin built, with its toolchain and targets" $ok "$out"
mkdir -p "$T_TMP/empty"
out=$(CDMBENCH_ENGINE_DIR=$T_TMP/empty "$CDM" --version)
echo "$out" | grep -qF "  hip         no (engine hip is not built: $T_TMP/empty/hip.so: No such file or directory (to build it, install hipcc" &&
	echo "$out" | grep -qF "  cuda        no (engine cuda is not built: $T_TMP/empty/cuda.so: No such file or directory (to build it, install the CUDA toolkit"
check "--version says how to build an engine that is not built" $? "$out"

out=$("$CDM" probe 2>&1)
if [ -n "$have_hipcc" ] && [ -n "$no_amd" ]; then
	echo "$out" | grep -qxF "hip              no   $HIP_NODEV" &&
		echo "$out" | grep -qE '^hip\.targets +yes +gfx90a:xnack\+ gfx90a:xnack-' &&
		echo "$out" | grep -qE '^hip\.gfx942 +yes +(not known to the hipcc|built)' &&
		echo "$out" | grep -qE '^hip\.HSA_XNACK ' && echo "$out" | grep -qE '^hip\.amdgpu\.noretry '
	check "probe: hip's own answer, targets, gfx942, HSA_XNACK, retry faults" $? "$(echo "$out" | grep '^hip')"
else
	skip "probe: hip's own answer" "hip.so not built, or an AMD GPU is here (/dev/kfd)"
fi
if [ -n "$have_nvcc" ] && [ -n "$no_nvidia" ]; then
	echo "$out" | grep -qxF "cuda             no   $CUDA_NODRV" &&
		echo "$out" | grep -qE '^cuda\.driver_version +yes +none' &&
		echo "$out" | grep -qE '^cuda\.kernel +yes .*6\.1\.24'
	check "probe: cuda's own answer, driver version, kernel for HMM" $? "$(echo "$out" | grep '^cuda')"
else
	skip "probe: cuda's own answer" "cuda.so not built, or an NVIDIA driver is here (libcuda.so.1)"
fi
out=$(CDMBENCH_ENGINE_DIR=$T_TMP/empty "$CDM" probe --json)
[ "$(echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["hip"]["ok"], "not built" in d["hip"]["value"], d["cuda"]["ok"])')" = "False True False" ]
check "probe --json: an engine not built is a 'no' saying so" $? "$out"

# --- every engine workload SKIPs with the runtime's own words ---

engine_workloads=$("$CDM" list --json | python3 -c '
import json, sys
for w in json.load(sys.stdin)["workloads"]:
    # engine-cost measures the dmirror engine against the bare ioctl only
    if any(o["name"] == "engine" for o in w["options"]) and w["name"] != "engine-cost":
        print(w["name"])')
[ "$(echo "$engine_workloads" | wc -w)" -ge 8 ]
check "list: eight or more workloads take engine=" $? "$engine_workloads"
# run_all ENGINE WANT: every engine workload is a SKIP with reason WANT
run_all() {
	local e=$1 want=$2 w bad=""
	for w in $engine_workloads; do
		# gup_test needs debugfs; io_uring is the long-term pin a GPU node has
		set -- --set repeat=1
		[ "$w" = pin-longterm ] && set -- "$@" --set method=io-uring
		"$CDM" run -q --db "$DB" -w "$w" --set "engine=$e" "$@" >/dev/null 2>&1
		r=$(q "$DB" "select verdict || ': ' || reason from cases where id = (select max(id) from cases)")
		[ "$r" = "skip: $want" ] || bad="$bad $w=[$r]"
	done
	[ -z "$bad" ]
	check "engine=$e: every engine workload SKIPs with the runtime's answer" $? "$bad"
}
if [ -n "$have_hipcc" ] && [ -n "$no_amd" ]; then
	run_all hip "$HIP_NODEV"
else
	skip "engine=hip SKIPs with hipErrorNoDevice" "hip.so not built, or an AMD GPU is here"
fi
if [ -n "$have_nvcc" ] && [ -n "$no_nvidia" ]; then
	run_all cuda "$CUDA_NODRV"
else
	skip "engine=cuda SKIPs with cudaErrorInsufficientDriver" "cuda.so not built, or an NVIDIA driver is here"
fi

# the acceptance configs: here every case carries the runtime's answer, and
# a gate that demands a pass (frontier: all, hopper: managed memory) fails
cfg_check() { # config engine want
	local rc=0 bad
	"$CDM" run -q --db "$T_TMP/$1.db" "$TOP/configs/$1.ini" >/dev/null 2>&1 || rc=$?
	bad=$(q "$T_TMP/$1.db" "select name || ': ' || reason from cases where reason not like '%' || '$3'")
	[ $rc = 1 ] && [ -z "$bad" ] && [ "$(q "$T_TMP/$1.db" "select count(*) from cases where backend = '$2'")" -ge 10 ]
	check "configs/$1.ini: every case answers with $2's words; the gate fails without a GPU" $? "rc=$rc $bad"
}
if [ -n "$have_hipcc" ] && [ -n "$no_amd" ]; then
	cfg_check frontier hip "$HIP_NODEV"
else
	skip "configs/frontier.ini without a GPU" "hip.so not built, or an AMD GPU is here"
fi
if [ -n "$have_nvcc" ] && [ -n "$no_nvidia" ]; then
	cfg_check hopper cuda "$CUDA_NODRV"
else
	skip "configs/hopper.ini without a GPU" "cuda.so not built, or an NVIDIA driver is here"
fi

# --- bad engine options ---

expect_err "an engine that does not exist" 2 "^cdmbench: --set engine=opencl: .*expected one of dmirror\|hip\|cuda" \
	"$CDM" run --db "$DB" -w gpu-migrate --set engine=opencl
expect_err "a device index out of range" 2 "^cdmbench: --set instance=64: " \
	"$CDM" run --db "$DB" -w gpu-atomics --set engine=hip --set instance=64
expect_err "an allocation kind that does not exist" 2 "^cdmbench: --set alloc=huge: .*expected one of system\|managed" \
	"$CDM" run --db "$DB" -w gpu-migrate --set alloc=huge

# --- the GPU workloads' checks are live: the CPU stands in for a GPU ---

STUB=$T_TMP/stub
mkdir -p "$STUB"
${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -fPIC -shared -I"$TOP/workloads" \
	-DSTUB_NAME='"hip"' -o "$STUB/hip.so" "$TOP/tests/engines/stub_engine.c"
check "the stand-in engine builds" $? ""
stub_run() { # verdict: reason of gpu-* on the stand-in, env first
	env CDMBENCH_ENGINE_DIR="$STUB" "$@" >/dev/null 2>&1
	q "$DB" "select verdict || ': ' || reason from cases where id = (select max(id) from cases)"
}
t0=$(date +%s)
out=$(CDMBENCH_ENGINE_DIR=$STUB CDM_STUB_HANG=1 CDMBENCH_PROBE_TIMEOUT=1 timeout 30 "$CDM" probe 2>&1)
rc=$?
echo "$out" | grep -qxF "hip              no   the hip runtime did not answer within 1 s (helper killed)" &&
	[ $rc = 0 ] && [ $(($(date +%s) - t0)) -le 10 ]
check "probe: a runtime that never answers is killed at the deadline" $? "rc=$rc $(echo "$out" | grep '^hip')"
r=$(stub_run "$CDM" run -q --db "$DB" -w gpu-atomics --set engine=hip --set repeat=3 --set rounds=64)
[ "$r" = "pass: " ]
check "gpu-atomics: exact sums when the device's adds are atomic" $? "$r"
r=$(stub_run CDM_STUB_BROKEN=lose-updates "$CDM" run -q --db "$DB" -w gpu-atomics --set engine=hip --set repeat=3 --set rounds=64)
case "$r" in "fail: CPU read after the race: page "*" word "*"a lost update") ok=0 ;; *) ok=1 ;; esac
check "gpu-atomics: a device whose adds are not atomic FAILs, naming page and word" $ok "$r"
r=$(stub_run CDM_STUB_MEMTYPE=coherent "$CDM" run -q --db "$DB" -w gpu-migrate --set engine=hip --set device=coherent --set size=1M --set repeat=2)
n=$(q "$DB" "select count(*) from samples s join metrics m on m.id = s.metric_id where m.case_id = (select max(id) from cases) and m.name in ('to_dev_link_ratio', 'to_sys_link_ratio')")
[ "$r" = "pass: " ] && [ "${n:-0}" -ge 4 ]
check "gpu-migrate: coherent pages stay put under a CPU touch; ratios to the link recorded" $? "$r; $n ratio samples"
r=$(stub_run "$CDM" run -q --db "$DB" -w gpu-migrate --set engine=hip --set size=1M --set repeat=2)
case "$r" in "fail: CPU touch of device-private pages (migrate_to_ram): 256 of 256 pages still on a device; first: page 0 "*) ok=0 ;; *) ok=1 ;; esac
check "gpu-migrate: device-private pages left on the device after a CPU touch FAIL" $ok "$r"
