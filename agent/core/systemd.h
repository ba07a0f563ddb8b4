#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace pgbackup {

// Sends `state` ("READY=1", "STOPPING=1", ...) to the service manager as one datagram on the
// unix socket named by $NOTIFY_SOCKET (a path, or "@name" for an abstract socket), as
// sd_notify(3) does, without libsystemd. Returns false when the variable is unset (not started
// by systemd with Type=notify: nothing to do) or the datagram could not be sent.
bool notify_systemd(std::string_view state);

// The state to send before a reload: RELOADING=1 with the CLOCK_MONOTONIC time systemd asks for.
std::string systemd_reloading_state();

// Whether a $JOURNAL_STREAM value ("DEV:INODE") names the file whose st_dev and st_ino are
// given: systemd sets it for a service whose stderr goes to the journal, and a child that
// redirected its stderr must not take it as its own.
bool journal_stream_matches(const char* journal_stream, dev_t dev, ino_t ino);

// Whether this process's stderr is connected to the journal (the journal adds timestamps).
bool stderr_is_journal();

}  // namespace pgbackup
