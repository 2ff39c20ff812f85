#!/bin/bash
# One escaping policy per sink. A run whose names, tags, reasons, facts,
# logs and kernel messages hold every hostile byte string (terminal escape
# sequences, newlines, C0 and C1 controls, invalid UTF-8, U+FFFE/U+FFFF,
# bidirectional overrides, markup) is exported in every format, and each
# export is parsed by the format's own parser (python3: json, xml.etree,
# csv, html.parser); the terminal commands show no control character raw.
. "$(dirname "$0")/../lib.sh"

if ! command -v python3 >/dev/null; then
	skip "hostile corpus" "python3 is not installed (harness/setup.sh installs it)"
	exit 0
fi
DB=$T_TMP/h.db
# a section name may carry ESC c (reset the terminal) and a bell
printf '[a\033cb\007]\nworkload = selftest\nmode = fail\nrepeat = 3\n[ok]\nworkload = selftest\nrepeat = 3\n' >"$T_TMP/h.ini"
"$CDM" run --db "$DB" --tag "$(printf 'k=line1\nline2\033]0;pwned\007')" "$T_TMP/h.ini" \
	>"$T_TMP/run.out" 2>"$T_TMP/run.err"
[ "$(q "$DB" 'SELECT count(*) FROM cases')" = 2 ]
check "a run with a hostile case name and tag is stored" $? "$(cat "$T_TMP/run.err")"

# the hostile string: ESC sequences (title, clear screen, CSI), CR, BS, a
# C1 CSI as UTF-8 and as a raw byte, invalid UTF-8, U+FFFE, U+FFFF, a
# right-to-left override, markup for each format, and a NUL-free tail
H="X'1b5d303b70776e6564071b5b324a0d08c29b9bfffe80efbfbeefbfbfe280ae3c7363726970743e616c6572742831293c2f7363726970743e2623602a5f7c2c220a23206e6f74206f6b0a3c215b43444154415b5d5d3e'"
sqlite3 "$DB" "
UPDATE cases SET name = name || CAST($H AS TEXT), reason = CAST($H AS TEXT), log = CAST($H AS TEXT), device_type = CAST($H AS TEXT);
UPDATE metrics SET unit = CAST($H AS TEXT);
UPDATE runs SET job_name = CAST($H AS TEXT), environment = CAST($H AS TEXT), status_reason = CAST($H AS TEXT);
INSERT INTO run_tags (run_id, key, value) VALUES (1, CAST($H AS TEXT), CAST($H AS TEXT));
INSERT INTO case_info (case_id, key, value) VALUES (1, 'expect.' || CAST($H AS TEXT), 'fail: ' || CAST($H AS TEXT));
INSERT INTO kevents (run_id, case_id, seq, ts_usec, level, facility, class, text) VALUES (1, 1, 1, 5, 4, 0, 'warning', CAST($H AS TEXT));
UPDATE hosts SET hostname = CAST($H AS TEXT);"
check "the hostile corpus is in the database" $? "sqlite3 failed"

# python3 parses FILE as FORMAT and checks the bytes
parses() {
	local name=$1 fmt=$2 file=$3 out
	out=$(python3 - "$fmt" "$file" 2>&1 <<'PY'
import sys, json, csv, io
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
fmt, path = sys.argv[1], sys.argv[2]
raw = open(path, 'rb').read()
text = raw.decode('utf-8')          # strict: invalid UTF-8 fails here
assert raw, 'empty output'
if fmt == 'json':
    json.loads(text)
elif fmt == 'csv':
    rows = list(csv.reader(io.StringIO(text, newline='')))
    assert len(rows) > 1 and all(len(r) == len(rows[0]) for r in rows), 'ragged CSV'
elif fmt == 'xml':
    ET.fromstring(raw)
elif fmt == 'html':
    VOID = {'area','base','br','col','embed','hr','img','input','link','meta','source','track','wbr'}
    class P(HTMLParser):
        def __init__(s):
            super().__init__(); s.stack = []
        def handle_starttag(s, tag, a):
            if tag not in VOID: s.stack.append(tag)
        def handle_startendtag(s, tag, a): pass
        def handle_endtag(s, tag):
            assert s.stack and s.stack[-1] == tag, 'unbalanced </%s> after %s' % (tag, s.stack[-3:])
            s.stack.pop()
    p = P(); p.feed(text); p.close()
    assert not p.stack, 'unclosed: %s' % p.stack
    assert '<script>alert' not in text, 'markup passed through'
elif fmt == 'tap':
    for l in text.split('\n'):
        assert not l or l.startswith(('TAP version', '1..', 'ok ', 'not ok ', '  ', '#')), 'not TAP: %r' % l[:60]
    assert text.count('\nnot ok ') + text.count('\nok ') == 2, 'expected 2 test lines'
elif fmt == 'md':
    import re
    # a code span shows its text literally: markup there is inert
    assert '<script>alert' not in re.sub(r'`[^`\n]*`', '', text), 'markup passed through'
# no sink may carry a raw ESC, C1 CSI or other C0 control but tab/newline
bad = [c for c in text if (ord(c) < 32 and c not in '\t\n') or c in '\x7f\x9b']
# (CSV is data: a quoted field keeps its bytes, only UTF-8 is repaired)
if fmt not in ('json', 'csv'):  # JSON must escape them or json.loads fails
    assert not bad, 'raw control characters: %r' % bad[:5]
PY
)
	check "$name parses as $fmt" $? "$out"
}

