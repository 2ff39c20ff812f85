#!/bin/bash
# kernel/build.sh's cache of a KSRC tree is keyed by the tree's path, so
# an edit of the tree must not leave the old kernel in use: a source file
# newer than the finished build makes --print-path say "not built" and a
# build start again (a stale kernel would make an A/B compare old code).
. "$(dirname "$0")/../lib.sh"

tree=$T_TMP/tree
mkdir -p "$tree/lib" "$tree/mm"
printf 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\nEXTRAVERSION =\n' >"$tree/Makefile"
touch "$tree/lib/test_hmm.c" "$tree/mm/page_alloc.c"
export CDMBENCH_CACHE=$T_TMP/cache KSRC=$tree
img=$("$TOP/kernel/build.sh" --print-path 2>/dev/null)
rc=$?
[ $rc = 1 ] && [ -n "$img" ]
check "--print-path names the image of a tree not built yet, exit 1" $? "rc=$rc $img"
# a finished build, as build.sh leaves it, newer than every source file
mkdir -p "$(dirname "$img")"
touch "$img" && touch -d '+1 minute' "$(dirname "$img")/.done"
"$TOP/kernel/build.sh" --print-path >/dev/null 2>&1
check "--print-path: a finished build of an unchanged tree is built (exit 0)" $? ""
# the tree edited after that build
touch -d '+2 minutes' "$tree/mm/page_alloc.c"
"$TOP/kernel/build.sh" --print-path >/dev/null 2>&1
rc=$?
[ $rc = 1 ]
check "--print-path: an edited tree is not built any more (exit 1)" $? "rc=$rc"
# a build says why it starts again; this tree cannot build, so it fails
# after saying so, and never hands out the stale image
out=$("$TOP/kernel/build.sh" 2>&1 </dev/null)
rc=$?
echo "$out" | grep -q "KSRC changed since the cached build (mm/page_alloc.c and maybe more): building again" &&
	[ $rc != 0 ] && ! echo "$out" | grep -q "^cached "
check "a build of an edited tree starts again and says why" $? "rc=$rc $(echo "$out" | head -n 5)"
