#!/bin/bash
# Install (Debian packages) and start a single-node SLURM on localhost, for CI and for
# trying `brainsim submit` on one machine. Idempotent: when slurmctld already answers it
# only waits for the node to be idle. Needs root and apt-get (Debian 12: SLURM 22.05).
#   scripts/start_slurm.sh            # slurm-wlm slurmctld slurmd slurm-client munge
#   scripts/start_slurm.sh --torque   # also slurm-wlm-torque (qsub/qstat wrappers; note
#                                     # it replaces /usr/bin/mpiexec: keep your venv first
#                                     # on PATH)
# Exit status: 0 ready, 1 failed, 3 cannot run here (not root, no apt-get).
set -euo pipefail

want_torque=0
for arg in "$@"; do
    case "$arg" in
        --torque) want_torque=1 ;;
        *) echo "start_slurm.sh: unknown option $arg; expected --torque" >&2; exit 1 ;;
    esac
done

log() { echo "start_slurm: $*" >&2; }

wait_idle() {
    local state=""
    for _ in $(seq 1 150); do
        state=$(sinfo -h -n localhost -o %t 2>/dev/null | head -n1 || true)
        case "$state" in
            idle|mix|alloc) log "node localhost is $state"; return 0 ;;
            down*|drain*|drng*) scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true ;;
        esac
        sleep 0.2
    done
    log "node localhost not idle after 30 s (state '${state}'); see /var/log/slurm/"
    return 1
}

have_torque() { command -v qsub >/dev/null 2>&1 && dpkg -s slurm-wlm-torque >/dev/null 2>&1; }

# Already running: nothing to install or start.
if command -v scontrol >/dev/null 2>&1 && scontrol ping 2>/dev/null | grep -q UP \
        && { [ "$want_torque" = 0 ] || have_torque; }; then
    wait_idle
    exit $?
fi

if [ "$(id -u)" != 0 ]; then log "needs root (found uid $(id -u))"; exit 3; fi
if ! command -v apt-get >/dev/null 2>&1; then log "needs apt-get (Debian/Ubuntu)"; exit 3; fi

packages=(slurm-wlm slurmctld slurmd slurm-client munge)
[ "$want_torque" = 1 ] && packages+=(slurm-wlm-torque)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt_install() { apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/start_slurm_apt.log 2>&1; }
    if ! apt_install; then
        log "apt-get install failed; running apt-get update once"
        apt-get update -q >/tmp/start_slurm_apt.log 2>&1
        apt_install || { log "apt-get install failed, see /tmp/start_slurm_apt.log"; exit 1; }
    fi
fi

# munge: key and directories owned by munge; munged refuses to run as root.
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge /etc/munge
if [ ! -s /etc/munge/munge.key ]; then
    if command -v mungekey >/dev/null 2>&1; then mungekey --create --keyfile=/etc/munge/munge.key
    else dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; fi
fi
chown munge:munge /etc/munge/munge.key && chmod 0600 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 1 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi

# slurm.conf: one node, localhost, all its CPUs.
install -d /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
conf=$(cat <<CONF
# Written by brainsim scripts/start_slurm.sh: a single-node SLURM for CI.
ClusterName=ci
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
MpiDefault=none
ReturnToService=2
KillWait=5
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
)
if [ ! -f /etc/slurm/slurm.conf ] || [ "$(cat /etc/slurm/slurm.conf)" != "$conf" ]; then
    printf '%s\n' "$conf" > /etc/slurm/slurm.conf
fi

if ! scontrol ping 2>/dev/null | grep -q UP; then
    slurmctld
    for _ in $(seq 1 50); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.1; done
fi
[ -f /run/slurmd.pid ] && kill -0 "$(cat /run/slurmd.pid)" 2>/dev/null || slurmd -N localhost
wait_idle
