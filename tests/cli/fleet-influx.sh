#!/bin/bash
# cdmbench push to the real servers on loopback: influxd 1.x (/write) and
# victoria-metrics (/api/v2/write). Hostile names read back as written,
# every sample arrives, and a re-push overwrites instead of adding.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/fleet/services.sh"

svc_can_push "push to influxd and victoria-metrics" " (harness/setup.sh installs them)" \
	influxd victoria-metrics curl python3 || exit 0
svc_init "$T_TMP/svc"
influx_start 2>"$T_TMP/influx.err" || { fail "influxd starts on loopback" "$(cat "$T_TMP/influx.err")"; exit 1; }
IURL=http://127.0.0.1:$INFLUX_PORT
curl -sf -XPOST "$IURL/query" --data-urlencode "q=CREATE DATABASE cdm" >/dev/null

# names with every character line protocol treats specially
cat >"$T_TMP/h.ini" <<'INI'
[global]
repeat = 3
[a b,c=d"e\f 'g' ü]
workload = selftest
samples = 20
[tail\]
workload = selftest
samples = 5
INI
DB=$T_TMP/h.db
"$CDM" run -q --db "$DB" --tag 'node=n 1,x="y"=z' "$T_TMP/h.ini" >/dev/null 2>&1
N=$(q "$DB" "select count(*) from samples where value is not null")

iq() {	# influxQL query -> JSON
	curl -sf -G "$IURL/query" --data-urlencode db=cdm --data-urlencode "q=$1"
}
ok_if "push to influxd 1.x (/write, gzip)" "$CDM" push -q --db "$DB" --url "$IURL" --database cdm
got=$(iq 'SELECT count(value) FROM cdmbench GROUP BY "case", node' | python3 -c '
import json, sys
r = json.load(sys.stdin)["results"][0]["series"]
for s in sorted(r, key=lambda s: s["tags"]["case"]):
    print("%s|%s|%d" % (s["tags"]["case"], s["tags"]["node"], s["values"][0][1]))')
want=$(printf '%s|%s|%d\n' "a b,c=d\"e\\f 'g' ü" 'n 1,x="y"=z' 60 'tail\ ' 'n 1,x="y"=z' 15)
[ "$got" = "$want" ]
check "hostile case and node names read back exactly (a final backslash gains a space)" $? "got: $got"
total() { iq 'SELECT count(value) FROM cdmbench' | python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["series"][0]["values"][0][1])'; }
[ "$(total)" = "$N" ]
check "every sample is a point: count equals the database's ($N)" $? "influx $(total)"
ok_if "re-push with --force" "$CDM" push -q --force --no-gzip --db "$DB" --url "$IURL" --database cdm
[ "$(total)" = "$N" ]
check "a re-push overwrites (same tags and timestamps): the count stays $N" $? "influx $(total)"
s=$(iq 'SELECT sum(value) FROM cdmbench' | python3 -c 'import json,sys; print("%.6g" % json.load(sys.stdin)["results"][0]["series"][0]["values"][0][1])')
d=$(q "$DB" "select printf('%.6g', sum(value)) from samples")
[ "$s" = "$d" ]
check "the values arrive exactly (sum $d)" $? "influx $s"
expect_err "a database the server lacks: HTTP 404, one line, not retried" 1 "HTTP 404 .*database" \
	"$CDM" push -q --db "$DB" --url "$IURL" --database nosuchdb

# the v2 path: victoria-metrics accepts /api/v2/write
vm_start 2>"$T_TMP/vm.err" || { fail "victoria-metrics starts on loopback" "$(cat "$T_TMP/vm.err")"; exit 1; }
VURL=http://127.0.0.1:$VM_PORT
CDMBENCH_INFLUX_TOKEN=unused "$CDM" push -q --db "$DB" --url "$VURL" --org o --bucket b
rc=$?
check "push through /api/v2/write (victoria-metrics)" $rc "rc=$rc"
# what victoria-metrics holds, once it shows it (it makes new data
# searchable within a few seconds)
vmexport() {
	curl -sf "$VURL/internal/force_flush" >/dev/null
	curl -sf "$VURL/api/v1/export" --data-urlencode 'match[]={__name__="cdmbench_value"}'
}
vmcount() { vmexport | python3 -c 'import json,sys; print(sum(len(json.loads(l)["values"]) for l in sys.stdin if l.strip()))'; }
wait_for 20 sh -c "[ \"\$(curl -sf '$VURL/internal/force_flush' >/dev/null; curl -sf '$VURL/api/v1/series/count')\" != '' ] && [ \"\$(curl -sf '$VURL/api/v1/export' --data-urlencode 'match[]={__name__=\"cdmbench_value\"}' | wc -l)\" -ge 2 ]"
[ "$(vmcount)" = "$N" ]
check "victoria-metrics holds every point ($N)" $? "vm $(vmcount)"
got=$(vmexport | python3 -c '
import json, sys
for l in sys.stdin:
    m = json.loads(l)["metric"]
    print("%s|%s" % (m["case"], m["node"]))' | sort)
want=$(printf '%s|%s\n' "a b,c=d\"e\\f 'g' ü" 'n 1,x="y"=z' 'tail\' 'n 1,x="y"=z')
[ "$got" = "$want" ]
check "v2 rules: hostile names read back exactly, the final backslash too" $? "got: $got"
CDMBENCH_INFLUX_TOKEN=unused "$CDM" push -q --force --db "$DB" --url "$VURL" --org o --bucket b
sleep 2
[ "$(vmcount)" = "$N" ]
check "victoria-metrics after a re-push: still $N (same keys and times, deduplicated)" $? "vm $(vmcount)"
