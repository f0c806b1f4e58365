/**
 * Small helpers for bench/api-approvals.ts: latency summaries, error tallies, and Linux /proc CPU readings.
 * Nothing here talks to the network.
 */
import { readFileSync } from 'node:fs';

export interface LatencySummary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles (p50 of 1..100 is 50), in the unit of the samples (milliseconds here). */
export function summarize(samples: readonly number[]): LatencySummary | undefined {
  if (samples.length === 0) return undefined;
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
  const sum = s.reduce((a, b) => a + b, 0);
  const r = (x: number) => Math.round(x * 10) / 10;
  return {
    n: s.length,
    p50: r(at(50)),
    p95: r(at(95)),
    p99: r(at(99)),
    max: r(s[s.length - 1]!),
    mean: r(sum / s.length),
  };
}

export function formatSummary(label: string, s: LatencySummary | undefined): string {
  if (!s) return `${label.padEnd(44)} (no samples)`;
  const f = (x: number) => `${x.toFixed(1)}`.padStart(8);
  return `${label.padEnd(44)} n=${String(s.n).padStart(5)}  p50${f(s.p50)}  p95${f(s.p95)}  p99${f(s.p99)}  max${f(s.max)}  mean${f(s.mean)} ms`;
}

/** Counts of outcomes other than success, keyed by what was called and what came back. */
export class Tally {
  private readonly counts = new Map<string, number>();

  add(what: string, status: number | string): void {
    const key = `${what} → ${status === 0 ? 'network error/timeout' : status}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  get total(): number {
    let t = 0;
    for (const v of this.counts.values()) t += v;
    return t;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
}

/** USER_HZ, the unit of utime/stime in /proc/<pid>/stat: 100 on mainstream Linux builds. */
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds of a process (all its threads), or undefined off Linux / once it is gone. */
export function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime is field 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

/** Busy and total ticks of the whole machine (all cores), from /proc/stat. */
export function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return Number.isFinite(total) && total > 0 ? { busy: total - idle, total } : undefined;
  } catch {
    return undefined;
  }
}

export interface CpuWindow {
  wallSeconds: number;
  /** CPU seconds per named process over the window. */
  processes: Record<string, number | undefined>;
  /** Busy share of the whole machine (all cores) over the window, 0..1. */
  machineBusy: number | undefined;
}

/** Starts a CPU window over the given processes; call the result to close it. */
export function cpuWindow(pids: Record<string, number | undefined>): () => CpuWindow {
  const t0 = performance.now();
  const m0 = machineTicks();
  const c0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSecondsOf(pid)]));
  return () => {
    const m1 = machineTicks();
    const processes: Record<string, number | undefined> = {};
    for (const [k, pid] of Object.entries(pids)) {
      const a = c0[k];
      const b = cpuSecondsOf(pid);
      processes[k] = a === undefined || b === undefined ? undefined : Math.round((b - a) * 100) / 100;
    }
    return {
      wallSeconds: Math.round((performance.now() - t0) / 10) / 100,
      processes,
      machineBusy:
        m0 && m1 && m1.total > m0.total
          ? Math.round(((m1.busy - m0.busy) / (m1.total - m0.total)) * 1000) / 1000
          : undefined,
    };
  };
}
