"""Probes of the machine (Linux /proc): memory, CPU time, a process's RSS, the CPU model."""

from __future__ import annotations

import os
import resource

INTERESTING_CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")


def rss_mb(pid: int) -> float:
    """Current resident set size of process `pid` in MB (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def meminfo_gb(key: str) -> float:
    """The /proc/meminfo field `key` (e.g. MemAvailable) in GB (NaN if missing)."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024**2
    return float("nan")


def busy_cpu_s() -> float:
    """CPU seconds the whole machine has been busy since boot (all cores; /proc/stat: user,
    nice, system, irq, softirq and steal, i.e. everything but idle and iowait)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:]
    user, nice, system, _, _, irq, softirq, steal = (int(n) for n in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """CPU seconds of this process and of its reaped children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def describe_cpu() -> dict:
    """`cpu` (model name), `cores` usable by this process, `cpu_flags` (those of
    `INTERESTING_CPU_FLAGS` it has) and `memory_gb` (total)."""
    cpu, flags = "unknown", set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key.strip() == "model name" and cpu == "unknown":
                cpu = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)),
        "cpu_flags": [flag for flag in INTERESTING_CPU_FLAGS if flag in flags],
        "memory_gb": round(meminfo_gb("MemTotal"), 1),
    }
