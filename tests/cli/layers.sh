#!/bin/bash
# The layers point one way. harness/ is util -> stats -> core -> store ->
# analysis -> report -> vm -> fleet -> cli; a file may include headers of
# its own layer or a lower one. workloads/, workloads/lib/ and
# workloads/engine/ (the device engines and fixture) sit on core (util,
# stats, core, lib, engine); the harness reaches them only through what core
# declares (the workload registry, the device scan), never by an include.
# A violation is named by file:line.
. "$(dirname "$0")/../lib.sh"

LAYERS="util stats core store analysis report vm fleet cli"

# rank of a harness layer, or nothing
rank() {
	local i=0 l
	for l in $LAYERS; do
		[ "$l" = "$1" ] && { echo $i; return; }
		i=$((i + 1))
	done
}

core_rank=$(rank core)
bad=()
n=0
while IFS= read -r hit; do
	# hit: path:line:#include "dir/name.h"
	file=${hit%%:*}
	rest=${hit#*:}
	line=${rest%%:*}
	inc=$(printf '%s' "$rest" | sed -E 's/^[0-9]+:[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]*)".*/\1/')
	n=$((n + 1))
	case $inc in
	*/*) dir=${inc%%/*} ;;
	*) dir= ;;	# same folder
	esac
	case $file in
	harness/*)
		from=${file#harness/}
		from=${from%%/*}
		fr=$(rank "$from")
		if [ -z "$fr" ]; then
			[ "$from" = "${file#harness/}" ] && continue	# harness/setup.sh etc.
			bad+=("$file:$line: harness/$from/ is not a layer ($LAYERS)")
			continue
		fi
		[ -z "$dir" ] && continue
		if [ "$dir" = lib ] || [ "$dir" = engine ]; then
			bad+=("$file:$line: includes \"$inc\": the harness reaches workloads/$dir only through core (declare it in core, define it in workloads/$dir)")
			continue
		fi
		tr=$(rank "$dir")
		if [ -z "$tr" ]; then
			bad+=("$file:$line: includes \"$inc\": '$dir' is not a layer")
		elif [ "$tr" -gt "$fr" ]; then
			bad+=("$file:$line: includes \"$inc\": $from may not include $dir (a higher layer)")
		fi
		;;
	workloads/*)
		[ -z "$dir" ] || [ "$dir" = lib ] || [ "$dir" = engine ] && continue
		tr=$(rank "$dir")
		if [ -z "$tr" ] || [ "$tr" -gt "$core_rank" ]; then
			bad+=("$file:$line: includes \"$inc\": workloads sit on core (util, stats, core, lib, engine only)")
		fi
		;;
	esac
done < <(cd "$TOP" && grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' \
	harness/*/*.[ch] workloads/*.[ch] workloads/lib/*.[ch] workloads/engine/*.[ch])

if [ "$n" -lt 100 ]; then
	fail "includes point down the layers" "only $n includes found: the scan is broken"
elif [ ${#bad[@]} -eq 0 ]; then
	pass "includes point down the layers ($n includes checked)"
else
	fail "includes point down the layers" "${bad[@]}"
fi

# the harness folders are exactly the layers, so a new file lands in one
extra=()
for d in "$TOP"/harness/*/; do
	d=$(basename "$d")
	[ -n "$(rank "$d")" ] || extra+=("harness/$d/ is not a layer ($LAYERS)")
done
check "harness/ holds only layer folders" ${#extra[@]} "${extra[*]:-}"
