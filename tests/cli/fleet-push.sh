#!/bin/bash
# cdmbench push against a misbehaving server (tests/fleet/fakeinflux.py on
# loopback): down, 500, 400 partial write, 413, a hang, a wrong token, and
# a push killed mid-way. After each fault nothing is lost: the spool keeps
# what is owed and a later push completes it.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/fleet/services.sh"

svc_can_push "push fault tests" "" python3 || exit 0
svc_init "$T_TMP/svc"

DB=$T_TMP/r.db
for i in 1 2 3; do
	"$CDM" run -q -w selftest --set samples=400 --db "$DB" >/dev/null 2>&1
done
N=$(q "$DB" "select count(*) from samples where value is not null")
FAST="--retries 2 --backoff 0.05 --timeout 2 --batch 100"

# distinct points the server kept: series key + timestamp
kept() { awk '{print $1, $NF}' "$FAKE_STORE" | sort -u | wc -l; }
pending() { q "$DB" "select count(*) from push_spool where state = 'pending'"; }

# 1. server down, then up: the next push sends everything
port=$(free_port)
expect_err "server down: exit 1, one line saying why" 1 "stopped: .*(onnect|refused).*spool" \
	"$CDM" push -q --db "$DB" --url "http://127.0.0.1:$port" --database d $FAST
[ "$(pending)" = 3 ]
check "server down: every run stays in the spool" $? "pending $(pending)"
fake_start up --script ok --port "$port"
"$CDM" push -q --db "$DB" --url "http://127.0.0.1:$FAKE_PORT" --database d $FAST
rc=$?
[ $rc = 0 ] && [ "$(kept)" = "$N" ]
check "server up again (same URL): the later push resumes and completes ($N points)" $? "rc=$rc kept $(kept)/$N"
before=$(wc -l <"$FAKE_LOG")
"$CDM" push -q --db "$DB" --url "http://127.0.0.1:$FAKE_PORT" --database d $FAST
[ "$(wc -l <"$FAKE_LOG")" = "$before" ]
check "a push with nothing owed sends nothing" $? "requests made"
"$CDM" push -q --force --db "$DB" --url "http://127.0.0.1:$FAKE_PORT" --database d $FAST
[ "$(kept)" = "$N" ] && [ "$(wc -l <"$FAKE_STORE")" = $((2 * N)) ]
check "--force sends again with the same keys (the server overwrites, no new points)" $? \
	"kept $(kept), lines $(wc -l <"$FAKE_STORE")"
fake_stop

# 2. 500 twice, then fine: retried with back-off
fake_start s500 --script 500,500,ok
out=$("$CDM" push --db "$DB" --url "http://127.0.0.1:$FAKE_PORT" --database d $FAST 2>/dev/null)
rc=$?
[ $rc = 0 ] && [ "$(kept)" = "$N" ] && [[ $out == *", 2 retries"* ]]
check "HTTP 500: retried with back-off, then everything sent" $? "rc=$rc $out"
fake_stop

# 3. 500 for ever: stops after --retries, the spool keeps the rest
fake_start s500b --script 500
expect_err "HTTP 500 every time: exit 1 after the retries, one line" 1 "HTTP 500 .*3 attempts" \
	"$CDM" push -q --db "$DB" --url "http://127.0.0.1:$FAKE_PORT" --database d2 $FAST
[ "$(q "$DB" "select count(*) from push_spool where target like '%db=d2' and state = 'pending'")" = 3 ] &&
	[ "$(wc -l <"$FAKE_LOG")" = 3 ]
check "HTTP 500: exactly 1 + 2 retries, nothing marked sent" $? "$(wc -l <"$FAKE_LOG") requests"
fake_stop

