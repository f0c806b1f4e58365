import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Sends SIGTERM, then SIGKILL after the grace period; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Where stdout/stderr go: 'inherit' prefixes lines on the console, a path appends to a log file. */
  output: 'inherit' | { logFile: string };
}

export function spawnManaged(opts: SpawnOptions): ManagedProcess {
  const child = spawn(opts.command, opts.args, {
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (opts.output === 'inherit') {
    const prefix = `[${opts.name}] `;
    const forward = (chunk: Buffer, to: NodeJS.WriteStream) =>
      to.write(
        chunk
          .toString()
          .split('\n')
          .filter((l) => l.length > 0)
          .map((l) => prefix + l + '\n')
          .join(''),
      );
    child.stdout?.on('data', (c: Buffer) => forward(c, process.stdout));
    child.stderr?.on('data', (c: Buffer) => forward(c, process.stderr));
  } else {
    mkdirSync(path.dirname(opts.output.logFile), { recursive: true });
    const log = createWriteStream(opts.output.logFile, { flags: 'a' });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
  }
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    name: opts.name,
    child,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export async function isPortOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Waits until host:port accepts TCP connections, or fails naming the process that never came up. */
export async function waitForPort(
  name: string,
  host: string,
  port: number,
  timeoutMs: number,
  proc?: ManagedProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc && proc.child.exitCode !== null) {
      throw new Error(`${name} exited with code ${proc.child.exitCode} before listening on ${host}:${port}`);
    }
    if (await isPortOpen(host, port)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not listen on ${host}:${port} within ${timeoutMs} ms`);
}
