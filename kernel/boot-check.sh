#!/bin/bash
# Manual prototype, not part of `make test`: boot the cached cdmbench guest
# kernel under QEMU the way the harness will, and show that the emulated
# Frontier-like node is complete: two NUMA nodes, /dev/hmm_dmirror0..3 (two
# private, two coherent devices on a reserved range), gup_test in debugfs,
# the host's binaries runnable in the chroot, a writable result share, and a
# clean power-off with guest.rc written.
#
# usage: kernel/boot-check.sh [normal|selftests|panic|hang|kvm]
#   normal     (default) the checks above
#   selftests  also run the upstream hmm-tests built by build.sh
#   panic      boot with cdmbench.panic_test=1: QEMU must exit on the panic
#   hang       boot with cdmbench.hang_test=1: killed after HANG_S seconds
#   kvm        try -accel kvm with a short timeout and say whether it works
#
# Needs a finished kernel/build.sh; leaves its files in a temp dir it names.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-normal}
HANG_S=${HANG_S:-30}
KVM_S=${KVM_S:-20}
# Plain "host" or "max" made QEMU 7.2 abort here at once ("failed to set MSR
# 0x10a", IA32_ARCH_CAPABILITIES); without that MSR it gets to the firmware.
KVM_CPU=${KVM_CPU:-host,-arch-capabilities}
BOOT_S=${BOOT_S:-600}

die() { echo "cdmbench-kernel: $*" >&2; exit 1; }
msg() { echo "cdmbench-kernel: $*" >&2; }

case $mode in
normal|selftests|panic|hang|kvm) ;;
*) die "unknown mode '$mode' (normal|selftests|panic|hang|kvm)" ;;
esac

image=$("$here/build.sh" --print-path) ||
	die "no finished kernel at $image; run kernel/build.sh first"
build=$(dirname "$image")
command -v qemu-system-x86_64 >/dev/null 2>&1 ||
	die "qemu-system-x86_64 not found; install it with: apt-get install -y qemu-system-x86"

work=$(mktemp -d "${TMPDIR:-/tmp}/cdmbench-boot.XXXXXX")
share=$work/share
mkdir -p "$share"
msg "work dir $work"

gcc -static -O2 -Wall -Wextra -Werror -o "$work/init" "$here/guest-init.c"
"$here/mkinitramfs.sh" "$work/init" "$work/init.cpio"

# What the guest runs. The host root is the guest's root, so $build (the
# kernel cache) is readable in the guest at the same path.
cat >"$share/guest.sh" <<EOF
echo "guest: kernel \$(uname -r), \$(nproc) cpus"
echo "guest: nodes online \$(cat /sys/devices/system/node/online)"
for n in /sys/devices/system/node/node[0-9]*; do
	echo "guest: \${n##*/} \$(grep MemTotal \$n/meminfo | sed 's/.*MemTotal: *//')"