# 4. 400 partial write: the refused points are counted, the rest kept
fake_start s400 --script 400partial,ok
"$CDM" push -q --db "$DB" --url "http://127.0.0.1:$FAKE_PORT" --database d3 $FAST 2>"$T_TMP/e400"
rc=$?
r=$(q "$DB" "select sum(sent) || '/' || sum(rejected) from push_spool where target like '%db=d3'")
[ $rc = 1 ] && [ "$r" = "$((N - 3))/3" ] && [ "$(kept)" = $((N - 3)) ] && grep -q "refused 3 of 100 points" "$T_TMP/e400"
check "HTTP 400 partial write: 3 refused and counted, the rest sent, exit 1" $? "rc=$rc $r $(cat "$T_TMP/e400")"
fake_stop

# 5. 413: the batch is split until it fits
fake_start s413 --script ok --max-lines 30
out=$("$CDM" push --db "$DB" --url "http://127.0.0.1:$FAKE_PORT" --database d4 $FAST 2>/dev/null)
rc=$?
[ $rc = 0 ] && [ "$(kept)" = "$N" ] && [[ $out != *", 0 splits"* ]]
check "HTTP 413: batches split and resent, everything arrives" $? "rc=$rc $out"
fake_stop

# 6. a hang: the request times out and is retried
fake_start hang --script hang,ok
start=$(date +%s)
"$CDM" push -q --db "$DB" --url "http://127.0.0.1:$FAKE_PORT" --database d5 --retries 2 --backoff 0.05 --timeout 1 --batch 5000
rc=$?
[ $rc = 0 ] && [ "$(kept)" = "$N" ] && [ $(( $(date +%s) - start )) -lt 10 ]
check "a hanging server: timed out after --timeout, retried, everything sent" $? "rc=$rc kept $(kept)"
fake_stop
fake_start hang2 --script hang
start=$(date +%s)
expect_err "a server that always hangs: exit 1 in bounded time, one line" 1 "stopped: .*(imeout|timed out)" \
	"$CDM" push -q --db "$DB" --url "http://127.0.0.1:$FAKE_PORT" --database d6 --retries 1 --backoff 0.05 --timeout 1
[ $(( $(date +%s) - start )) -lt 10 ] && [ "$(q "$DB" "select count(*) from push_spool where target like '%db=d6' and state = 'pending'")" = 3 ]
check "a hanging server: the runs stay in the spool" $? "took $(( $(date +%s) - start )) s"
fake_stop

# 7. a wrong token: one request, a clear error, the token never shown
fake_start s401 --script 401
TOKEN="tok-$$-secret"
CDMBENCH_INFLUX_TOKEN=$TOKEN "$CDM" push --db "$DB" --url "http://127.0.0.1:$FAKE_PORT" --org o --bucket b $FAST >"$T_TMP/o401" 2>"$T_TMP/e401"
rc=$?
[ $rc = 1 ] && [ "$(wc -l <"$FAKE_LOG")" = 1 ] && grep -q "refused the credentials.*CDMBENCH_INFLUX_TOKEN.*not retried" "$T_TMP/e401"
check "wrong token: exit 1 after one request (no retry storm), says which credential" $? \
	"rc=$rc $(wc -l <"$FAKE_LOG") requests: $(cat "$T_TMP/e401")"
grep -q "POST /api/v2/write?org=o&bucket=b&precision=ms 401 100 Token" "$FAKE_LOG"
check "v2: /api/v2/write with org, bucket and an Authorization: Token header" $? "$(cat "$FAKE_LOG")"
! grep -q "$TOKEN" "$T_TMP/o401" "$T_TMP/e401" && ! sqlite3 "$DB" .dump | grep -q "$TOKEN"
check "the token is neither printed nor stored" $? "token found"
fake_stop

# v1 basic auth: the password from the environment, sent as a header only
fake_start basic --script ok
PW="pw-$$-secret"
CDMBENCH_INFLUX_PASSWORD=$PW "$CDM" push --db "$DB" --url "http://127.0.0.1:$FAKE_PORT" --database d8 --user alice $FAST >"$T_TMP/ob" 2>"$T_TMP/eb"
rc=$?
[ $rc = 0 ] && grep -q "^POST /write?db=d8&precision=ms 204 100 Basic$" "$FAKE_LOG" &&
	! grep -q "$PW" "$T_TMP/ob" "$T_TMP/eb" && ! sqlite3 "$DB" .dump | grep -q "$PW"
