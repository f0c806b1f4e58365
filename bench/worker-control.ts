/** Starts bench/worker-process.ts as a child process and keeps what it reports; stops it with bounded waits. */
import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { WorkerProcessEnv, WorkerProcessMessage } from './worker-process';

export interface HeapPeaks {
  rss: number;
  heapUsed: number;
  external: number;
}

export class WorkerChild {
  /** Peaks of what the worker reported about itself (process.memoryUsage, once a second). */
  readonly reported: HeapPeaks = { rss: 0, heapUsed: 0, external: 0 };
  private exited: Promise<void>;
  private log: WriteStream;

  private constructor(
    readonly child: ChildProcess,
    logFile: string,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    // 'close' comes after 'exit' once the child's output is drained.
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    child.on('message', (m: WorkerProcessMessage) => {
      if (m.type !== 'memory') return;
      this.reported.rss = Math.max(this.reported.rss, m.rss);
      this.reported.heapUsed = Math.max(this.reported.heapUsed, m.heapUsed);
      this.reported.external = Math.max(this.reported.external, m.external);
    });
  }

  get pid(): number {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error('worker process has no pid');
    return pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Forks the worker and resolves once it polls its task queue. */
  static async start(env: WorkerProcessEnv, logFile: string, timeoutMs = 120_000): Promise<WorkerChild> {
    const child = fork(path.join(__dirname, 'worker-process.js'), [], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const w = new WorkerChild(child, logFile);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`worker not ready within ${timeoutMs} ms`)),
          timeoutMs,
        );
        child.on('message', (m: WorkerProcessMessage) => {
          if (m.type === 'ready') {
            clearTimeout(timer);
            resolve();
          } else if (m.type === 'failed') {
            clearTimeout(timer);
            reject(new Error(`worker failed to start: ${m.message} (log: ${logFile})`));
          }
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`worker exited during start (${signal ?? code}); log: ${logFile}`));
        });
      });
    } catch (err) {
      await w.stop(5_000);
      throw err;
    }
    return w;
  }

  /** Asks for a graceful shutdown, then SIGTERM, then SIGKILL; resolves once the process is gone. */
  async stop(graceMs = 30_000): Promise<void> {
    if (this.running) {
      if (this.child.connected) this.child.send({ type: 'shutdown' });
      else this.child.kill('SIGTERM');
      const term = setTimeout(() => this.child.kill('SIGTERM'), graceMs);
      const kill = setTimeout(() => this.child.kill('SIGKILL'), graceMs + 5_000);
      await this.exited;
      clearTimeout(term);
      clearTimeout(kill);
    }
    if (this.child.connected) this.child.disconnect();
    await new Promise<void>((resolve) => this.log.end(() => resolve()));
  }
}