done
echo "guest: dmirror devices:"; ls -l /dev/hmm_dmirror*
echo "guest: iomem lines overlapping the reserved 0x100000000-0x11fffffff:"
while IFS= read -r line; do
	range=\${line%% : *}; range=\${range##* }
	[ \$((0x\${range%-*} <= 0x11fffffff && 0x\${range#*-} >= 0x100000000)) = 1 ] &&
		echo "\$line"
done </proc/iomem
echo "guest: gup_test: \$(ls -l /sys/kernel/debug/gup_test)"
echo "guest: thp \$(cat /sys/kernel/mm/transparent_hugepage/enabled)"
echo "guest: \$(grep HugePages_Total /proc/meminfo)"
echo "guest: host sqlite3 \$(sqlite3 --version | cut -d' ' -f1)"
echo "guest: 9p mounts:"; grep 9p /proc/mounts
# Non-zero means a WARN or worse happened during boot.
echo "guest: tainted \$(cat /proc/sys/kernel/tainted)"
date -u +%FT%TZ >/run/cdmbench/written-by-guest
if [ "$mode" = selftests ]; then
	echo "guest: running $build/selftests/hmm-tests"
	"$build/selftests/hmm-tests" >/run/cdmbench/hmm-tests.log 2>&1
	echo "guest: hmm-tests rc=\$?"; tail -n 3 /run/cdmbench/hmm-tests.log
fi
ls -l /dev/hmm_dmirror0 /dev/hmm_dmirror1 /dev/hmm_dmirror2 /dev/hmm_dmirror3 >/dev/null
EOF

append="console=ttyS0 panic=-1 transparent_hugepage=madvise hugepages=8"
# 512 MiB of the RAM QEMU puts at 4-5 GiB becomes reserved e820, i.e. no
# longer System RAM: the stand-in for GPU memory. Each coherent dmirror
# device takes one 256 MiB chunk of it (dev1 is minor 2, dev0 minor 3).
append="$append memmap=512M\$0x100000000"
append="$append test_hmm.spm_addr_dev0=0x100000000 test_hmm.spm_addr_dev1=0x110000000"
case $mode in
panic) append="$append cdmbench.panic_test=1" ;;
hang) append="$append cdmbench.hang_test=1" ;;
esac

accel="-accel tcg -cpu max"
limit=$BOOT_S
case $mode in
hang) limit=$HANG_S ;;
kvm) accel="-accel kvm -cpu $KVM_CPU"; limit=$KVM_S ;;
esac

# 4 GiB in two NUMA nodes of 2 GiB (QEMU >= 5.1 wants memdev, not mem=);
# with -m 4G the pc machine puts 3 GiB below 4 GiB and 1 GiB above.
# One socket per node: two cores of one socket in different nodes share an
# LLC across nodes, which the kernel WARNs about (and is tainted by) at boot.
# The host root spans several file systems (/proc, /sys, ...): multidevs=remap
# keeps their inode numbers from colliding in the guest.
# shellcheck disable=SC2086
set -- qemu-system-x86_64 $accel -smp 2,sockets=2,cores=1,threads=1 -m 4G \
	-object memory-backend-ram,id=mem0,size=2G \
	-object memory-backend-ram,id=mem1,size=2G \
	-numa node,nodeid=0,cpus=0,memdev=mem0 \
	-numa node,nodeid=1,cpus=1,memdev=mem1 \
	-nographic -no-reboot \
	-kernel "$image" -initrd "$work/init.cpio" -append "$append" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$share,mount_tag=cdmout,security_model=none"
printf '%q ' "$@" >"$work/qemu.cmd"; echo >>"$work/qemu.cmd"
msg "booting ($mode, limit ${limit}s): $(cat "$work/qemu.cmd")"

start=$(date +%s.%N)
set +e
timeout "$limit" "$@" </dev/null 2>&1 | tee "$work/console.log"
qemu_rc=${PIPESTATUS[0]}
set -e
secs=$(echo "$(date +%s.%N) - $start" | bc)
msg "qemu exited rc=$qemu_rc after ${secs}s"

rc_file=$share/guest.rc
case $mode in
normal|selftests)
	[ -f "$rc_file" ] || die "no guest.rc: the guest did not finish (console: $work/console.log)"
	grep -q 'reboot: Power down' "$work/console.log" ||
		die "no clean power-off on the console"
	[ -s "$share/written-by-guest" ] || die "the writable share did not get the guest's file"
	msg "guest.rc=$(cat "$rc_file"), power-off clean, share writable"
	[ "$(cat "$rc_file")" = 0 ] || die "guest.sh failed"
	;;
panic)
	grep -m1 'Kernel panic' "$work/console.log" >&2 || die "no kernel panic seen"
	[ ! -f "$rc_file" ] || die "guest.rc written despite the panic"
	;;
hang)
	[ "$qemu_rc" = 124 ] || die "qemu did not run into the ${limit}s limit (rc=$qemu_rc)"
	grep -m1 'cdmbench-init: hang_test' "$work/console.log" >&2
	;;
kvm)
	if grep -q 'cdmbench-init: done rc=0' "$work/console.log"; then
		msg "KVM works"
	else
		msg "KVM did not boot the guest within ${limit}s (qemu rc=$qemu_rc)"
		exit 1
	fi
	;;
esac
msg "ok ($mode)"
