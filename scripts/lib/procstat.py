"""A process's CPU time and resident memory, from /proc (for the scripts beside this lib)."""

import os

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User plus system CPU seconds the process has used."""
    return sum(cpu_split(pid))


def cpu_split(pid):
    """User and system CPU seconds the process has used, apart."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def rss_kb(pid):
    """The process's resident memory in KiB (0 if /proc does not say)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
