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
