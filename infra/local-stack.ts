import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { ALL_SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { spawnManaged, waitForPort, type ManagedProcess, type SpawnOptions } from './processes';

export interface ToolPaths {
  temporal: string;
  ferretdb: string;
  /** tools/ferretdb-id-index, built by the provision script. */
  ferretdbIdIndex: string;
}

/** Tool paths as written by scripts/provision-tools.mjs, overridable from configuration. */
export function readToolPaths(manifestPath: string, overrides: Partial<ToolPaths> = {}): ToolPaths {
  const manifest: Record<string, string> = existsSync(manifestPath)
    ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, string>)
    : {};
  const temporal = overrides.temporal ?? manifest.TEMPORAL_CLI_PATH;
  const ferretdb = overrides.ferretdb ?? manifest.FERRETDB_PATH;
  const ferretdbIdIndex = overrides.ferretdbIdIndex ?? manifest.FERRETDB_ID_INDEX_PATH;
  if (!temporal || !ferretdb || !ferretdbIdIndex) {
    throw new Error(
      `Temporal CLI, FerretDB or its index helper not provisioned (${manifestPath} missing or old). Run \`npm run provision\` first.`,
    );
  }
  return { temporal, ferretdb, ferretdbIdIndex };
}

export interface TemporalDevServerOptions {
  binary: string;
  host: string;
  port: number;
  /** undefined runs headless (tests); a number serves the Web UI there. */
  uiPort: number | undefined;
  dbFile: string;
  namespace: string;
  output: SpawnOptions['output'];
  extraDynamicConfig?: Record<string, unknown>;
}

export async function startTemporalDevServer(o: TemporalDevServerOptions): Promise<ManagedProcess> {
  mkdirSync(path.dirname(o.dbFile), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    o.host,
    '--port',
    String(o.port),
    '--db-filename',
    o.dbFile,
    '--namespace',
    o.namespace,
    '--log-level',
    'warn',
    // WAL with synchronous=NORMAL: 31 small workflows/s against 18.8 with SQLite's defaults on 2 cores
    // (../shared/architecture.md, "Measured floor"). A power cut may lose the last transactions committed before
    // it (never corrupt the file); a process crash loses nothing. Production runs PostgreSQL (docker-compose).
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    // Eager activity execution: an activity scheduled by a workflow task completion goes straight back to the
    // worker that completed it, skipping a trip through the matching service (the read-model write that every
    // action waits for). Off by default in the server.
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
  ];
  if (o.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(o.uiPort));
  // Registered only when the namespace is first created; ensureSearchAttributes covers existing databases.
  for (const key of ALL_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=${key.type}`);
  for (const [k, v] of Object.entries(o.extraDynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${k}=${JSON.stringify(v)}`);
  }
  const proc = spawnManaged({ name: 'temporal', command: o.binary, args, output: o.output });
  await waitForPort('Temporal dev server', o.host, o.port, 60_000, proc);
  if (o.uiPort !== undefined) await waitForPort('Temporal Web UI', o.host, o.uiPort, 30_000, proc);
  return proc;
}

export interface FerretDbOptions {
  binary: string;
  /** The ferretdb-id-index helper (ToolPaths.ferretdbIdIndex). */
  idIndexer: string;
  host: string;
  port: number;
  dataDir: string;
  output: SpawnOptions['output'];
}

export async function startFerretDb(o: FerretDbOptions): Promise<ManagedProcess> {
  const sqliteDir = path.join(o.dataDir, 'sqlite');
  mkdirSync(sqliteDir, { recursive: true });
  const proc = spawnManaged({
    name: 'ferretdb',
    command: o.binary,
    args: [
      '--handler=sqlite',
      `--sqlite-url=file:${sqliteDir}/`,
      `--state-dir=${o.dataDir}`,
      `--listen-addr=${o.host}:${o.port}`,
      '--debug-addr=-',
      '--telemetry=disable',
      '--log-level=warn',
    ],
    output: o.output,
  });
  await waitForPort('FerretDB', o.host, o.port, 30_000, proc);
  // FerretDB 1.24 never uses its own `_id` index on SQLite: every lookup by `_id` scans its table. The helper
  // adds the index those lookups can use to each table, and to tables created later (see its source).
  const indexer = spawnManaged({
    name: 'ferretdb-id-index',
    command: o.idIndexer,
    args: ['-dir', sqliteDir, '-watch', '1s'],
    output:
      o.output === 'inherit'
        ? 'inherit'
        : { logFile: `${o.output.logFile.replace(/\.log$/, '')}-id-index.log` },
  });
  return {
    name: proc.name,
    child: proc.child, // FerretDB's own process: the benchmarks read its CPU time
    async stop(graceMs) {
      await indexer.stop(graceMs);
      await proc.stop(graceMs);
    },
  };
}

/** The repository root (the nearest folder with package.json), from sources or compiled output alike. */
export function repoRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}
