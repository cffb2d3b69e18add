#!/usr/bin/env python3
"""Runs a decoder on each file of a directory and prints its CPU time, peak
memory (max RSS) and what it answered: the figures behind the decoding
sandbox's limits. Usage: measure.py DIR [TIMEOUT_S] -- COMMAND...
In COMMAND, {bytes} is the file's size; the file comes on stdin."""

import os
import resource
import subprocess
import sys
import threading
import time


def main():
    argv = sys.argv[1:]
    sep = argv.index("--")
    folder, timeout = argv[0], float(argv[1]) if sep > 1 else 120.0
    cmd = argv[sep + 1:]
    print("%-28s %9s %8s %9s %10s  %s" % ("file", "bytes", "cpu_s", "wall_s", "maxrss_MB", "answer"))
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        size = os.path.getsize(path)
        args = [a.replace("{bytes}", str(size)) for a in cmd]
        t = time.monotonic()
        with open(path, "rb") as f:
            p = subprocess.Popen(args, stdin=f, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        timer = threading.Timer(timeout, p.kill)
        timer.start()
        out = p.stdout.read()
        p.stdout.close()
        _, status, ru = os.wait4(p.pid, 0)    # this child's own usage
        p.returncode = status
        timer.cancel()
        wall = time.monotonic() - t
        cpu = ru.ru_utime + ru.ru_stime
        answer = out.split(b"\n", 1)[0].decode("ascii", "replace")[:90] if out else "(%s)" % (("signal %d" % os.WTERMSIG(status)) if os.WIFSIGNALED(status) else "exit %d" % os.WEXITSTATUS(status))
        print("%-28s %9d %8.2f %9.2f %10.1f  %s" % (name[:28], size, cpu, wall, ru.ru_maxrss / 1024.0, answer))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
