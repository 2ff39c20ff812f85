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

check_only=no
[ "${1:-}" = "--check" ] && check_only=yes

missing=""
for p in $CORE $OPTIONAL $FUZZ $VM $FLEET $TEST; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

if [ "$check_only" = yes ]; then
	echo "cdmbench-setup: missing Debian packages:$missing"
	exit 1
fi

if [ "$(id -u)" != 0 ]; then
	echo "cdmbench-setup: missing Debian packages:$missing" >&2
	echo "cdmbench-setup: install them as root, then run make again:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi

echo "cdmbench-setup: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! apt-get install -y -q $missing >/tmp/cdmbench-apt.log 2>&1; then
	# a fresh machine may have stale package lists
	apt-get update -q >>/tmp/cdmbench-apt.log 2>&1 || true
	# shellcheck disable=SC2086
	if ! apt-get install -y -q $missing >>/tmp/cdmbench-apt.log 2>&1; then
		tail -n 20 /tmp/cdmbench-apt.log >&2
		echo "cdmbench-setup: apt-get install failed (log: /tmp/cdmbench-apt.log)" >&2
		exit 1
	fi
fi
echo "cdmbench-setup: done"
