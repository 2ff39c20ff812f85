#!/bin/bash
# Build the cdmbench guest kernel (and the upstream HMM/GUP selftests of the
# same tree) into a cache outside the clone, keyed by source and fragment.
#
# The guest kernel must carry options no distribution kernel has together
# (DEVICE_PRIVATE, TEST_HMM, GUP_TEST), so we build our own from tinyconfig
# plus kernel/cdmbench.config and verify the result before compiling: kconfig
# silently drops options whose dependencies are missing.
#
# stdout carries exactly one line, the absolute path of bzImage; everything
# else goes to stderr prefixed "cdmbench-kernel: ".

set -eu

# Bump when the build recipe changes in a way that changes the output, so old
# cache entries are not reused for it.
RECIPE=1

here=$(cd "$(dirname "$0")" && pwd)
# CDMBENCH_FRAGMENT: another fragment (tests, custom guests)
fragment=${CDMBENCH_FRAGMENT:-$here/cdmbench.config}

usage() {
	cat <<EOF
usage: kernel/build.sh [--print-path] [--rebuild] [--help]

Builds bzImage from Debian's ${KPKG:-linux-source-6.1} (fetched with apt-get
download) or from the tree named by KSRC, with kernel/cdmbench.config merged
on top of tinyconfig, then the upstream hmm-tests and gup_test selftests.
The last line on stdout is the absolute path of bzImage.

  --print-path  print the path bzImage has or would have; exit 0 if it is
                built, 1 if not. Builds and fetches nothing.
  --rebuild     build again (incrementally) even if a finished build exists
                (a KSRC tree with a source file newer than its build is
                built again without it)
  --help        this text

Environment:
  KSRC=DIR        build this kernel tree (>= 6.0) instead of the Debian one
  KPKG=NAME       Debian source package (default linux-source-6.1)
  CDMBENCH_CACHE  cache dir (default \${XDG_CACHE_HOME:-\$HOME/.cache}/cdmbench)
  CDMBENCH_FRAGMENT  config fragment (default kernel/cdmbench.config)

Output, in \$CDMBENCH_CACHE/kernel/<source>-<fragment hash>/:
  bzImage, config, kernel.json, build.log, include/{test_hmm_uapi.h,gup_test.h},
  selftests/{hmm-tests,gup_test}
EOF
}

msg() { echo "cdmbench-kernel: $*" >&2; }
warn() { echo "cdmbench-kernel: warning: $*" >&2; }
die() { echo "cdmbench-kernel: $*" >&2; exit 1; }

print_path=0
rebuild=0
for arg in "$@"; do
	case $arg in
	--print-path) print_path=1 ;;
	--rebuild) rebuild=1 ;;
	--help|-h) usage; exit 0 ;;
	*) die "unknown argument '$arg' (see --help)" ;;
	esac
done

[ -r "$fragment" ] || die "config fragment $fragment not readable"

cache=${CDMBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cdmbench}
mkdir -p "$cache" || die "cannot create cache dir $cache"
cache=$(cd "$cache" && pwd)

# --- helpers -----------------------------------------------------------------

# Fragment lines that matter, with the "# optional" markers removed: this is
# what kconfig sees.
effective_fragment() {
	sed -e 's/[[:space:]]*#[[:space:]]*optional.*$//' "$fragment" |
		grep -E '^(CONFIG_[A-Za-z0-9_]+=|# CONFIG_[A-Za-z0-9_]+ is not set)'
}

# Cache key for the fragment: the settings and their required/optional
# marks, plus the recipe version. Comment edits do not force a rebuild.
fragment_hash() {
	{
		echo "cdmbench-kernel-recipe $RECIPE"
		grep -E '^(CONFIG_|# CONFIG_)' "$fragment"
	} | sha256sum | cut -c1-64
}

# "6.1.192" from a tree's top Makefile.
tree_version() {
	sed -n -e 's/^VERSION = //p' -e 's/^PATCHLEVEL = //p' \
		-e 's/^SUBLEVEL = //p' -e 's/^EXTRAVERSION =[ ]*//p' \
		"$1/Makefile" | head -4 |
		{ read -r v; read -r p; read -r s; read -r e || true
		  echo "$v.$p.${s:-0}$e"; }
}

