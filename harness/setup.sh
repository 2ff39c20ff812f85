#!/bin/sh
# Install what cdmbench needs on Debian 12. As root it installs missing
# packages itself; otherwise it prints the exact apt-get line and stops.
#
#   harness/setup.sh            everything make run / make test need
#   harness/setup.sh --check    only report what is missing (exit 1 if any)
set -eu

# core build: compiler, libraries the harness links
CORE="gcc make pkg-config libsqlite3-dev sqlite3 libinih-dev liburing-dev libnuma-dev libssl-dev zlib1g-dev"
# optional features compiled in when present
OPTIONAL="likwid libcurl4-openssl-dev"
# the fuzz targets (make fuzz, and briefly in make test): clang with
# libFuzzer and the sanitizer runtimes
FUZZ="clang libclang-rt-14-dev"
# the emulated node: kernel build and QEMU
VM="qemu-system-x86 flex bison bc libelf-dev cpio xz-utils dpkg-dev"
# the fleet tests start their own Slurm cluster (munged, slurmctld,
# slurmd), InfluxDB 1.x and VictoriaMetrics on loopback (tests/fleet/)
FLEET="slurmctld slurmd slurm-client munge influxdb victoria-metrics curl"
# the report test opens the HTML in a headless browser
# tests read JSON and images with python3
TEST="chromium python3"
# the HIP engine plugin (ROCm 5.2.3 in Debian 12): compiler, runtime, tools.
# Without recommends: about 353 MB instead of several GB. The CUDA plugin
# needs nvcc from NVIDIA's toolkit (not in Debian); make builds it when found.
HIP="hipcc libamdhip64-dev rocminfo rocm-smi librocm-smi-dev"

check_only=no
[ "${1:-}" = "--check" ] && check_only=yes

not_installed() {
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
			printf ' %s' "$p"
		fi
	done
}
# shellcheck disable=SC2086
missing=$(not_installed $CORE $OPTIONAL $FUZZ $VM $FLEET $TEST)
# shellcheck disable=SC2086
missing_hip=$(not_installed $HIP)

[ -z "$missing$missing_hip" ] && exit 0

if [ "$check_only" = yes ]; then
	echo "cdmbench-setup: missing Debian packages:$missing$missing_hip"
	exit 1
fi

if [ "$(id -u)" != 0 ]; then
	echo "cdmbench-setup: missing Debian packages:$missing$missing_hip" >&2
	echo "cdmbench-setup: install them as root, then run make again:" >&2
	[ -n "$missing" ] && echo "  apt-get install -y$missing" >&2
	[ -n "$missing_hip" ] && echo "  apt-get install -y --no-install-recommends$missing_hip" >&2
	exit 1
fi

# install PACKAGES with apt-get's extra ARGS; one retry after an update
install() {
	args=$1
	shift
	echo "cdmbench-setup: installing: $*"
	# shellcheck disable=SC2086
	if ! apt-get install -y -q $args "$@" >>/tmp/cdmbench-apt.log 2>&1; then
		# a fresh machine may have stale package lists
		apt-get update -q >>/tmp/cdmbench-apt.log 2>&1 || true
		# shellcheck disable=SC2086
		if ! apt-get install -y -q $args "$@" >>/tmp/cdmbench-apt.log 2>&1; then
			tail -n 20 /tmp/cdmbench-apt.log >&2
			echo "cdmbench-setup: apt-get install failed (log: /tmp/cdmbench-apt.log)" >&2
			exit 1
		fi
	fi
}

export DEBIAN_FRONTEND=noninteractive
: >/tmp/cdmbench-apt.log
# shellcheck disable=SC2086
[ -n "$missing" ] && install "" $missing
# shellcheck disable=SC2086
[ -n "$missing_hip" ] && install --no-install-recommends $missing_hip
echo "cdmbench-setup: done"
