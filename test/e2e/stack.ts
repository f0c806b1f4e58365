/**
 * The whole stack as `npm start` starts it (dist/scripts/start.js: Temporal dev server, FerretDB, worker, API
 * serving the built console), on free ports and a fresh data directory, for the console's browser tests.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Policy } from '../../policy/schema';
import { repoRoot as findRepoRoot } from '../../infra/local-stack';

// Also from a compiled copy (dist-test/, for the benchmark): the folder with package.json.
const repoRoot = findRepoRoot();

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningStack {
  baseUrl: string;
  dataDir: string;
  /** TEMPORAL_ADDRESS and MONGO_URI as the stack was given them. */
  env: { TEMPORAL_ADDRESS: string; MONGO_URI: string; DATA_DIR: string };
  logFile: string;
  stop(): Promise<void>;
}

/** Builds what `npm start` builds (the engine and the console), as its prestart does. */
export function buildLikeNpmStart(): void {
  execFileSync(
    process.execPath,
    [path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: repoRoot,
      stdio: 'inherit',
    },
  );
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'build-console.mjs')], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
}

/** `opts.dataDir` starts it on an existing data directory (a restart, a restored backup); else a fresh one. */
export async function startStack(policy?: Policy, opts: { dataDir?: string } = {}): Promise<RunningStack> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'pp-console-'));
  const [temporal, ui, mongo, api] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: `127.0.0.1:${temporal}`,
    TEMPORAL_UI_PORT: String(ui),
    MONGO_URI: `mongodb://127.0.0.1:${mongo}/project-pipeline`,
    API_PORT: String(api),
    LOG_LEVEL: 'warn',
  };
  delete env.JWT_SECRET;
  delete env.OIDC_JWKS_URL;
  if (policy) {
    const policyFile = path.join(dataDir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify(policy));
    env.POLICY_PATH = policyFile;
  }
  const logFile = path.join(dataDir, 'stack.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  const child: ChildProcess = spawn(process.execPath, [path.join(repoRoot, 'dist', 'scripts', 'start.js')], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`the stack did not start in 120 s; see ${logFile}`)),
      120_000,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('project-pipeline is running')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the stack exited (${code}) before it ran; see ${logFile}`));
    });
  });
  const baseUrl = `http://127.0.0.1:${api}`;
  // Ready means Temporal and Mongo answer too, not only the port.
  for (let i = 0; i < 120; i++) {
    const ok = await fetch(`${baseUrl}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    baseUrl,
    dataDir,
    env: { TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS!, MONGO_URI: env.MONGO_URI!, DATA_DIR: dataDir },
    logFile,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
