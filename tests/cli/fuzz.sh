#!/bin/bash
# The fuzz targets, briefly (make fuzz runs them longer): each runs a few
# seconds from the seed corpus and must end with 0 crashes, leaks or
# sanitizer reports. `make test` builds them (make fuzz-build).
. "$(dirname "$0")/../lib.sh"

S=${FUZZ_BRIEF_S:-4}
for src in "$TOP"/tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	t=${t#fuzz_}
	if [ ! -x "$TOP/build/fuzz/fuzz-$t" ]; then
		if ! command -v clang >/dev/null; then
			skip "fuzz $t" "clang is not installed (harness/setup.sh installs it)"
		else
			fail "fuzz $t" "build/fuzz/fuzz-$t is missing: run make fuzz-build"
		fi
		continue
	fi
	out=$("$TOP/tests/fuzz/run.sh" "$S" "$t" 2>&1)
	rc=$?
	check "fuzz $t for ${S} s: $(printf '%s' "$out" | head -n 1 | sed 's/^fuzz [a-z]*: //')" $rc "$out"
done
