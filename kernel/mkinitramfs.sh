#!/bin/sh
# Pack the cdmbench guest initramfs: our static /init plus the mount points
# it uses before the host root is available. Uncompressed newc cpio, which
# every kernel accepts without any RD_* decompressor configured.
#
# usage: kernel/mkinitramfs.sh GUEST_INIT_BINARY OUT.cpio

set -eu

die() { echo "cdmbench-kernel: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: mkinitramfs.sh GUEST_INIT_BINARY OUT.cpio"
init_bin=$1
out=$2

[ -f "$init_bin" ] && [ -x "$init_bin" ] ||
	die "guest init $init_bin is not an executable file"
command -v cpio >/dev/null 2>&1 ||
	die "cpio not found; install it with: apt-get install -y cpio"
# The initramfs has no libc: a dynamic /init would fail with ENOENT.
if command -v file >/dev/null 2>&1 &&
   file -L "$init_bin" | grep -q 'dynamically linked'; then
	die "guest init $init_bin is dynamically linked; build it with -static"
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/cdmbench-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage/dev" "$stage/proc" "$stage/sys" "$stage/newroot"
cp "$init_bin" "$stage/init"
chmod 0755 "$stage/init"
# With /dev/console in the archive the kernel opens it as init's stdio before
# /init runs, so even a failing devtmpfs mount is reported. Creating the node
# needs root; without it /init falls back to devtmpfs's console.
if [ "$(id -u)" = 0 ]; then
	mknod -m 0600 "$stage/dev/console" c 5 1
fi

out_dir=$(dirname "$out")
[ -d "$out_dir" ] || die "output directory $out_dir does not exist"
tmp_out="$out.tmp.$$"
# Root-owned entries whoever packs it; sorted for a stable listing.
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0) >"$tmp_out" ||
	{ rm -f "$tmp_out"; die "cpio failed writing $out"; }
mv "$tmp_out" "$out"
