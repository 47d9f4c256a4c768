#!/usr/bin/env bash
# A throw-away single-node SLURM cluster (munged, mariadbd, slurmdbd, slurmctld, slurmd) for the
# test suite and CI: no systemd, every daemon started directly and tracked by the PID files in
# STATE_DIR, so `stop` never has to kill anything by name. Outside STATE_DIR it touches only
# /etc/munge/munge.key (created if missing), the symlink /run/slurm/conf (see link_run_slurm_conf)
# and, when STATE_DIR is too deep for socket paths, /tmp/slurm-cluster.<hash>; never /etc/slurm.
#
#   tools/setup/slurm-cluster.sh install             apt-get the Debian packages (root; no-op when present)
#   tools/setup/slurm-cluster.sh start  STATE_DIR    bring it up; last line on stdout: export SLURM_CONF=...
#   tools/setup/slurm-cluster.sh stop   STATE_DIR    cancel jobs, stop the daemons, wait until they are gone
#   tools/setup/slurm-cluster.sh status STATE_DIR    exit 0 only when every daemon is running
#
# Only the export line goes to stdout, so `eval "$(tools/setup/slurm-cluster.sh start DIR)"` works.
# Everything listens on 127.0.0.1 only. SLURM_CLUSTER_PORT (default 6817) moves the ports:
# slurmctld uses it, slurmd +1, slurmdbd +2, mariadbd +3.
set -euo pipefail

DEBS=(slurmctld slurmd slurm-client munge slurmdbd mariadb-server)
DAEMONS=(munged mariadbd slurmdbd slurmctld slurmd) # start order; stop goes in reverse
CLUSTER=localcluster
PARTITION=debug
PORT=${SLURM_CLUSTER_PORT:-6817}
MUNGE_KEY=/etc/munge/munge.key
POLICY_RC=/usr/sbin/policy-rc.d
export PATH="/usr/sbin:/sbin:$PATH"

