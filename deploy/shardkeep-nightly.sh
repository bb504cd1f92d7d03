#!/bin/sh
# shardkeep-nightly: the customer's nightly job, run by the systemd user unit
# deploy/shardkeep-backup.service (installed as /usr/local/bin/shardkeep-nightly).
#
#   1. shardkeep backup  [--exclude P]... [--exclude-file F] $SHARDKEEP_BACKUP_FLAGS PATHS
#   2. shardkeep forget  $SHARDKEEP_KEEP [--prune]      (old snapshots go, their space comes back)
#   3. shardkeep maintain                               (leases, a sampled check, repair)
#
# Settings come from the environment (the unit reads them from
# ~/.config/shardkeep/backup.env; deploy/shardkeep-backup.env is the template,
# with every setting explained).
#
# Order and failures: a backup that is partial (exit 3: some files unreadable)
# or stopped by a full quota (exit 14) still goes on to forget and prune,
# which free the space the next night's backup needs; any other backup failure
# (no vault, wrong passphrase, suppliers unreachable, ...) skips forget, since
# nothing should be deleted while backups fail. maintain always runs (it
# renews the leases that keep the data at the suppliers). Exit status: the
# first failure's code (docs/CLI.md), 3 if the only problem was a partial
# backup, else 0. Every step is logged on stderr (the journal).
set -u
set -f  # patterns and paths are split on white space, never globbed here

sk="${SHARDKEEP_BIN:-shardkeep}"
log() { echo "shardkeep-nightly: $*" >&2; }

if [ -z "${SHARDKEEP_BACKUP_PATHS:-}" ]; then
  log "SHARDKEEP_BACKUP_PATHS is empty: nothing to back up (see backup.env)"
  exit 2
fi

status=0
partial=0
note() {  # note STEP CODE: remembers the first failure
  if [ "$2" -eq 3 ]; then
    partial=1
  elif [ "$2" -ne 0 ] && [ "$status" -eq 0 ]; then
    status=$2
  fi
  log "$1 exited $2"
}

# 1. backup
set --
for pattern in ${SHARDKEEP_BACKUP_EXCLUDES:-}; do set -- "$@" --exclude "$pattern"; done
if [ -n "${SHARDKEEP_BACKUP_EXCLUDE_FILE:-}" ]; then
  set -- "$@" --exclude-file "$SHARDKEEP_BACKUP_EXCLUDE_FILE"
fi
# shellcheck disable=SC2086  # word splitting of the flags and paths is meant
"$sk" backup "$@" ${SHARDKEEP_BACKUP_FLAGS:-} ${SHARDKEEP_BACKUP_PATHS}
rc=$?
note backup "$rc"

# 2. forget (and prune)
keep="${SHARDKEEP_KEEP---keep-daily 7 --keep-weekly 5 --keep-monthly 12}"
if [ "${SHARDKEEP_FORGET:-1}" != 1 ] || [ -z "$keep" ]; then
  log "forget skipped (SHARDKEEP_FORGET=${SHARDKEEP_FORGET:-1}, SHARDKEEP_KEEP='${keep}')"
elif [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ] && [ "$rc" -ne 14 ]; then
  log "forget skipped: the backup failed (exit $rc)"
else
  prune=""
  if [ "${SHARDKEEP_PRUNE:-1}" = 1 ]; then prune="--prune"; fi
  # shellcheck disable=SC2086
  "$sk" forget $keep $prune ${SHARDKEEP_FORGET_FLAGS:-}
  note forget "$?"
fi

# 3. maintain
if [ "${SHARDKEEP_MAINTAIN:-1}" = 1 ]; then
  "$sk" maintain
  note maintain "$?"
fi

if [ "$status" -ne 0 ]; then exit "$status"; fi
if [ "$partial" -eq 1 ]; then exit 3; fi
exit 0