check "v1: /write with db and basic auth; the password neither printed nor stored" $? "rc=$rc $(head -n 2 "$FAKE_LOG")"
fake_stop

# 8. a push killed mid-way resumes where the server last acknowledged
fake_start slow --script ok --delay 0.2
"$CDM" push -q --db "$DB" --url "http://127.0.0.1:$FAKE_PORT" --database d7 --batch 50 &
pid=$!
sleep 1.5
kill -KILL $pid
wait $pid 2>/dev/null
part=$(kept)
reqs=$(wc -l <"$FAKE_LOG")
fake_stop
# the same server again (the spool is per URL)
fake_start slow2 --script ok --port "$FAKE_PORT"
cat "$SVC_DIR/fake-slow/store" >"$FAKE_STORE"
"$CDM" push -q --db "$DB" --url "http://127.0.0.1:$FAKE_PORT" --database d7 --batch 50
rc=$?
# the resumed push must not start over: it sends at most one batch again
sent2=$(wc -l <"$SVC_DIR/fake-slow2/log")
[ $rc = 0 ] && [ "$(kept)" = "$N" ] && [ "$part" -gt 0 ] && [ "$part" -lt "$N" ] &&
	[ $((sent2 * 50)) -le $((N - part + 3 * 50)) ]
check "kill -9 mid-push ($part of $N points sent): the next push resumes, nothing lost" $? \
	"rc=$rc kept $(kept)/$N, $sent2 requests after resume"
fake_stop

# TLS: a private CA is trusted only when named with --cacert
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$T_TMP/key.pem" \
		-out "$T_TMP/cert.pem" >/dev/null 2>&1
	fake_start tls --script ok --tls "$T_TMP/cert.pem" "$T_TMP/key.pem"
	expect_err "https with an unknown CA: refused (verification on), not retried, one line" 1 "stopped: .*--cacert" \
		"$CDM" push -q --db "$DB" --url "https://127.0.0.1:$FAKE_PORT" --database d9 $FAST
	[ ! -s "$FAKE_STORE" ]
	check "nothing was sent to the unverified server" $? "$(wc -l <"$FAKE_STORE") lines"
	"$CDM" push -q --db "$DB" --url "https://127.0.0.1:$FAKE_PORT" --database d9 --cacert "$T_TMP/cert.pem" $FAST
	rc=$?
	[ $rc = 0 ] && [ "$(kept)" = "$N" ]
	check "https with --cacert naming the CA: everything sent" $? "rc=$rc kept $(kept)"
	fake_stop
else
	skip "https with --cacert" "openssl not installed"
fi

# bad input: one line, exit 2
expect_err "credentials in the URL are refused" 2 "credentials do not belong in the URL" \
	"$CDM" push --db "$DB" --url "http://u:p@127.0.0.1:1" --database d
expect_err "--database or --bucket is required" 2 "give --database DB" \
	"$CDM" push --db "$DB" --url "http://127.0.0.1:1"
expect_err "--user without a password is refused" 2 "needs a password" \
	env -u CDMBENCH_INFLUX_PASSWORD "$CDM" push --db "$DB" --url "http://127.0.0.1:1" --database d --user u
expect_err "a missing --cacert is refused" 2 "cacert .*No such file" \
	"$CDM" push --db "$DB" --url "https://127.0.0.1:1" --database d --cacert "$T_TMP/none.pem"
expect_err "https to a server without TLS fails verification, never falls back" 1 "stopped: " \
	"$CDM" push -q --db "$DB" --url "https://127.0.0.1:$(free_port)" --database d --retries 0
