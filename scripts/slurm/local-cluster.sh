#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the end-to-end tests of `podium sweep slurm`
# (Tests/PodiumCLITests/SlurmClusterTests.swift). Needs root and Debian's slurmctld, slurmd,
# slurm-client and munge (`start` installs them when missing).
#
#   scripts/slurm/local-cluster.sh start   # install, configure, start munged, slurmctld, slurmd
#   scripts/slurm/local-cluster.sh stop    # stop the daemons
#
# Settings that work on a single development machine (Slurm 22.05): linuxproc process
# tracking and no task plugin (no cgroups needed), cons_tres selection so that several
# one-core tasks share the node, and the node's own line from `slurmd -C`.
set -euo pipefail
state=/var/lib/podium-slurm

start() {
  if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge
  fi
  mkdir -p "$state"/{ctld,d,log} /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  [ -s /etc/munge/munge.key ] || { dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; }
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
  pgrep -x munged >/dev/null || su -s /bin/sh munge -c /usr/sbin/munged
  local host node
  host=$(hostname -s)
  node=$(slurmd -C | head -1)
  cat > /etc/slurm/slurm.conf <<CONF
ClusterName=podium
SlurmctldHost=$host
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
JobRequeue=1
MaxArraySize=10001
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
$node State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  pgrep -x slurmctld >/dev/null || slurmctld
  pgrep -x slurmd >/dev/null || slurmd
  for _ in $(seq 1 60); do
    if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
      echo "slurm: node $host is up ($(sinfo -h -o '%P %T %c cpus'))"
      return 0
    fi
    scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true
    sleep 1
  done
  echo "slurm: the node did not come up; logs in $state/log" >&2
  sinfo >&2 || true
  return 1
}

stop() {
  pkill -x slurmd || true
  pkill -x slurmctld || true
  sleep 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
