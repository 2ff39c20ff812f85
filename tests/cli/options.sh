#!/bin/bash
# One command-line plumbing (harness/cli/opts.c): the options commands share
# parse and complain the same way everywhere, and every command's --help is
# printed from the table its parser uses.
. "$(dirname "$0")/../lib.sh"

# commands run below with bare options must not touch a real database
export CDMBENCH_DB=$T_TMP/absent.db

# the same bad --seed, --tag and --output-format read the same in every command
same_error() {
	local name=$1 opt=$2 val=$3
	shift 3
	local want="" got cmd line
	for cmd in "$@"; do
		# shellcheck disable=SC2086
		line=$("$CDM" $cmd "$opt" "$val" 2>&1 >/dev/null)
		got=${line#cdmbench: }
		got=${got#"${cmd%% *}: "}
		[ -n "$want" ] || want=$got
		if [ "$got" != "$want" ] || [ -z "$got" ]; then
			fail "$name" "'$cmd $opt $val' says '$line', another command '$want'"
			return
		fi
	done
	pass "$name ($want)"
}
same_error "--seed x reads the same in run and vm run" --seed x "run -w stream" "vm run"
same_error "--seed -1 reads the same in run and vm run" --seed -1 "run -w stream" "vm run"
same_error "--tag without = reads the same in run and vm run" --tag nokey "run -w stream" "vm run"
same_error "-o xml reads the same in run, compare and history" -o xml "run -w stream" "compare 1 2" "history a:b"

# a good seed is taken alike, by run and by vm run
out=$("$CDM" run -n -w stream --seed 1000 2>&1) && echo "$out" | grep -q "seed 1000"
check "run --seed 1000 is seed 1000" $? "$out"
out=$("$CDM" vm run --seed 1000 "$T_TMP/absent.ini" 2>&1)
echo "$out" | grep -q "absent.ini" && ! echo "$out" | grep -q -- "--seed"
check "vm run takes --seed 1000 (and fails on the job file instead)" $? "$out"

# every command's --help comes from its table: each option it lists parses.
# The commands with an option table (cli_specs[] in harness/cli/cli.c);
# "cluster run" with a bare option has no JOBFILE, so it never starts srun.
cmds="run list probe runs show export compare history report db vm cluster merge nodes push"
n=0
for c in $cmds; do
	sub=$c
	[ "$c" = vm ] && sub="vm run"
	[ "$c" = db ] && sub="db check"
	[ "$c" = cluster ] && sub="cluster run"
	# shellcheck disable=SC2086
	help=$("$CDM" $sub --help 2>&1)
	rc=$?
	if [ $rc -ne 0 ] || ! printf '%s\n' "$help" | head -n1 | grep -q "^usage: cdmbench $c"; then
		fail "$c --help" "exit $rc:" "$(printf '%s\n' "$help" | head -n 3)"
		continue
	fi
	bad=()
	for o in $(printf '%s\n' "$help" | grep -oE '^  (-[a-zA-Z], |    )--[a-z][a-z-]*' | grep -oE -- '--[a-z-]+'); do
		n=$((n + 1))
		# shellcheck disable=SC2086
		err=$("$CDM" $sub "$o" 2>&1 >/dev/null </dev/null | grep -E "unrecognized option|requires an argument" | grep -v "requires an argument")
		[ -z "$err" ] || bad+=("$o: $err")
	done
	check "$c --help lists only options its parser takes" ${#bad[@]} "${bad[*]:-}"
done
[ "$n" -ge 30 ]
check "the help of all commands lists options ($n)" $? "only $n options found"

# an option a command does not have is a usage error with the help
expect_err_usage() {
	local out rc
	out=$("$CDM" "$@" 2>&1 >/dev/null)
	rc=$?
	[ $rc -eq 2 ] && printf '%s\n' "$out" | grep -q "unrecognized option" &&
		printf '%s\n' "$out" | grep -q "^usage: cdmbench $1"
}
expect_err_usage show --limit 3 last
check "show --limit is refused with show's usage" $? "$("$CDM" show --limit 3 last 2>&1)"
expect_err_usage compare --seed 1 1 2
check "compare --seed is refused with compare's usage" $? "$("$CDM" compare --seed 1 1 2 2>&1)"