log() { echo "slurm-cluster: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  sed -n '5,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# ---------------------------------------------------------------------------------------- install

cmd_install() {
  [ "$(id -u)" = 0 ] || die "install needs root (it runs apt-get)"
  command -v apt-get >/dev/null 2>&1 || die "install needs apt-get (Debian/Ubuntu); install ${DEBS[*]} yourself"
  local missing=() p
  for p in "${DEBS[@]}"; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "packages already installed: ${DEBS[*]}"
    return 0
  fi
  log "installing ${missing[*]}"
  # The packages' maintainer scripts would start system-wide daemons (mariadb on :3306, munged on
  # the default socket) that we neither want nor track; a temporary policy-rc.d forbids that.
  if [ ! -e "$POLICY_RC" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$POLICY_RC"
    chmod 755 "$POLICY_RC"
    trap 'rm -f "$POLICY_RC"' EXIT
  fi
  # Refresh the package lists only when apt knows no candidate (fresh image) or the install fails (stale lists).
  for p in "${missing[@]}"; do
    if [[ $(apt-cache policy "$p" 2>/dev/null) != *"Candidate: "[^\(]* ]]; then
      apt-get update -qq >&2
      break
    fi
  done
  if ! apt_install "${missing[@]}"; then
    apt-get update -qq >&2
    apt_install "${missing[@]}"
  fi
}

apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# ---------------------------------------------------------------------------------- PID bookkeeping

# A PID counts as ours only while it still runs the expected program (PIDs get reused) and is not
# a zombie (a daemon that died during `start` stays one until this script exits).
pid_of() { # STATE_DIR NAME -> prints the live PID, or fails
  local pidfile="$1/$2.pid" pid stat
  [ -s "$pidfile" ] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] && stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  # /proc/PID/stat: "PID (COMM) STATE ..."
  [[ $stat == "$pid ($2) "* && $stat != "$pid ($2) Z"* ]] || return 1
  echo "$pid"
}

running_count() {
  local n=0 d
  for d in "${DAEMONS[@]}"; do
    if pid_of "$1" "$d" >/dev/null; then n=$((n + 1)); fi
  done
  echo "$n"
}

# Unix socket paths are capped at 107 bytes and munged (user munge) must be able to reach its
# socket, so sockets and the slurmd spool (which holds step sockets) live in STATE_DIR/run when
# that is short and reachable, otherwise in a short directory under /tmp named after STATE_DIR.
run_dir_for() {
  local dir=$1
  if [ -s "$dir/run.path" ]; then
    cat "$dir/run.path"
    return
  fi
  local cand="$dir/run" host
  host=$(hostname -s)
  if [ $((${#cand} + ${#host} + 40)) -gt 107 ] ||
    ! setpriv --reuid=munge --regid=munge --clear-groups test -x "$dir" 2>/dev/null; then
    cand="/tmp/slurm-cluster.$(printf '%s' "$dir" | md5sum | cut -c1-12)"
  fi
  echo "$cand"
}

# Started in the foreground (-D/-F) in their own session with all output in a file: $! is then the
# daemon itself, and no caller's pipe (pytest's capture, $(...)) is held open by it.
launch() { # NAME COMMAND...
  local name=$1
  shift
  setsid "$@" </dev/null >>"$STATE/log/$name.out" 2>&1 &
  echo $! >"$STATE/$name.pid"
}

wait_for() { # SECONDS DESCRIPTION COMMAND... : poll every 0.2 s
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "timed out waiting for $what"
    sleep 0.2
  done
}

alive() { pid_of "$STATE" "$1" >/dev/null || die "$1 exited; see $STATE/log/$1.*"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ------------------------------------------------------------------------------------------ start

cmd_start() {
  STATE=${1:-}
  [[ $STATE == /* ]] || die "start needs an absolute STATE_DIR"
  [ "$(id -u)" = 0 ] || die "start needs root (munged runs as user munge, the SLURM daemons as root)"
  local b
  for b in munged munge mariadbd mariadb-install-db slurmdbd slurmctld slurmd sacctmgr sinfo srun sacct; do
    command -v "$b" >/dev/null 2>&1 || die "$b not found: run '$0 install' first"
  done
  id munge >/dev/null 2>&1 || die "user munge missing (the munge package creates it)"
  STATE=${STATE%/}
  mkdir -p "$STATE"

  local up
  up=$(running_count "$STATE")
  if [ "$up" -eq ${#DAEMONS[@]} ]; then
    log "already running from $STATE"
    echo "export SLURM_CONF=$STATE/slurm.conf"
    return 0
  elif [ "$up" -gt 0 ]; then
    log "partly running from $STATE: stopping the rest first"
    cmd_stop "$STATE"
  fi

  local port
  for port in "$PORT" $((PORT + 1)) $((PORT + 2)) $((PORT + 3)); do
    ! port_open "$port" || die "127.0.0.1:$port is taken (another cluster? set SLURM_CLUSTER_PORT)"
  done

  trap 'on_start_failure' EXIT
  RUN=$(run_dir_for "$STATE")
  echo "$RUN" >"$STATE/run.path"
  mkdir -p "$STATE/log" "$STATE/state" "$RUN/slurmd" "$RUN/munge"
  chown munge:munge "$RUN/munge"
  chmod 755 "$RUN/munge"
  export SLURM_CONF="$STATE/slurm.conf"

  write_configs
  start_munged
  start_mariadbd
  start_slurmdbd
  register_cluster
  link_run_slurm_conf
  launch slurmctld slurmctld -D
  launch slurmd slurmd -D -N "$HOST"
  wait_until_usable
  trap - EXIT
  log "up: $STATE (logs in $STATE/log)"
  echo "export SLURM_CONF=$SLURM_CONF"
}

on_start_failure() {
  local f
  log "start failed; last lines of the logs:"
  for f in "$STATE"/log/*; do
    [ -f "$f" ] || continue
    echo "----- $f" >&2
    tail -n 15 "$f" >&2
  done
  cmd_stop "$STATE" || true
}

write_configs() {
  HOST=$(hostname -s)
  local cpus mem pass
  cpus=$(nproc)
  mem=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
  mem=$((mem - (mem / 10 > 512 ? mem / 10 : 512))) # headroom, else the node is drained for Low RealMemory
  if [ ! -s "$STATE/dbpass" ]; then
    (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$STATE/dbpass")
  fi
  pass=$(<"$STATE/dbpass")

  cat >"$STATE/slurm.conf" <<EOF
# Written by tools/setup/slurm-cluster.sh; rewritten on every start.
ClusterName=$CLUSTER
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$RUN/munge/munge.socket.2
StateSaveLocation=$STATE/state
SlurmdSpoolDir=$RUN/slurmd
SlurmctldPidFile=$RUN/slurmctld.own.pid
SlurmdPidFile=$RUN/slurmd.own.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
# No cgroups: containers and CI machines rarely let us use them.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Without a default each job takes the node's whole memory and jobs run one at a time.
DefMemPerCPU=1000
ReturnToService=2
# snakemake-executor-plugin-slurm uses squeue for job status only while MinJobAge >= 3 x
# --slurm-init-seconds-before-status-checks (default 40 s), else it falls back to sacct.
MinJobAge=300
KillWait=5
MailProg=/bin/true
InactiveLimit=0
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$((PORT + 2))
# Connections to slurmdbd take their munge socket from here, not from AuthInfo.
AccountingStoragePass=$RUN/munge/munge.socket.2
JobCompType=jobcomp/none
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

  # slurmdbd finds slurmdbd.conf next to \$SLURM_CONF and refuses it unless it is 0600.
  (umask 077 && cat >"$STATE/slurmdbd.conf" <<EOF
# Written by tools/setup/slurm-cluster.sh; rewritten on every start.
AuthType=auth/munge
AuthInfo=socket=$RUN/munge/munge.socket.2
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$((PORT + 2))
SlurmUser=root
LogFile=$STATE/log/slurmdbd.log
PidFile=$RUN/slurmdbd.own.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$((PORT + 3))
StorageUser=slurm
StoragePass=$pass
StorageLoc=slurm_acct_db
EOF
  )
  chmod 600 "$STATE/slurmdbd.conf"

  # Runs inside mariadbd at every start, so no client login is needed to set up slurmdbd's account.
  (umask 077 && cat >"$STATE/mariadb-init.sql" <<EOF
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE OR REPLACE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$pass';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
EOF
  )
}

start_munged() {
  if [ ! -s "$MUNGE_KEY" ]; then
    log "creating $MUNGE_KEY"
    install -d -o munge -g munge -m 700 "$(dirname "$MUNGE_KEY")"
    (umask 077 && dd if=/dev/urandom of="$MUNGE_KEY" bs=1024 count=1 status=none)
    chown munge:munge "$MUNGE_KEY"
    chmod 400 "$MUNGE_KEY"
  fi
  local sock="$RUN/munge/munge.socket.2"
  rm -f "$sock" "$sock.lock"
  launch munged setpriv --reuid=munge --regid=munge --init-groups \
    munged --foreground --socket="$sock" --key-file="$MUNGE_KEY" \
    --pid-file="$RUN/munge/munged.pid" --seed-file="$RUN/munge/munged.seed"
  wait_for 20 "munged" munge_works "$sock"
  alive munged
}

munge_works() { munge -n -S "$1" | unmunge -S "$1"; }

# Small redo log (default 96M) to keep each STATE_DIR small; slurmdbd's "Database settings not
# recommended values" complaint is about production sizing and harmless here.
MARIADB_OPTS=(--innodb-log-file-size=32M --innodb-buffer-pool-size=128M --innodb-lock-wait-timeout=900)

start_mariadbd() {
  local datadir="$STATE/mysql"
  if [ ! -d "$datadir/mysql" ]; then
    log "initialising the accounting database in $datadir"
    mariadb-install-db --no-defaults --user=root --datadir="$datadir" --skip-test-db "${MARIADB_OPTS[@]}" \
      --auth-root-authentication-method=socket >"$STATE/log/mariadb-install.log" 2>&1 ||
      die "mariadb-install-db failed; see $STATE/log/mariadb-install.log"
  fi
  launch mariadbd mariadbd --no-defaults --user=root --datadir="$datadir" \
    --socket="$RUN/mysqld.sock" --pid-file="$RUN/mariadbd.own.pid" \
    --port=$((PORT + 3)) --bind-address=127.0.0.1 --skip-name-resolve \
    --log-error="$STATE/log/mariadbd.log" --init-file="$STATE/mariadb-init.sql" \
    "${MARIADB_OPTS[@]}"
  wait_for 60 "mariadbd on port $((PORT + 3))" port_open $((PORT + 3))
  alive mariadbd
}

start_slurmdbd() {
  launch slurmdbd slurmdbd -D
  wait_for 60 "slurmdbd" sacctmgr -n -P show cluster
  alive slurmdbd
}

register_cluster() {
  if [ -z "$(sacctmgr -n -P show cluster "$CLUSTER" format=cluster)" ]; then
    # Adding the cluster also creates the root account and root's association: enough for jobs by
    # root to be accepted and accounted (AccountingStorageEnforce stays unset).
    sacctmgr -i add cluster "$CLUSTER" >&2
  fi
}

# snakemake-executor-plugin-slurm-jobstep strips every SLURM_* variable, SLURM_CONF included,
# before its srun inside the job; that srun then looks for /etc/slurm/slurm.conf and next for
# /run/slurm/conf/slurm.conf (where a configless slurmd links its config cache). We take the
# latter: one symlink in /run, removed again by `stop`, instead of a file in /etc/slurm.
RUN_SLURM_CONF=/run/slurm/conf

link_run_slurm_conf() {
  if [ -e /etc/slurm/slurm.conf ]; then
    log "warning: /etc/slurm/slurm.conf exists and wins over $RUN_SLURM_CONF for jobs' inner srun"
  fi
  if [ -e "$RUN_SLURM_CONF" ] && [ ! -L "$RUN_SLURM_CONF" ]; then
    log "warning: $RUN_SLURM_CONF is a real directory (a configless slurmd?); leaving it alone"
    return 0
  fi
  mkdir -p "$(dirname "$RUN_SLURM_CONF")"
  ln -sfn "$STATE" "$RUN_SLURM_CONF"
}

unlink_run_slurm_conf() { # STATE_DIR
  if [ -L "$RUN_SLURM_CONF" ] && [ "$(readlink "$RUN_SLURM_CONF")" = "$1" ]; then
    rm -f "$RUN_SLURM_CONF"
    rmdir "$(dirname "$RUN_SLURM_CONF")" 2>/dev/null || true
  fi
}

node_state() { sinfo -h -N -n "$HOST" -o %T 2>/dev/null; }
node_idle() { [ "$(node_state)" = idle ]; }
job_completed() { [ "$(sacct -X -n -P -j "$1" -o State)" = COMPLETED ]; }

wait_until_usable() {
  wait_for 60 "node $HOST to be idle" node_idle
  alive slurmctld
  alive slurmd
  local job state
  # srun rather than `sbatch --wait`, which polls at growing intervals and costs ~10 s here.
  job=$(cd / && timeout 120 srun -J slurm-cluster-check -p "$PARTITION" -t 1 --mem=50 printenv SLURM_JOB_ID) ||
    die "test job did not complete (node state: $(node_state))"
  # The executor plugin reads job states from sacct, so wait until accounting has the job too.
  wait_for 60 "job $job in sacct" job_completed "$job"
  state=$(node_state)
  log "test job $job completed and is in the accounting database; node $HOST is $state"
}

# ------------------------------------------------------------------------------------- stop, status

cmd_stop() {
  local dir=${1:-}
  [[ $dir == /* ]] || die "stop needs an absolute STATE_DIR"
  dir=${dir%/}
  if [ ! -d "$dir" ]; then
    log "nothing to stop: no $dir"
    return 0
  fi

  # Jobs outlive slurmd (slurmstepd is detached), so cancel them while the controller still answers.
  if pid_of "$dir" slurmctld >/dev/null && [ -f "$dir/slurm.conf" ]; then
    SLURM_CONF="$dir/slurm.conf" scancel --quiet --partition="$PARTITION" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
      [ -z "$(SLURM_CONF="$dir/slurm.conf" squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi

  local k d pid
  for ((k = ${#DAEMONS[@]} - 1; k >= 0; k--)); do
    d=${DAEMONS[k]}
    if pid=$(pid_of "$dir" "$d"); then
      kill -TERM "$pid" 2>/dev/null || true
      local i
      for ((i = 0; i < 150; i++)); do # up to 30 s: mariadbd flushes on shutdown
        pid_of "$dir" "$d" >/dev/null || break
        sleep 0.2
      done
      if pid_of "$dir" "$d" >/dev/null; then
        log "$d ($pid) ignored TERM; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
          pid_of "$dir" "$d" >/dev/null || break
          sleep 0.2
        done
      fi
      pid_of "$dir" "$d" >/dev/null && die "$d ($pid) is still running"
      log "stopped $d ($pid)"
    fi
    rm -f "$dir/$d.pid"
  done

  unlink_run_slurm_conf "$dir"
  # Only a run directory we made under /tmp is removed; the one inside STATE_DIR stays with it.
  if [ -s "$dir/run.path" ]; then
    local run
    run=$(<"$dir/run.path")
    case $run in /tmp/slurm-cluster.*) rm -rf "$run" ;; esac
    rm -f "$dir/run.path"
  fi
}

cmd_status() {
  local dir=${1:-} d pid rc=0
  [[ $dir == /* ]] || die "status needs an absolute STATE_DIR"
  dir=${dir%/}
  for d in "${DAEMONS[@]}"; do
    if pid=$(pid_of "$dir" "$d"); then
      echo "$d running ($pid)"
    else
      echo "$d stopped"
      rc=1
    fi
  done
  return $rc
}

case ${1:-} in
  install) cmd_install ;;
  start) cmd_start "${2:-}" ;;
  stop) cmd_stop "${2:-}" ;;
  status) cmd_status "${2:-}" ;;
  *) usage ;;
esac
