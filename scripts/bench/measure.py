#!/usr/bin/env python3
"""Runs a command and prints `<wall seconds> <peak RSS KiB>` for it alone.

    measure.py [--stdout FILE] -- CMD ARGS...

Wall time comes from a monotonic clock around the child (millisecond resolution, unlike
/usr/bin/time's %e), peak RSS from the child's own rusage (os.wait4), so runs do not blur into
each other the way RUSAGE_CHILDREN maxima do.
"""
import os
import subprocess
import sys
import time

args = sys.argv[1:]
stdout = subprocess.DEVNULL
if args[:1] == ["--stdout"]:
    stdout = open(args[1], "wb")
    args = args[2:]
if args[:1] == ["--"]:
    args = args[1:]
start = time.perf_counter()
child = subprocess.Popen(args, stdout=stdout)
_, status, usage = os.wait4(child.pid, 0)
elapsed = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
if code not in (0, 3):
    sys.exit(f"measure: {args[0]} exited {code}")
print(f"{elapsed:.4f} {usage.ru_maxrss}")
