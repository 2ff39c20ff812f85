#!/bin/bash
# The tree stays warning-free (-Wall -Wextra -Werror) under clang as well as
# gcc (which built everything else the tests use), and the guest init too.
. "$(dirname "$0")/../lib.sh"

if command -v clang >/dev/null; then
	out=$(make -C "$TOP" --no-print-directory -j2 BUILD="$T_TMP/clang" CC=clang all "$T_TMP/clang/unit-tests" 2>&1)
	check "clang builds the tree with -Werror" $? "$(printf '%s' "$out" | grep -E 'error|warning' | head -n 5)"
	# plain `make` leaves nothing but the kernel for `vm run` to need
	[ -s "$T_TMP/clang/initramfs.cpio" ] && [ -x "$T_TMP/clang/guest-init" ]
	check "make builds the guest init and initramfs too" $? "$(ls "$T_TMP/clang" 2>&1)"
	out=$(clang -static -O2 -std=gnu11 -Wall -Wextra -Werror -o "$T_TMP/init" "$TOP/kernel/guest-init.c" 2>&1)
	check "clang builds the guest init with -Werror" $? "$out"
else
	skip "clang builds the tree with -Werror" "clang not installed (make deps installs it)"
fi

# The revision `--version` prints and every run records follows the tree:
# after a new commit, plain `make` rebuilds what reports it (it was a -D
# on the compiler's command line, invisible to make, and runs recorded the
# previous commit). A copy of the tree with its build, so only what the
# new revision touches is rebuilt.
src=$T_TMP/src
mkdir -p "$src"
tar -C "$TOP" --exclude=./build/clang --exclude=./build/fuzz --exclude=./build/engines \
	--exclude='./build/test.log*' -cf - . | tar -C "$src" -xf -
gitc() { git -C "$src" -c user.name=cdmbench-test -c user.email=test@localhost "$@"; }
out=$(make -C "$src" --no-print-directory build/cdmbench 2>&1 &&
	gitc commit -q --allow-empty -m "a later commit" 2>&1 &&
	make -C "$src" --no-print-directory build/cdmbench 2>&1)
rc=$?
want=$(gitc describe --always --dirty 2>&1)
got=$("$src/build/cdmbench" --version 2>&1 | head -n 1)
[ $rc -eq 0 ] && [ -n "$want" ] && [ "$got" = "cdmbench $(sed -n 's/^#define CDM_VERSION "\(.*\)"/\1/p' "$TOP/harness/util/version.h") (git $want)" ]
check "after a new commit, make rebuilds what reports the revision" $? \
	"want git $want; cdmbench --version: $got" "$(printf '%s' "$out" | tail -n 5)"
"$src/build/cdmbench" run -q --db "$T_TMP/rev.db" -w selftest --set repeat=3 >/dev/null 2>&1
got=$(sqlite3 "$T_TMP/rev.db" "SELECT git_revision FROM runs" 2>&1)
[ "$got" = "$want" ]
check "a run records the revision of the binary that made it" $? "want $want; recorded: $got"
