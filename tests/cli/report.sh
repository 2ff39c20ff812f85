#!/bin/bash
# report: one self-contained HTML file (nothing fetched, every database
# string escaped, charts that a browser renders) or a Markdown summary.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/bench/mkdb.sh"

DB=$T_TMP/r.db
J=$TOP/configs/smoke-cpu.ini
for i in 1 2 3; do "$CDM" run -q --db "$DB" "$J" >/dev/null 2>&1; done
cd "$T_TMP" || exit 1

# the hook `make run` uses: a relative path whose directory does not exist
out=$("$CDM" report --db "$DB" last -o reports/x.html 2>&1)
check "report last -o reports/x.html writes the file" $? "$out"
H=$T_TMP/reports/x.html
[ -s "$H" ] && grep -q "^<!DOCTYPE html>" "$H" && tail -n 1 "$H" | grep -q "</html>"
check "a complete HTML document" $? "$(head -c 300 "$H")"
missing=
for s in 'id="env">Environment' 'id="verdicts">Verdicts' 'id="charts">Charts' 'id="cases">Cases' 'id="kernel">Kernel events' \
	"<th>kernel cmdline</th>" "<th>host</th>" "copy_bw against buffer size" "<svg class=\"chart\"" "in the last 3 runs of this job"; do
	grep -q "$s" "$H" || missing="$missing '$s'"
