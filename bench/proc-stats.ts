/**
 * Linux /proc readings for benchmarks: resident memory (current and peak) and CPU time of one process, and the
 * machine's busy share. Everything returns undefined off Linux or once the process is gone.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat; 100 on every mainstream Linux build. */
const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcSample {
  /** Current resident set (VmRSS), bytes. */
  rssBytes: number;
  /** Peak resident set since start or the last resetPeakRss (VmHWM), bytes. */
  peakRssBytes: number;
  /** User + system CPU time of all the process's threads, seconds. */
  cpuSeconds: number;
}

export function sampleProcess(pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => {
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
      return m?.[1] === undefined ? NaN : Number(m[1]) * 1024;
    };
    // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const sample = {
      rssBytes: kb('VmRSS'),
      peakRssBytes: kb('VmHWM'),
      cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND,
    };
    return Number.isFinite(sample.rssBytes) && Number.isFinite(sample.cpuSeconds) ? sample : undefined;
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current RSS (`echo 5 > clear_refs`), so a later reading is the peak of one phase. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface CpuTicks {
  busy: number;
  total: number;
}

/** Whole-machine CPU counters from /proc/stat (all cores). */
export function machineCpu(): CpuTicks | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
    return Number.isFinite(total) ? { busy: total - idle, total } : undefined;
  } catch {
    return undefined;
  }
}

/** Busy share of the machine between two readings, 0..1. */
export function busyShare(from: CpuTicks | undefined, to: CpuTicks | undefined): number | undefined {
  if (!from || !to || to.total <= from.total) return undefined;
  return (to.busy - from.busy) / (to.total - from.total);
}

/** Direct children of `ppid` whose command name (/proc/<pid>/stat, at most 15 characters) starts with `prefix`. */
export function childPidsNamed(ppid: number, prefix: string): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      // Fields after the command name: state is field 3, ppid field 4.
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === ppid && comm.startsWith(prefix.slice(0, 15))) out.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}
