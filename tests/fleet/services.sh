# shellcheck shell=bash
# Services the fleet tests start on loopback and always stop: munged,
# slurmctld and one slurmd per node name (several node names on one host,
# told apart by SLURMD_NODENAME), influxd (v1) and victoria-metrics.
# Every daemon runs in the foreground as our child; svc_stop_all (set as
# an EXIT trap by svc_init) stops each by its pid, whatever happened.
# Ports are asked of the kernel on 127.0.0.1 only.

SVC_PIDS=()
SVC_CGROUP=""

svc_init() {	# DIR: private folder for keys, state, logs
	SVC_DIR=$1
	mkdir -p "$SVC_DIR"
	chmod 700 "$SVC_DIR"
	trap 'svc_stop_all; [ -n "${KEEP_TMP:-}" ] || rm -rf "$T_TMP"' EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
}

# every process our slurmds started (slurmstepd and the tasks outlive a
# killed slurmd): they carry our private SLURM_CONF in their environment
svc_strays() {
	local p
	[ -n "${SVC_DIR:-}" ] || return 0
	for p in $(pgrep -f 'slurmstepd|cdmbench' 2>/dev/null); do
		{ tr '\0' '\n' <"/proc/$p/environ" |
			grep -qxF "SLURM_CONF=$SVC_DIR/slurm/slurm.conf" && echo "$p"; } 2>/dev/null
	done
}