"$CDM" export --db "$DB" --format json 1 >"$T_TMP/e.json"
parses "export json" json "$T_TMP/e.json"
"$CDM" export --db "$DB" --format csv 1 >"$T_TMP/e.csv"
parses "export csv" csv "$T_TMP/e.csv"
"$CDM" export --db "$DB" --format junit 1 >"$T_TMP/e.xml"
parses "export junit" xml "$T_TMP/e.xml"
"$CDM" export --db "$DB" --format tap 1 >"$T_TMP/e.tap"
parses "export tap" tap "$T_TMP/e.tap"
"$CDM" show --db "$DB" --json 1 >"$T_TMP/s.json"
parses "show --json" json "$T_TMP/s.json"
"$CDM" runs --db "$DB" --json >"$T_TMP/r.json"
parses "runs --json" json "$T_TMP/r.json"
"$CDM" report --db "$DB" -o "$T_TMP/r.html" 1
parses "report html" html "$T_TMP/r.html"
"$CDM" report --db "$DB" -f md -o "$T_TMP/r.md" 1
parses "report md" md "$T_TMP/r.md"

# terminal: nothing raw, and the runs table keeps one line per run
"$CDM" show --db "$DB" 1 >"$T_TMP/show.txt" 2>&1
parses "show (terminal)" term "$T_TMP/show.txt"
"$CDM" runs --db "$DB" >"$T_TMP/runs.txt" 2>&1
parses "runs (terminal)" term "$T_TMP/runs.txt"
[ "$(wc -l <"$T_TMP/runs.txt")" = 2 ]
check "runs: a newline in a tag does not break the table" $? "$(cat "$T_TMP/runs.txt")"
grep -q 'line1\\nline2\\e\]0;pwned\\x07' "$T_TMP/runs.txt"
check "runs: the tag's newline and escape are shown visibly" $? "$(cat "$T_TMP/runs.txt")"
cat "$T_TMP/run.out" "$T_TMP/run.err" >"$T_TMP/live.txt"
parses "run's case lines and summary (terminal)" term "$T_TMP/live.txt"
grep -q 'a\\ecb\\x07' "$T_TMP/live.txt"
check "run: the case name's ESC c is shown as \\e" $? "$(cat "$T_TMP/live.txt")"
# compare and history print case names, metrics and units as stored
C=$T_TMP/c.db
"$CDM" run -q --db "$C" "$T_TMP/h.ini" >/dev/null 2>&1
"$CDM" run -q --db "$C" "$T_TMP/h.ini" >/dev/null 2>&1
sqlite3 "$C" "UPDATE metrics SET unit = CAST($H AS TEXT)"
"$CDM" compare --db "$C" --all 1 2 >"$T_TMP/cmp.txt" 2>&1
parses "compare (terminal)" term "$T_TMP/cmp.txt"
grep -q 'a\\ecb\\x07' "$T_TMP/cmp.txt"
check "compare: the case name's ESC c is shown as \\e" $? "$(cat -v "$T_TMP/cmp.txt")"
"$CDM" history --db "$C" "$(printf 'a\033cb\007'):iteration" >"$T_TMP/hist.txt" 2>&1
parses "history (terminal)" term "$T_TMP/hist.txt"
# an error quoting a hostile value stays one line, controls shown
printf '[x]\nworkload = selftest\nmode = \033[2Jboom\n' >"$T_TMP/bad.ini"
expect_err "an error quoting ESC [2J shows it" 2 'mode=\\e\[2Jboom' "$CDM" run --db "$DB" "$T_TMP/bad.ini"
