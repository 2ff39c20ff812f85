#!/bin/bash
# The engine layer without a device: an engine named but not built is one
# line saying how to build it; the loader refuses a plugin of another ABI,
# of another name or without its mandatory hooks, each with the reason;
# a good plugin's init() answer becomes the case's SKIP reason word for
# word; cases store the engine as their backend; options the fixture added
# stay out of the match key until set; `list --json` declares what each
# workload verifies and its tamper option.
. "$(dirname "$0")/../lib.sh"

DB=$T_TMP/e.db
PLUG=$T_TMP/engines
mkdir -p "$PLUG"
CC=${CC:-cc}

# a plugin, compiled here against the contract, with what to vary
plugin() { # name file abi init_text [hooks]
	local name=$1 file=$2 abi=$3 why=$4 hooks=${5:-yes}
	cat >"$T_TMP/p.c" <<EOF
#include <stdio.h>
#include "engine/engine.h"
static int p_init(const struct cdm_engine_host *h, char *why, size_t len)
{ (void)h; snprintf(why, len, "%s", "$why"); return -19; }
static int p_enum(struct cdm_edev_info *o, int m, char *w, size_t l)
{ (void)o; (void)m; (void)w; (void)l; return 0; }
static int p_open(struct cdm_edev *d, const struct cdm_eopen *h)
{ (void)d; (void)h; return -19; }
static void p_close(struct cdm_edev *d) { (void)d; }
static void p_why(struct cdm_edev *d, uint64_t c, char *b, size_t l)
{ (void)d; (void)c; snprintf(b, l, "fake"); }
const struct cdm_engine_ops cdm_engine_plugin = {
	.abi_version = $abi, .size = sizeof(struct cdm_engine_ops),
	.name = "$name", .summary = "test double", .build = "cc",
	.init = p_init, .enumerate = p_enum, .open = p_open,
	.close = p_close, .why_not = $([ "$hooks" = yes ] && echo p_why || echo NULL),
};
EOF
	$CC -std=gnu11 -Wall -Wextra -Werror -Wno-unused-function -I"$TOP/workloads" \
		-fPIC -shared -o "$PLUG/$file.so" "$T_TMP/p.c"
}

skip_reason() { # engine: the reason migrate SKIPs with
	CDMBENCH_ENGINE_DIR=$PLUG "$CDM" run -q -w migrate --set "engine=$1" --db "$DB" >/dev/null 2>&1
	q "$DB" "select verdict || ': ' || reason from cases where id = (select max(id) from cases)"
}

r=$(skip_reason cuda)
case "$r" in
"skip: engine cuda is not built: $PLUG/cuda.so: No such file or directory (to build it, "*"nvcc"*) ok=0 ;;
*) ok=1 ;;
esac
check "an engine not built SKIPs with one line on how to build it" $ok "$r"
[ "$(q "$DB" "select backend from cases where id = (select max(id) from cases)")" = cuda ]
check "the case's backend is its engine" $? "$(q "$DB" "select backend from cases")"

plugin hip hip 999 "unused"
r=$(skip_reason hip)
case "$r" in *"built for engine ABI 999, this cdmbench speaks 1"*) ok=0 ;; *) ok=1 ;; esac
check "a plugin of another ABI is refused with the reason" $ok "$r"

plugin cuda hip 1 "unused"
r=$(skip_reason hip)
case "$r" in *"exports a table for 'cuda'"*) ok=0 ;; *) ok=1 ;; esac
check "a plugin exporting another engine's table is refused" $ok "$r"

plugin hip hip 1 "unused" no
r=$(skip_reason hip)
case "$r" in *"lacks a mandatory hook"*) ok=0 ;; *) ok=1 ;; esac
check "a plugin without a mandatory hook is refused" $ok "$r"

plugin hip hip 1 "hipErrorNoDevice: no ROCm-capable device is detected"
r=$(skip_reason hip)
[ "$r" = "skip: hipErrorNoDevice: no ROCm-capable device is detected" ]
check "a loaded plugin's init() answer is the SKIP reason, word for word" $? "$r"

# the fixture's new rows join the match key only when set
q "$DB" "delete from cases" 2>/dev/null
"$CDM" run -q -w fault-back --db "$DB" >/dev/null 2>&1
"$CDM" run -q -w fault-back --set instance=1 --set engine=cuda --db "$DB" >/dev/null 2>&1
k0=$(q "$DB" "select match_key from cases where workload = 'fault-back' order by id limit 1")
k1=$(q "$DB" "select match_key from cases where workload = 'fault-back' order by id desc limit 1")
case "$k0|$k1" in
*engine*"|"*) ok=1 ;;
*instance*"|"*) ok=1 ;;
*"|"*'"instance":"1"'*'"engine":"cuda"'* | *"|"*'"engine":"cuda"'*'"instance":"1"'*) ok=0 ;;
*) ok=1 ;;
esac
check "engine and instance stay out of the match key at their defaults, join it when set" $ok "default: $k0; set: $k1"

# what each workload verifies, and the option that proves it, from the registry
"$CDM" list --json >"$T_TMP/list.json"
bad=$(python3 - "$T_TMP/list.json" <<'PY'
import json, sys
bad = []
ws = json.load(open(sys.argv[1]))["workloads"]
tampers = [w["name"] for w in ws if w.get("tamper")]
if len(tampers) < 7:
    bad.append("only %d workloads declare a tamper option: %s" % (len(tampers), tampers))
for w in ws:
    names = {o["name"] for o in w["options"]}
    if not isinstance(w.get("verifies"), list):
        bad.append(w["name"] + ": no verifies list")
    t = w.get("tamper")
    if "engine" in names and not w["verifies"]:
        bad.append(w["name"] + ": a device workload that verifies nothing")
    if t and t["option"] not in names:
        bad.append(w["name"] + ": tamper option " + t["option"] + " is not an option")
    if t and not w["verifies"]:
        bad.append(w["name"] + ": a tamper option with nothing verified")
print("\n".join(bad))
PY
)
[ -z "$bad" ]
check "list --json: verifies and tamper for every workload, each tamper a real option" $? "$bad"
out=$("$CDM" list pin-longterm)
echo "$out" | grep -q "verifies: data, placement; corrupt_page=3 must fail the case"
check "list WORKLOAD says what it verifies" $? "$(echo "$out" | tail -n 3)"