# Checks a KSRC tree and sets src_tree, src_version, src_id.
use_local_tree() {
	[ -d "$KSRC" ] || die "KSRC=$KSRC is not a directory (or not accessible)"
	src_tree=$(cd "$KSRC" && pwd)
	grep -q '^VERSION = ' "$src_tree/Makefile" 2>/dev/null &&
		grep -q '^PATCHLEVEL = ' "$src_tree/Makefile" ||
		die "KSRC=$KSRC is not a kernel tree (no Makefile with VERSION/PATCHLEVEL)"
	src_version=$(tree_version "$src_tree")
	local major=${src_version%%.*}
	[ "$major" -ge 6 ] 2>/dev/null ||
		die "KSRC=$KSRC is Linux $src_version; cdmbench needs 6.0 or later (MEMORY_DEVICE_COHERENT in lib/test_hmm.c)"
	[ -f "$src_tree/lib/test_hmm.c" ] ||
		die "KSRC=$KSRC has no lib/test_hmm.c (Linux $src_version)"
	# Two trees of one version must not share a cache entry.
	local path_hash
	path_hash=$(printf '%s' "$src_tree" | sha256sum | cut -c1-8)
	src_id="local-$src_version-$path_hash"
	src_desc="$src_tree"
}

# Version string safe for a path: 6.12.117-1~deb12u1 -> 6.12.117-1_deb12u1
path_safe() { printf '%s' "$1" | tr -c 'A-Za-z0-9._+-' '_'; }

# Sets src_tree/src_version/src_id from the cached Debian source, if any.
# Returns 1 when nothing is cached yet.
use_cached_deb() {
	local stamp=$cache/src/$pkg.current
	[ -f "$stamp" ] || return 1
	deb_version=$(sed -n 's/^version=//p' "$stamp")
	src_tree=$(sed -n 's/^tree=//p' "$stamp")
	[ -n "$deb_version" ] && [ -f "$src_tree/Makefile" ] || return 1
	src_version=$(tree_version "$src_tree")
	src_id="deb-$(path_safe "$deb_version")"
	src_desc="$pkg $deb_version"
}

