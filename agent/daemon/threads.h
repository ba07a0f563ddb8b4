#pragma once

#include <string>

#include "agent/daemon/daemon_state.h"

namespace pgbackup {

// The daemon's threads, each one function over the shared state; each returns once the daemon
// stops (or, for the per-target ones, once a reload removed the target).

// The scheduler of one target: its backups and restore tests (see run_target_loop).
void run_worker(DaemonState& state, const std::string& target);

// Copies the backups of one target off-site (DESIGN §3 offsite.s3) in its own thread, so a slow
// upload never delays the next backup: after each good backup, at start-up, hourly, and after
// failures with backoff.
void run_uploader(DaemonState& state, const std::string& target);

// Probes every target's database every 30 s (pgbackup_database_up) and, for a target whose
// engine keeps a WAL archive, the archive and the database's archiver (ArchiveStatus).
void run_prober(DaemonState& state);

// Writes now() into pgbackup.heartbeat of every target with restore_test.heartbeat, each on its
// cadence (the recovery-point probe that restore tests check); failures are logged, never fatal.
void run_heartbeat(DaemonState& state);

}  // namespace pgbackup