done
[ -z "$missing" ]
check "environment, verdicts, charts (size, trend), cases, kernel events" $? "missing:$missing"
grep -q "Content-Security-Policy\" content=\"default-src 'none'" "$H"
check "a Content-Security-Policy forbids fetching anything" $? ""
python3 - "$H" <<'EOF'
import sys, html.parser
class P(html.parser.HTMLParser):
    bad = []
    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href", "xlink:href", "action", "srcset") and not (v or "").startswith("#"):
                self.bad.append((tag, k, v))
            if k.startswith("on"):
                self.bad.append((tag, k, v))
        if tag in ("script", "link", "img", "iframe", "object", "embed", "image", "use", "foreignobject"):
            self.bad.append((tag,))
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
assert not p.bad, p.bad[:5]
EOF
check "no script, no external src/href, no event handlers" $? ""
! grep -qiE "https?://|url\(" "$H"
check "no URL anywhere in the file" $? "$(grep -oiE ".{30}(https?://|url\().{30}" "$H" | head -n 3)"

out=$("$CDM" report --db "$DB" --baseline 1 last -o "$T_TMP/b.html" 2>&1) &&
	grep -q 'id="compare">Comparison with the baseline' "$T_TMP/b.html" &&
	grep -q "<td>stream\[size=4M threads=1\]</td><td>copy_bw</td>" "$T_TMP/b.html"
check "--baseline adds the comparison table" $? "$out"
out=$("$CDM" report --db "$DB" --format md last 2>&1)
echo "$out" | grep -q "^# cdmbench run 3: smoke-cpu$" && echo "$out" | grep -q "^\*\*Acceptance: PASS\*\*" &&
	echo "$out" | grep -q "^## Cases$" && echo "$out" | grep -q "^| 1 | stream\\\\\[size=4M threads=1\\\\\] | system | pass |"
check "--format md: a Markdown summary" $? "$(echo "$out" | head -n 30)"

# --- hostile strings from the database stay text ---
E=$T_TMP/evil.db
"$CDM" run -q --db "$E" --tag 'who="><script>alert(1)</script>' -w selftest --set samples=50 --set repeat=2 >/dev/null 2>&1
sqlite3 "$E" "UPDATE cases SET name = '<script>alert(\"n\")</script><img src=http://evil.example/x>',
		reason = '</td></tr><iframe src=//evil.example></iframe>', log = '</pre><script>l()</script>',
		params = '{\"size\":\"<b onmouseover=x>4K\"}';
	UPDATE runs SET job_text = '</pre><script>j()</script>', cmdline = 'a=<svg onload=alert(1)>';
	UPDATE metrics SET unit = 'ns</text><script>u()</script>';
	INSERT INTO case_info VALUES (1, '<i>k</i>', '<object data=http://evil.example/o>');
	INSERT INTO case_info VALUES (1, 'expect.metric.x', 'fail: <img src=x onerror=alert(2)>');
	INSERT INTO kevents (run_id, case_id, seq, ts_usec, level, facility, class, text)
		VALUES (1, 1, 1, 5, 4, 0, 'warning', 'WARNING: <script>k()</script> &amp; ' || char(1) || char(255) || ' https://evil.example/');"
"$CDM" report --db "$E" last -o "$T_TMP/evil.html" >/dev/null 2>&1
python3 - "$T_TMP/evil.html" <<'EOF'
import sys, html.parser
class P(html.parser.HTMLParser):
    tags = set(); attrs = []
    text = ""
    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs += [k for k, v in attrs]
    def handle_data(self, d):
        self.text += d
raw = open(sys.argv[1], "rb").read()
raw.decode("utf-8")  # invalid bytes became U+FFFD
p = P()
p.feed(raw.decode("utf-8"))
assert not p.tags & {"script", "img", "iframe", "object", "b", "i"}, p.tags
assert not [a for a in p.attrs if a.startswith("on")], p.attrs
assert '<script>alert("n")</script>' in p.text and "<i>k</i>" in p.text and "&amp;" in p.text
EOF
check "every database string is escaped (names, reasons, logs, params, units, facts, kernel text, tags)" $? "$(grep -n "script" "$T_TMP/evil.html" | head -n 5)"
"$CDM" report --db "$E" --format md last >"$T_TMP/evil.md"
! grep -qE "<(script|img|iframe|object|svg)" "$T_TMP/evil.md"
check "Markdown escapes them too" $? "$(grep -nE "<(script|img|iframe|object|svg)" "$T_TMP/evil.md" | head -n 3)"

# --- odd runs: in progress, empty; bad input ---
sqlite3 "$DB" "INSERT INTO runs (uuid, started_at, status, harness_version, git_revision, job_name, job_text, seed, environment, owner_host, owner_pid)
	VALUES ('abcdef01-live', '2030-01-01T00:00:00Z', 'running', 't', 't', 'smoke-cpu', '', 1, 'bare-metal', 'elsewhere', 4242);
	INSERT INTO cases (run_id, seq, name, workload, backend, device_type, params, match_key, seed, started_at, ended_at, elapsed_ns, verdict)
	SELECT (SELECT id FROM runs WHERE uuid = 'abcdef01-live'), seq, name, workload, backend, device_type, params, match_key, seed, started_at, ended_at, elapsed_ns, verdict FROM cases WHERE run_id = 1 AND seq = 0;
	INSERT INTO runs (uuid, started_at, status, harness_version, git_revision, job_name, job_text, seed, environment)
	VALUES ('abcdef02-empty', '2030-01-01T00:00:00Z', 'completed', 't', 't', 'empty', '', 1, 'bare-metal')"
"$CDM" report --db "$DB" abcdef01 -o "$T_TMP/live.html" 2>/dev/null && grep -q "This run is still in progress" "$T_TMP/live.html" && grep -q "INCOMPLETE" "$T_TMP/live.html"
check "a run in progress: reported as such" $? ""
"$CDM" report --db "$DB" abcdef02 -o "$T_TMP/empty.html" 2>/dev/null && grep -q "No case finished in this run" "$T_TMP/empty.html" && grep -q "no cases ran" "$T_TMP/empty.html"
check "an empty run: reported, not accepted" $? ""
BEFORE=$(db_digest "$DB")
expect_err "unknown run" 2 "no run '77'" "$CDM" report --db "$DB" 77 -o "$T_TMP/u.html"
expect_err "bad --format" 2 "--format pdf: expected html or md" "$CDM" report --db "$DB" --format pdf last
expect_err "an empty baseline" 2 "compare: base abcdef02 has no cases" "$CDM" report --db "$DB" --baseline abcdef02 1 -o "$T_TMP/n.html"
expect_err "an unwritable output" 1 "report: -o /proc/cdm/x.html: cannot create directory /proc/cdm" "$CDM" report --db "$DB" last -o /proc/cdm/x.html
[ ! -e "$T_TMP/u.html" ] && [ ! -e "$T_TMP/n.html" ] && [ "$(db_digest "$DB")" = "$BEFORE" ]
check "failures leave no file behind and the database untouched" $? ""

# --- 100 cases in well under 2 s ---
R=$T_TMP/r100.db
mkdb_report "$R" 100
t0=$(date +%s%N)
"$CDM" report --db "$R" last -o "$T_TMP/r100.html" 2>/dev/null
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
echo "# report of a 100-case run (300 metrics, 300,000 samples): $ms ms, $(($(stat -c %s "$T_TMP/r100.html") / 1024)) KiB"
# the time is printed (make bench holds the speed figures), not asserted
[ $rc = 0 ] && [ "$(grep -c '<section class="case"' "$T_TMP/r100.html")" = 100 ]
check "report of a 100-case run: every case in it" $? "rc=$rc $ms ms"

# --- in a real browser: charts drawn, nothing requested ---
CHROME=$(command -v chromium || command -v chromium-browser)
if [ -z "$CHROME" ]; then
	skip "headless Chromium renders the charts" "chromium is not installed (apt-get install chromium)"
	skip "headless Chromium: the report requests nothing" "chromium is not installed"
	exit 0
fi
shot() {	# shot HTML PNG NETLOG
	timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--host-resolver-rules="MAP * ~NOTFOUND" --log-net-log="$3" \
		--user-data-dir="$(mktemp -d "$T_TMP/chrome.XXXXXX")" --screenshot="$2" \
		--window-size=1280,3000 "file://$1" >/dev/null 2>&1
}
# requests the page made (the browser's own, "not an origin", are not its)
page_requests() {
	python3 - "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
names = {v: k for k, v in d["constants"]["logEventTypes"].items()}
for e in d["events"]:
    p = e.get("params", {})
    url = p.get("url")
    if names.get(e["type"]) == "URL_REQUEST_START_JOB" and url and p.get("initiator") != "not an origin":
        if not url.startswith(("file:", "data:")):
            print(url)
EOF
}
if ! shot "$H" "$T_TMP/shot.png" "$T_TMP/net.json" || [ ! -s "$T_TMP/shot.png" ]; then
	skip "headless Chromium renders the charts" "chromium could not run here"
	skip "headless Chromium: the report requests nothing" "chromium could not run here"
	exit 0
fi
cp "$T_TMP/shot.png" "$TOP/build/report-screenshot.png" 2>/dev/null
python3 - "$T_TMP/shot.png" <<'EOF'
import struct, sys, zlib
raw = open(sys.argv[1], "rb").read()
assert raw[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat = 8, b""
while pos < len(raw):
    n, kind = struct.unpack(">I4s", raw[pos:pos + 8])
    body = raw[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6), (depth, ctype)
bpp = 3 if ctype == 2 else 4
data, stride = zlib.decompress(idat), w * bpp
prev, rows, i = bytearray(stride), [], 0
for y in range(h):
    f, line = data[i], bytearray(data[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    prev = line
ink = blue = orange = 0
for line in rows:
    for x in range(0, stride, bpp):
        r, g, b = line[x], line[x + 1], line[x + 2]
        ink += r + g + b < 600
        blue += abs(r - 0x00) < 40 and abs(g - 0x72) < 40 and abs(b - 0xb2) < 40
        orange += abs(r - 0xd5) < 40 and abs(g - 0x5e) < 40 and abs(b - 0x00) < 40
print(f"# screenshot {w}x{h}: {ink} inked pixels, {blue} in chart blue, {orange} in chart orange")
assert ink > 20000 and blue > 1500, (ink, blue)
EOF
check "headless Chromium renders the report with its charts" $? "see $TOP/build/report-screenshot.png"
reqs=$(page_requests "$T_TMP/net.json")
# the same check sees a page that does fetch something
printf '<!DOCTYPE html><img src="http://cdmbench-test.invalid/x.png">' >"$T_TMP/ctl.html"
shot "$T_TMP/ctl.html" "$T_TMP/ctl.png" "$T_TMP/ctl.json"
ctl=$(page_requests "$T_TMP/ctl.json")
[ -z "$reqs" ] && [ -n "$ctl" ]
check "headless Chromium: the report requests nothing (and the check sees a page that does)" $? "report: $reqs; control: $ctl"