# Downloads and unpacks the Debian source package into $cache/src.
fetch_deb() {
	local dl tarball deb
	# apt drops privileges to _apt for downloads; give it a directory it can
	# reach (the cache under /root usually is not) to avoid the unsandboxed
	# download warning.
	dl=$(mktemp -d "${TMPDIR:-/tmp}/cdmbench-apt.XXXXXX")
	tmp=$cache/src/.unpack-$pkg
	trap 'rm -rf "$dl" "$tmp"' EXIT
	if [ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1; then
		chown _apt "$dl"
	fi
	msg "fetching $pkg with apt-get download"
	(cd "$dl" && apt-get download -q "$pkg") >&2 ||
		die "apt-get download $pkg failed (is it in the apt lists? try apt-get update)"
	deb=$(ls "$dl"/*.deb 2>/dev/null | head -1)
	[ -n "$deb" ] || die "apt-get download $pkg left no .deb in $dl"
	deb_version=$(dpkg-deb -f "$deb" Version)
	rm -rf "$tmp"; mkdir -p "$tmp/deb"
	dpkg -x "$deb" "$tmp/deb" || die "dpkg -x $deb failed"
	tarball=$(ls "$tmp"/deb/usr/src/linux-source-*.tar.* 2>/dev/null | head -1)
	[ -n "$tarball" ] || die "$pkg $deb_version holds no /usr/src/linux-source-*.tar.*"
	msg "unpacking $(basename "$tarball")"
	tar -C "$tmp" -xf "$tarball" || die "tar xf $tarball failed"
	rm -rf "$tmp/deb"
	local top
	top=$(ls -d "$tmp"/linux-source-* 2>/dev/null | head -1)
	[ -f "$top/Makefile" ] || die "$tarball did not unpack to a kernel tree"
	local final=$cache/src/${pkg}_$(path_safe "$deb_version")
	rm -rf "$final"
	mv "$top" "$final"
	rm -rf "$tmp" "$dl"
	trap - EXIT
	# Written last: an interrupted fetch leaves no stamp and is redone.
	printf 'version=%s\ntree=%s\n' "$deb_version" "$final" >"$cache/src/$pkg.current"
}

# Which tools and headers the build needs, as "test:package" pairs.
check_tools() {
	local missing="" item cmd pkgname
	for item in gcc:gcc make:make flex:flex bison:bison bc:bc \
		    tar:tar xz:xz-utils flock:util-linux sha256sum:coreutils \
		    dpkg-deb:dpkg; do
		cmd=${item%%:*}; pkgname=${item#*:}
		command -v "$cmd" >/dev/null 2>&1 || missing="$missing $pkgname"
	done
	[ -f /usr/include/libelf.h ] || [ -f /usr/include/libelf/libelf.h ] ||
		missing="$missing libelf-dev"
	[ -f /usr/include/openssl/opensslv.h ] || missing="$missing libssl-dev"
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		die "missing build tools; install them with: apt-get install -y$missing"
	fi
	msg "installing missing build tools:$missing"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >&2 ||
		die "apt-get install -y$missing failed"
}

# Lists, on one line, every required option the final .config lacks; the
# optional ones that did not stick only earn a warning.
verify_config() {
	local config=$1 bad="" soft="" line sym want got
	while IFS= read -r line; do
		case $line in
		CONFIG_*'# optional'*)
			sym=${line%%=*}; want=${line#*=}
			want=${want%%[[:space:]]*}
			got=$(sed -n "s/^$sym=//p" "$config")
			[ "$got" = "$want" ] || soft="$soft $sym=$want(got ${got:-n})"
			;;
		CONFIG_*=*)
			sym=${line%%=*}; want=${line#*=}
			want=${want%%[[:space:]]*}
			got=$(sed -n "s/^$sym=//p" "$config")
			[ "$got" = "$want" ] || bad="$bad $sym=$want(got ${got:-n})"
			;;
		'# CONFIG_'*' is not set')
			sym=${line#\# }; sym=${sym%% *}
			got=$(sed -n "s/^$sym=//p" "$config")
			[ -z "$got" ] || bad="$bad $sym=n(got $got)"
			;;
		esac
	done <"$fragment"
	[ -z "$soft" ] || warn "optional options not set:$soft"
	[ -z "$bad" ] && return 0
	die "required options not set in $config:$bad"
}

kmake() { make -C "$src_tree" O="$obj" "$@"; }

# tinyconfig + fragment + olddefconfig, then verify before compiling.
configure() {
	effective_fragment >"$build/fragment.config"
	kmake tinyconfig >>"$log" 2>&1 || fail_log "make tinyconfig"
	"$src_tree/scripts/kconfig/merge_config.sh" -m -O "$obj" \
		"$obj/.config" "$build/fragment.config" >>"$log" 2>&1 ||
		fail_log "merge_config.sh"
	kmake olddefconfig >>"$log" 2>&1 || fail_log "make olddefconfig"
	verify_config "$obj/.config"
}

fail_log() {
	tail -n 40 "$log" >&2
	die "$1 failed; full log: $log"
}

# Selftest sources a program needs besides its own .c, as listed by the
# selftest Makefile ("$(TEST_GEN_FILES): vm_util.c" on newer trees,
# "$(OUTPUT)/prog: vm_util.c" on older ones).
selftest_extra_sources() {
	local dir=$1 prog=$2 f
	sed -n -e 's/^\$(TEST_GEN_FILES)[[:space:]]*:\(.*\)$/\1/p' \
		-e "s/^\\\$(OUTPUT)\\/$prog[[:space:]]*:\\(.*\\)\$/\\1/p" \
		"$dir/Makefile" | tr ' ' '\n' | grep '\.c$' | sort -u |
		while read -r f; do
			[ -f "$dir/$f" ] && echo "$dir/$f"
		done
}

# hmm-tests and gup_test, static, against the uapi of the tree just built.
# The dir is selftests/vm up to 6.2 and selftests/mm from 6.3.
build_selftests() {
	local stdir=$src_tree/tools/testing/selftests out=$build/selftests
	local dir hdr prog extra
	if [ -d "$stdir/mm" ]; then dir=$stdir/mm; else dir=$stdir/vm; fi
	# "make headers" leaves the sanitized uapi headers in $obj/usr/include;
	# headers_install would only copy them elsewhere, and needs rsync.
	hdr=$obj/usr
	mkdir -p "$out"
	kmake headers >>"$stlog" 2>&1 || return 1
	for prog in hmm-tests gup_test; do
		[ -f "$dir/$prog.c" ] || { echo "no $dir/$prog.c" >>"$stlog"; return 1; }
		extra=$(selftest_extra_sources "$dir" "$prog")
		# hmm-tests includes <lib/test_hmm_uapi.h> and <mm/gup_test.h>
		# relative to the tree root, and "../kselftest_harness.h"
		# relative to itself.
		echo "building $prog:" >>"$stlog"
		gcc -static -O2 -Wall -D_GNU_SOURCE \
			-I "$stdir" -I "$src_tree" -I "$hdr/include" \
			-o "$out/$prog.tmp" "$dir/$prog.c" $extra \
			-lrt -lpthread -lm >>"$stlog" 2>&1 || return 1
		mv "$out/$prog.tmp" "$out/$prog"
	done
}

json_str() {
	printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
}

write_json() {
	local release=$1 config_sha=$2 hmm=null gup=null
	[ -x "$build/selftests/hmm-tests" ] && hmm=$(json_str "$build/selftests/hmm-tests")
	[ -x "$build/selftests/gup_test" ] && gup=$(json_str "$build/selftests/gup_test")
	cat >"$build/kernel.json.tmp" <<EOF
{
  "release": $(json_str "$release"),
  "source": $(json_str "$src_desc"),
  "source_version": $(json_str "$src_version"),
  "source_tree": $(json_str "$src_tree"),
  "fragment_sha256": $(json_str "$frag_hash"),
  "config_sha256": $(json_str "$config_sha"),
  "bzimage": $(json_str "$build/bzImage"),
  "include_dir": $(json_str "$build/include"),
  "hmm_tests": $hmm,
  "gup_test": $gup,
  "compiler": $(json_str "$(gcc --version | head -1)"),
  "built_at": $(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")
}
EOF
	mv "$build/kernel.json.tmp" "$build/kernel.json"
}

# --- main ----------------------------------------------------------------------

frag_hash=$(fragment_hash)
pkg=${KPKG:-linux-source-6.1}
deb_version=""

if [ -n "${KSRC:-}" ]; then
	use_local_tree
elif ! use_cached_deb; then
	if [ "$print_path" = 1 ]; then
		# Not fetched yet: name the path the candidate version would get.
		deb_version=$(apt-cache policy "$pkg" 2>/dev/null |
			sed -n 's/^ *Candidate: //p')
		[ -n "$deb_version" ] && [ "$deb_version" != "(none)" ] ||
			die "$pkg is not known to apt (try apt-get update)"
		echo "$cache/kernel/deb-$(path_safe "$deb_version")-$(echo "$frag_hash" | cut -c1-12)/bzImage"
		exit 1
	fi
	check_tools
	fetch_deb
	use_cached_deb || die "fetched $pkg but cannot use $cache/src/$pkg.current"
fi

build=$cache/kernel/$src_id-$(echo "$frag_hash" | cut -c1-12)
image=$build/bzImage

# A KSRC tree is the user's to edit, and its cache entry is keyed by its
# path: a source file newer than the finished build means the tree
# changed, and kbuild rebuilds what changed (a stale kernel would make an
# A/B comparison compare the old code). The Debian tree never changes
# under its versioned path.
changed_since() {
	find "$src_tree" -newer "$1" -type f \( -name '*.[chS]' -o -name 'Makefile' \
		-o -name 'Kconfig*' -o -name 'Kbuild' -o -name '*.lds.S' \) -print -quit 2>/dev/null
}
if [ "$print_path" = 1 ]; then
	echo "$image"
	[ -f "$build/.done" ] &&
		{ [ -z "${KSRC:-}" ] || [ -z "$(changed_since "$build/.done")" ]; } && exit 0
	exit 1
fi

if [ "$rebuild" = 0 ] && [ -n "${KSRC:-}" ] && [ -f "$build/.done" ]; then
	newer=$(changed_since "$build/.done")
	if [ -n "$newer" ]; then
		msg "KSRC changed since the cached build (${newer#"$src_tree"/} and maybe more): building again"
		rebuild=1
	fi
fi

if [ "$rebuild" = 0 ] && [ -f "$build/.done" ] && [ -f "$image" ]; then
	msg "cached $image"
	echo "$image"
	exit 0
fi

check_tools
mkdir -p "$build"
# One builder per cache entry; a second caller waits, then finds it done.
exec 9>"$build.lock"
if ! flock -n 9; then
	msg "another build of $build is running; waiting"
	flock 9
	if [ "$rebuild" = 0 ] && [ -f "$build/.done" ]; then
		msg "cached $image"
		echo "$image"
		exit 0
	fi
fi

rm -f "$build/.done"
obj=$build/obj
log=$build/build.log
stlog=$build/selftests.log
mkdir -p "$obj" "$build/include"
: >"$log"
: >"$stlog"

start=$(date +%s)
msg "configuring $src_desc (Linux $src_version) in $build"
configure
jobs=$(nproc)
msg "building bzImage with make -j$jobs (a few minutes; log: $log)"
kmake -j"$jobs" bzImage >>"$log" 2>&1 || fail_log "make bzImage"

release=$(kmake -s --no-print-directory kernelrelease 2>>"$log")
cp "$obj/arch/x86/boot/bzImage" "$image.tmp" && mv "$image.tmp" "$image"
cp "$obj/.config" "$build/config"
config_sha=$(sha256sum "$build/config" | cut -c1-64)

# The harness compiles against the uapi of the kernel it boots, not the host's.
cp "$src_tree/lib/test_hmm_uapi.h" "$src_tree/mm/gup_test.h" "$build/include/"

msg "building selftests hmm-tests and gup_test (log: $stlog)"
if ! build_selftests; then
	tail -n 20 "$stlog" >&2
	warn "selftests did not build; the kernel is still usable (log: $stlog)"
fi

write_json "$release" "$config_sha"
# Written last: without it the entry is an unfinished build.
touch "$build/.done"
msg "built Linux $release in $(( $(date +%s) - start )) s"
echo "$image"
