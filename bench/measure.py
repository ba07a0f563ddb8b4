#!/usr/bin/env python3
"""Runs a command and reports its wall time and peak RSS.

usage: measure.py OUTFILE -- COMMAND [ARGS...]

Writes one line to OUTFILE:
  "<wall seconds> <own peak RSS KiB> <tree peak RSS KiB> <exit code> <tree CPU seconds>".

- own peak RSS: VmHWM of the command's own process, read at the moment it exits (ptrace
  PTRACE_O_TRACEEXIT stops it before its memory is released). Children such as pg_dump are not
  included. If ptrace is not permitted, VmHWM is sampled every 5 ms instead (a lower bound).
- tree CPU seconds: user + system time of the process and its waited-for children (the
  PostgreSQL server's time is not included).
- tree peak RSS: ru_maxrss from wait4(), which is what GNU time's %M reports: the maximum over
  the process AND every descendant it waited for (pg_dump, pg_restore), not the process alone.
The command's stdout/stderr pass through; the exit code is propagated.
"""
import ctypes
import os
import signal
import sys
import threading
import time

PTRACE_TRACEME, PTRACE_CONT, PTRACE_SETOPTIONS = 0, 7, 0x4200
PTRACE_O_TRACEEXEC, PTRACE_O_TRACEEXIT, PTRACE_EVENT_EXIT = 0x10, 0x40, 6

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long


def vm_hwm(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    out, sep, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
    if sep != "--" or not argv:
        sys.exit("usage: measure.py OUTFILE -- COMMAND [ARGS...]")
    use_ptrace = os.environ.get("MEASURE_NO_PTRACE") != "1"
    start = time.monotonic()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        ok = b"1"
        if use_ptrace and libc.ptrace(PTRACE_TRACEME, 0, None, None) != 0:
            ok = b"0"
        os.write(w, ok)
        os.close(w)
        try:
            os.execvp(argv[0], argv)
        except OSError as e:
            print(f"measure.py: {argv[0]}: {e}", file=sys.stderr)
            os._exit(127)
    os.close(w)
    traced = os.read(r, 1) == b"1" and use_ptrace
    os.close(r)

    own = 0
    sampler_stop = threading.Event()
    if not traced:
        def sample():
            nonlocal own
            while not sampler_stop.is_set():
                own = max(own, vm_hwm(pid))
                time.sleep(0.005)
        threading.Thread(target=sample, daemon=True).start()

    first_stop = traced
    while True:
        _, status, rusage = os.wait4(pid, 0)
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            break
        if not os.WIFSTOPPED(status):
            continue
        sig = os.WSTOPSIG(status)
        inject = 0
        if first_stop and sig == signal.SIGTRAP:
            # Stopped at exec: from now on stop once more just before the process exits (and
            # report later execs as events, not as a SIGTRAP to deliver).
            first_stop = False
            libc.ptrace(PTRACE_SETOPTIONS, pid, None,
                        ctypes.c_void_p(PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC))
        elif sig == signal.SIGTRAP and (status >> 16) != 0:
            if (status >> 16) == PTRACE_EVENT_EXIT:
                own = max(own, vm_hwm(pid))
        else:
            inject = sig  # an ordinary signal (SIGCHLD, SIGTERM...): deliver it
        libc.ptrace(PTRACE_CONT, pid, None, ctypes.c_void_p(inject))
    wall = time.monotonic() - start
    sampler_stop.set()
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
    with open(out, "w") as f:
        cpu = rusage.ru_utime + rusage.ru_stime
        f.write(f"{wall:.3f} {own} {rusage.ru_maxrss} {code} {cpu:.3f}\n")
    sys.exit(code)


if __name__ == "__main__":
    main()