svc_stop_all() {
	local p i
	# let Slurm end its jobs first, then sweep what is left
	if [ -n "${SLURM_CONF:-}" ] && [ -e "${SLURM_CONF:-}" ]; then
		# shellcheck disable=SC2046 # one job id per word
		scancel --quiet $(squeue -h -o %i 2>/dev/null) 2>/dev/null
	fi
	for p in "${SVC_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${SVC_PIDS[@]}"; do
		for i in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	SVC_PIDS=()
	for i in 1 2 3; do
		p=$(svc_strays)
		[ -z "$p" ] && break
		# shellcheck disable=SC2086
		kill -KILL $p 2>/dev/null
		sleep 0.2
	done
	if [ -n "$SVC_CGROUP" ] && [ -d "$SVC_CGROUP" ]; then
		for p in $(cat "$SVC_CGROUP/cgroup.procs" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		for i in $(seq 20); do
			rmdir "$SVC_CGROUP" 2>/dev/null && break
			sleep 0.1
		done
	fi
	return 0
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for SECONDS CMD...: until CMD succeeds
wait_for() {
	local t=$1 i
	shift
	for i in $(seq $((t * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

svc_missing() {	# prints what is not installed
	local b m=""
	for b in "$@"; do
		command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || m="$m $b"
	done
	printf '%s' "$m"
}

# svc_can_push NAME HINT TOOL...: SKIP NAME and return 1 unless the tools
# are installed (HINT follows the list of missing ones) and cdmbench pushes
svc_can_push() {
	local name=$1 hint=$2 missing
	shift 2
	missing=$(svc_missing "$@")
	if [ -n "$missing" ]; then
		skip "$name" "not installed:$missing$hint"
		return 1
	fi
	if ! "$CDM" --version | grep -q 'libcurl .*push'; then
		skip "$name" "cdmbench built without libcurl"
		return 1
	fi
}

# slurm_start N [SLOW_NODE]: munged, slurmctld, slurmd n1..nN; the slow
# node's slurmd (and so every task it starts) gets 1% of one CPU through
# a cgroup CPU quota (see slow_start).
slurm_start() {
	local n=$1 slow=${2:-} d=$SVC_DIR/slurm i port
	mkdir -p "$d/state" "$d/log"
	chmod 700 "$d"
	head -c 1024 /dev/urandom >"$d/munge.key"
	chmod 600 "$d/munge.key"
	/usr/sbin/munged -F --force -S "$d/munge.sock" --key-file="$d/munge.key" \
		--pid-file="$d/munged.pid" --log-file="$d/log/munged.log" \
		--seed-file="$d/munge.seed" >"$d/log/munged.out" 2>&1 &
	SVC_PIDS+=($!)
	wait_for 10 test -S "$d/munge.sock" || { echo "# munged did not start" >&2; return 1; }
	SLURM_CTLD_PORT=$(free_port)
	cat >"$d/slurm.conf" <<CONF
ClusterName=cdmtest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$SLURM_CTLD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$d/munge.sock
CredType=cred/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool/%n
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd-%n.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
KillWait=5
CONF
	for i in $(seq "$n"); do
		port=$(free_port)
		echo "NodeName=n$i NodeHostname=localhost NodeAddr=127.0.0.1 Port=$port CPUs=1 RealMemory=1000" >>"$d/slurm.conf"
	done
	echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES" >>"$d/slurm.conf"
	echo "CgroupPlugin=cgroup/v1" >"$d/cgroup.conf"
	export SLURM_CONF=$d/slurm.conf
	/usr/sbin/slurmctld -D -c -f "$d/slurm.conf" >"$d/log/slurmctld.out" 2>&1 &
	SVC_PIDS+=($!)
	wait_for 20 scontrol ping || { echo "# slurmctld did not answer" >&2; return 1; }
	for i in $(seq "$n"); do
		mkdir -p "$d/spool/n$i"
		if [ "n$i" = "$slow" ]; then
			slow_start /usr/sbin/slurmd -D -N "n$i" -f "$d/slurm.conf"
		else
			/usr/sbin/slurmd -D -N "n$i" -f "$d/slurm.conf" >"$d/log/slurmd-n$i.out" 2>&1 &
			SVC_PIDS+=($!)
		fi
	done
	wait_for 30 sh -c "[ \"\$(sinfo -h -t idle -o %D)\" = $n ]" ||
		{ echo "# $n nodes not idle: $(sinfo -h 2>&1)" >&2; return 1; }
}

# a real slowdown: the cgroup quota applies to the daemon and every
# process it forks, so only that node's measurements suffer. 1 ms of CPU
# per 100 ms period: a sample that needs more than 2 ms of CPU crosses at
# least one whole throttle, so it takes 50x as long at the least, whatever
# the phase it starts at (a sample shorter than the 1 ms quota could fit
# in it and not be slowed at all: keep the test's samples long).
# cgroup v1 (cpu.cfs_quota_us) or v2 (cpu.max, where the cpu controller is
# already enabled for children: we do not change the host's set-up).
# SLOW_CERTAIN=1 says n4 is slowed; without a writable cgroup (or with
# CDM_TEST_NO_CGROUP=1) it is not, and SLOW_CERTAIN=0.
SLOW_PERIOD_US=100000
SLOW_QUOTA_US=1000
slow_cgroup() {
	local v1=/sys/fs/cgroup/cpu v2 cg
	[ -z "${CDM_TEST_NO_CGROUP:-}" ] || return 1
	cg=$v1/cdmbench-fleet-$$
	if [ -w "$v1/cgroup.procs" ] && mkdir "$cg" 2>/dev/null; then
		if echo $SLOW_PERIOD_US >"$cg/cpu.cfs_period_us" &&
		   echo $SLOW_QUOTA_US >"$cg/cpu.cfs_quota_us"; then
			SVC_CGROUP=$cg
			SLOW_HOW="cgroup v1 CPU quota: 1 ms per 100 ms"
			return 0
		fi
		rmdir "$cg"
	fi
	for v2 in /sys/fs/cgroup /sys/fs/cgroup/unified; do
		grep -qw cpu "$v2/cgroup.subtree_control" 2>/dev/null || continue
		cg=$v2/cdmbench-fleet-$$
		mkdir "$cg" 2>/dev/null || continue
		if echo "$SLOW_QUOTA_US $SLOW_PERIOD_US" >"$cg/cpu.max"; then
			SVC_CGROUP=$cg
			SLOW_HOW="cgroup v2 cpu.max: 1 ms per 100 ms"
			return 0
		fi
		rmdir "$cg"
	done
	return 1
}

slow_start() {
	if slow_cgroup; then
		SLOW_CERTAIN=1
		sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$SVC_CGROUP" "$@" \
			>"$SVC_DIR/slow.out" 2>&1 &
		SVC_PIDS+=($!)
		return 0
	fi
	# no cgroup: nothing else slows one node alone for certain (a
	# real-time duty cycle on its CPU was tried: what it did depended on
	# the machine's other load), so n4 runs as it is and the test skips
	# the check
	SLOW_CERTAIN=0
	"$@" >"$SVC_DIR/slow.out" 2>&1 &
	SVC_PIDS+=($!)
	SLOW_HOW="not slowed: no cgroup CPU control to write"
}

# influxd v1 on a free loopback port: prints the port
influx_start() {
	local d=$SVC_DIR/influx port rpc
	mkdir -p "$d"
	port=$(free_port)
	rpc=$(free_port)
	cat >"$d/influxd.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$rpc"
[meta]
  dir = "$d/meta"
[data]
  dir = "$d/data"
  wal-dir = "$d/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:$port"
  log-enabled = false
  max-body-size = 0
[continuous_queries]
  enabled = false
CONF
	influxd run -config "$d/influxd.conf" >"$d/influxd.log" 2>&1 &
	SVC_PIDS+=($!)
	wait_for 20 curl -sf "http://127.0.0.1:$port/ping" || { echo "# influxd did not start" >&2; return 1; }
	INFLUX_PORT=$port
}

vm_start() {
	local d=$SVC_DIR/vm port
	mkdir -p "$d"
	port=$(free_port)
	victoria-metrics -storageDataPath="$d/data" -httpListenAddr="127.0.0.1:$port" \
		-retentionPeriod=100y -dedup.minScrapeInterval=1ms >"$d/vm.log" 2>&1 &
	SVC_PIDS+=($!)
	wait_for 20 curl -sf "http://127.0.0.1:$port/health" || { echo "# victoria-metrics did not start" >&2; return 1; }
	VM_PORT=$port
}

# fake_start NAME ARGS...: the misbehaving server (fakeinflux.py); sets
# FAKE_PORT, FAKE_STORE (lines kept) and FAKE_LOG (one line per request)
fake_start() {
	local d=$SVC_DIR/fake-$1
	shift
	mkdir -p "$d"
	FAKE_STORE=$d/store FAKE_LOG=$d/log
	: >"$FAKE_STORE"
	: >"$FAKE_LOG"
	python3 "$TOP/tests/fleet/fakeinflux.py" --port-file "$d/port" \
		--store "$FAKE_STORE" --log "$FAKE_LOG" "$@" 2>"$d/err" &
	FAKE_PID=$!
	SVC_PIDS+=($FAKE_PID)
	wait_for 10 test -s "$d/port" || { echo "# fake server did not start" >&2; return 1; }
	FAKE_PORT=$(cat "$d/port")
}

fake_stop() {
	kill -TERM "$FAKE_PID" 2>/dev/null
	wait "$FAKE_PID" 2>/dev/null
	return 0
}
