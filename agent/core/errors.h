#pragma once

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace pgbackup {

// An expected failure of an operation (database down, disk full, corrupt file...). The message
// says what went wrong and, after "hint:", what to do. Commands exit with status 1 on it.
class OperationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// strerror(errno): the reason of the system call that just failed, for messages.
inline std::string errno_text() { return std::strerror(errno); }

}  // namespace pgbackup
