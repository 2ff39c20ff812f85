#!/bin/bash
# The command line itself: help, version, list, probe.
. "$(dirname "$0")/../lib.sh"

ok_if "--version runs" "$CDM" --version
"$CDM" --version | grep -q "^  sqlite " && "$CDM" --version | grep -qE "^  likwid +(yes|no)" \
	&& "$CDM" --version | grep -qE "^  libcurl +" && "$CDM" --version | grep -qE "^  hip +(built|no)" && "$CDM" --version | grep -qE "^  cuda +(built|no)"
check "--version lists optional features" $? "feature lines missing"

for c in run list probe runs show export db help; do
	out=$("$CDM" help $c 2>&1) && echo "$out" | grep -q "usage: cdmbench $c"
	check "help $c" $? "$out"
done
out=$("$CDM" run --help) && echo "$out" | grep -q -- "--output-format"
check "run --help documents options" $? "$out"
expect_err "unknown command has a hint" 2 "did you mean 'probe'" "$CDM" prbe
expect_err "no command is a usage error" 2 "usage: cdmbench COMMAND" sh -c "'$CDM' 2>&1 >/dev/null | head -n1 >&2; exit 2"

# list shows every option of every workload with type, default and range
out=$("$CDM" list)
bad=0
for w in stream numa-migrate selftest; do
	echo "$out" | grep -q "^  $w " || bad=1
done
echo "$out" | grep -qE "^    size +size +32M +4K\.\.16G" || bad=1
echo "$out" | grep -qE "^    timeout +duration +5m" || bad=1
check "list: workloads and typed options" $bad "$out"
"$CDM" list --json >"$T_TMP/list.json" && [ "$(q :memory: "select json_valid(readfile('$T_TMP/list.json'))")" = 1 ] \
	&& [ "$(q :memory: "select json_array_length(readfile('$T_TMP/list.json'), '\$.workloads')")" -ge 3 ]
check "list --json is valid JSON" $? "$(head -c 300 "$T_TMP/list.json")"
expect_err "list of an unknown workload" 2 "did you mean 'stream'" "$CDM" list stram

# probe tells the truth about this machine
out=$("$CDM" probe --quick 2>&1)
rc=$?
echo "$out" | grep -qE "^kernel +yes +$(uname -r | sed 's/[.]/[.]/g')\$"
check "probe names the running kernel" $? "$out"
echo "$out" | grep -qE "^kmsg +(yes|no) "
check "probe reports /dev/kmsg" $? "$out"
if ls /dev/hmm_dmirror* >/dev/null 2>&1; then
	echo "$out" | grep -qE "^dmirror[0-3] +yes"
	check "probe lists the dmirror devices present" $? "$out"
else
	echo "$out" | grep -qE "^dmirror +no +no /dev/hmm_dmirror"
	check "probe says why there are no dmirror devices" $? "$out"
fi
nodes=$(cat /sys/devices/system/node/has_memory 2>/dev/null | tr ',' '\n' | awk -F- '{n += NF == 2 ? $2 - $1 + 1 : 1} END {print n + 0}')
echo "$out" | grep -qE "^numa.nodes +yes +${nodes:-1} with memory"
check "probe counts NUMA nodes like sysfs" $? "$out"
check "probe exits 0" $rc "rc=$rc"
"$CDM" probe --json --quick >"$T_TMP/p.json" && [ "$(q :memory: "select json_extract(readfile('$T_TMP/p.json'), '\$.kernel.value')")" = "$(uname -r)" ]
check "probe --json" $? "$(head -c 300 "$T_TMP/p.json")"
