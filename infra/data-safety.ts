/**
 * Backup and restore of the local stack's DATA_DIR (`npm run backup`, `npm run restore`): Temporal's SQLite
 * database, FerretDB's SQLite databases and state, and the local JWT secret, as one tar.gz with a manifest.
 *
 * Consistency: the read model in FerretDB is written by the activities of the workflows kept in Temporal and
 * carries a per-project `seq` that only moves forward, so both copies must come from the same moment. They do
 * because both are taken while the stack is stopped: backup and restore refuse while any process holds a file
 * under DATA_DIR/temporal, DATA_DIR/ferretdb or DATA_DIR/logs (the Temporal dev server, FerretDB and its index
 * helper, `npm start` itself), and the backup looks again once its copies are taken. Each SQLite database is
 * copied through SQLite's backup API (better-sqlite3), which reads the -wal as well, into one self-contained file
 * in rollback-journal mode; the servers switch it back to WAL when they open it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import type { AppConfig } from '../config';
import { isPortOpen } from './processes';
import { readToolPaths, repoRoot } from './local-stack';

const run = promisify(execFile);

export const BACKUP_FORMAT = 'project-pipeline-backup/1';
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
/** Subfolders of DATA_DIR whose files a running stack holds open. */
const HELD_WHILE_RUNNING = ['temporal', 'ferretdb', 'logs'];
/** Top-level entries of DATA_DIR that are not data: provisioned tool paths, logs, our own work folders. */
const NOT_DATA = (name: string) =>
  name === 'tools.json' ||
  name === 'logs' ||
  name.endsWith('.log') ||
  name.startsWith('.restore-') ||
  name.startsWith('.replaced-');
/** SQLite's side files: the backup API folds the -wal into the copy; the others are rebuilt on open. */
const SQLITE_SIDE_FILE = /-(wal|shm|journal)$/;

export interface ManifestFile {
  /** Relative to DATA_DIR, with forward slashes. */
  path: string;
  size: number;
  sha256: string;
  mode: number;
  /** A SQLite database, copied through the backup API. */
  sqlite: boolean;
}

export interface Versions {
  /** package.json's version of project-pipeline. */
  app: string;
  node: string;
  /** The SQLite library that took the copies. */
  sqlite: string;
  /** `temporal --version` and `ferretdb --version` (first line), when the tools are provisioned. */
  temporal?: string | undefined;
  ferretdb?: string | undefined;
}

export interface Manifest {
  format: typeof BACKUP_FORMAT;
  createdAt: string;
  host: string;
  dataDir: string;
  method: string;
  versions: Versions;
  files: ManifestFile[];
}

export interface ToolBinaries {
  temporal?: string | undefined;
  ferretdb?: string | undefined;
}

export interface Endpoint {
  what: string;
  host: string;
  port: number;
}

type Log = (line: string) => void;

/** Where the configured stack would listen: checked where open files cannot be seen. */
export function stackEndpoints(config: AppConfig): Endpoint[] {
  const [temporalHost = '127.0.0.1', temporalPort = '7233'] = config.temporal.address.split(':');
  const mongo = new URL(config.mongo.uri);
  return [
    { what: 'Temporal', host: temporalHost, port: Number(temporalPort) },
    { what: 'FerretDB', host: mongo.hostname, port: Number(mongo.port || 27017) },
    { what: 'the API', host: config.api.host, port: config.api.port },
  ];
}

/** The Temporal CLI and FerretDB the stack would run, for the versions in the manifest (none if unprovisioned). */
export function toolBinaries(config: AppConfig): ToolBinaries {
  try {
    const tools = readToolPaths(path.join(repoRoot(), 'data', 'tools.json'), {
      temporal: config.tools.temporalCliPath,
      ferretdb: config.tools.ferretDbPath,
      ferretdbIdIndex: config.tools.ferretDbIdIndexPath,
    });
    return { temporal: tools.temporal, ferretdb: tools.ferretdb };
  } catch {
    return {};
  }
}

// ——— is the stack running? ———

export interface Holder {
  pid: number;
  command: string;
  file: string;
  /** The process that started it, e.g. `node dist/scripts/start.js`. */
  parent?: { pid: number; command: string } | undefined;
}

function commandOf(pid: number): string {
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    return text.length > 160 ? `${text.slice(0, 157)}…` : text;
  } catch {
    return '?';
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) && ppid > 1 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The processes holding a file of the stack under dataDir open (Linux: /proc), or undefined where this cannot be
 * seen (another OS). Processes of other users are invisible without root, as they are to `lsof`.
 */
export function processesUsing(dataDir: string): Holder[] | undefined {
  if (process.platform !== 'linux' || !existsSync('/proc/self/fd')) return undefined;
  if (!existsSync(dataDir)) return [];
  const root = realpathSync(dataDir);
  const watched = HELD_WHILE_RUNNING.map((d) => path.join(root, d) + path.sep);
  const holders: Holder[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or another user's
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!watched.some((w) => target.startsWith(w))) continue;
      const ppid = parentOf(pid);
      holders.push({
        pid,
        command: commandOf(pid),
        file: target,
        parent: ppid === undefined ? undefined : { pid: ppid, command: commandOf(ppid) },
      });
      break;
    }
  }
  return holders;
}

export class StackRunningError extends Error {
  override name = 'StackRunningError';
}

/**
 * Refuses while the stack runs on dataDir. On Linux the open files decide; elsewhere, the configured endpoints
 * (a stack of another DATA_DIR on the same ports is refused too: stop it, or point the variables elsewhere).
 */
export async function assertStackStopped(
  dataDir: string,
  endpoints: Endpoint[],
  doing: string,
): Promise<void> {
  const holders = processesUsing(dataDir);
  if (holders === undefined) {
    const open: string[] = [];
    for (const e of endpoints)
      if (await isPortOpen(e.host, e.port)) open.push(`${e.what} at ${e.host}:${e.port}`);
    if (open.length > 0)
      throw new StackRunningError(
        `refusing to ${doing}: the stack looks running (${open.join(', ')} answer${open.length === 1 ? 's' : ''}). ` +
          'Stop `npm start` (Ctrl-C) and run this again.',
      );
    return;
  }
  if (holders.length === 0) return;
  const starters = new Map<number, string>();
  for (const h of holders)
    if (h.parent && /scripts[/\\]start\.(js|ts)/.test(h.parent.command))
      starters.set(h.parent.pid, h.parent.command);
  throw new StackRunningError(
    [
      `refusing to ${doing}: the stack is running on ${dataDir}; these processes hold its files open:`,
      ...holders.map((h) => `  pid ${h.pid}  ${h.command}\n           ${h.file}`),
      starters.size > 0
        ? `Stop it first: Ctrl-C where \`npm start\` runs, or kill -TERM ${[...starters.keys()].join(' ')} (${[...starters.values()][0]}), then run this again.`
        : 'Stop the stack first (Ctrl-C where `npm start` runs), then run this again.',
    ].join('\n'),
  );
}

// ——— files ———

async function isSqlite(file: string): Promise<boolean> {
  const handle = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(SQLITE_MAGIC.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return bytesRead === head.length && head.equals(SQLITE_MAGIC);
  } finally {
    await handle.close();
  }
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Regular files under dir, relative with forward slashes; `skip` sees each relative path. */
async function walk(
  dir: string,
  skip: (rel: string, isDir: boolean) => boolean,
  rel = '',
): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${entry.name}` : entry.name;
    if (skip(r, entry.isDirectory())) continue;
    if (entry.isDirectory()) out.push(...(await walk(dir, skip, r)));
    else if (entry.isFile()) out.push(r);
    else throw new Error(`${path.join(dir, r)} is neither a file nor a folder (a link?); not backed up`);
  }
  return out.sort();
}

const skipNonData = (rel: string) => {
  const top = !rel.includes('/');
  return (top && NOT_DATA(rel)) || SQLITE_SIDE_FILE.test(rel) || rel.endsWith('.log');
};

function sqliteVersion(): string {
  const db = new Database(':memory:');
  try {
    return (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
  } finally {
    db.close();
  }
}

async function firstLineOf(binary: string | undefined): Promise<string | undefined> {
  if (!binary) return undefined;
  try {
    const { stdout } = await run(binary, ['--version'], { timeout: 15_000 });
    return stdout.split('\n')[0]?.trim() || undefined;
  } catch {
    return undefined;
  }
}

export async function currentVersions(tools: ToolBinaries = {}): Promise<Versions> {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version: string };
  return {
    app: pkg.version,
    node: process.version,
    sqlite: sqliteVersion(),
    temporal: await firstLineOf(tools.temporal),
    ferretdb: await firstLineOf(tools.ferretdb),
  };
}

async function checkTar(): Promise<void> {
  try {
    await run('tar', ['--version'], { timeout: 10_000 });
  } catch {
    throw new Error('`tar` is needed for backup archives and was not found on PATH');
  }
}

/** `PRAGMA quick_check` on a database nothing else has open. */
function quickCheck(file: string): void {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.pragma('quick_check') as { quick_check: string }[];
    const problems = rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
    if (problems.length > 0)
      throw new Error(`${file} fails SQLite's quick_check: ${problems.slice(0, 5).join('; ')}`);
  } finally {
    db.close();
  }
}

/** A consistent, self-contained copy of a SQLite database (its -wal folded in) through the backup API. */
async function snapshotSqlite(source: string, target: string): Promise<void> {
  const db = new Database(source, { fileMustExist: true });
  try {
    await db.backup(target);
  } finally {
    db.close();
  }
  const copy = new Database(target, { fileMustExist: true });
  try {
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
  quickCheck(target);
}

// ——— backup ———

export interface BackupOptions {
  dataDir: string;
  /** The tar.gz to write; must not exist yet, nor lie inside dataDir. */
  archive: string;
  /** Checked instead of open files where /proc is not there. */
  endpoints: Endpoint[];
  tools?: ToolBinaries;
  log?: Log;
}

export function defaultArchivePath(dataDir: string, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
  return path.join(path.dirname(dataDir), 'backups', `project-pipeline-${stamp}.tar.gz`);
}

export async function createBackup(o: BackupOptions): Promise<Manifest> {
  const log = o.log ?? (() => undefined);
  const dataDir = path.resolve(o.dataDir);
  const archive = path.resolve(o.archive);
  if (!existsSync(path.join(dataDir, 'temporal')) && !existsSync(path.join(dataDir, 'ferretdb')))
    throw new Error(
      `nothing to back up: ${dataDir} holds no temporal/ nor ferretdb/ (has the stack ever run there?)`,
    );
  if ((archive + path.sep).startsWith(dataDir + path.sep))
    throw new Error(`the archive ${archive} would lie inside DATA_DIR ${dataDir}; write it elsewhere`);
  if (existsSync(archive)) throw new Error(`${archive} exists already; name another file`);
  await checkTar();
  await assertStackStopped(dataDir, o.endpoints, 'back up');

  await fs.mkdir(path.dirname(archive), { recursive: true });
  const staging = await fs.mkdtemp(path.join(path.dirname(archive), '.pp-backup-'));
  try {
    const files: ManifestFile[] = [];
    for (const rel of await walk(dataDir, skipNonData)) {
      const source = path.join(dataDir, rel);
      const target = path.join(staging, 'data', rel);
      await fs.mkdir(path.dirname(target), { recursive: true });
      const sqlite = await isSqlite(source);
      if (sqlite) await snapshotSqlite(source, target);
      else await fs.copyFile(source, target);
      const stat = await fs.stat(target);
      const mode = (await fs.stat(source)).mode & 0o777;
      files.push({ path: rel, size: stat.size, sha256: await sha256(target), mode, sqlite });
      log(`  ${rel}${sqlite ? ' (SQLite backup API)' : ''}  ${stat.size} bytes`);
    }
    if (files.length === 0) throw new Error(`nothing to back up: ${dataDir} holds no data files`);
    // Taken while stopped: make sure nothing started while the copies were made.
    await assertStackStopped(dataDir, o.endpoints, 'keep this backup');
    const manifest: Manifest = {
      format: BACKUP_FORMAT,
      createdAt: new Date().toISOString(),
      host: os.hostname(),
      dataDir,
      method:
        'offline: the stack was stopped (no process held DATA_DIR/temporal, ferretdb or logs before and after); ' +
        'each SQLite database copied through the SQLite backup API, -wal included, quick_check ok',
      versions: await currentVersions(o.tools),
      files,
    };
    await fs.writeFile(path.join(staging, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    const partial = `${archive}.partial`;
    await run('tar', ['-czf', partial, '-C', staging, 'manifest.json', 'data']);
    await fs.chmod(partial, 0o600); // it holds the JWT secret
    await fs.rename(partial, archive);
    return manifest;
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

// ——— restore ———

function parseManifest(text: string): Manifest {
  const m = JSON.parse(text) as Partial<Manifest>;
  if (m.format !== BACKUP_FORMAT)
    throw new Error(
      `not a project-pipeline backup of format ${BACKUP_FORMAT} (manifest format: ${String(m.format)})`,
    );
  if (!Array.isArray(m.files) || !m.versions || !m.createdAt)
    throw new Error('the manifest lacks files, versions or createdAt');
  for (const f of m.files) {
    const parts = f.path.split('/');
    if (path.isAbsolute(f.path) || parts.some((p) => p === '..' || p === '') || NOT_DATA(parts[0]!))
      throw new Error(`the manifest names an unsafe or unexpected path: ${f.path}`);
  }
  return m as Manifest;
}

/** Extracts an archive into dir and verifies it: the manifest, exactly its files, their sizes and checksums. */
async function extractAndVerify(archive: string, dir: string, log: Log): Promise<Manifest> {
  const { stdout: listing } = await run('tar', ['-tzf', archive], { maxBuffer: 64 * 1024 * 1024 });
  const members = listing.split('\n').filter(Boolean);
  const stray = members.filter(
    (m) => !/^(\.\/)?(manifest\.json|data(\/.*)?)$/.test(m) || m.split('/').includes('..'),
  );
  if (stray.length > 0)
    throw new Error(`${archive} holds unexpected entries: ${stray.slice(0, 5).join(', ')}`);
  await run('tar', ['-xzf', archive, '-C', dir, '--no-same-owner']);
  const manifestFile = path.join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) throw new Error(`${archive} has no manifest.json`);
  const manifest = parseManifest(await fs.readFile(manifestFile, 'utf8'));
  const dataDir = path.join(dir, 'data');
  const present = existsSync(dataDir) ? await walk(dataDir, () => false) : [];
  const listed = new Set(manifest.files.map((f) => f.path));
  const unlisted = present.filter((p) => !listed.has(p));
  const missing = [...listed].filter((p) => !present.includes(p));
  if (unlisted.length > 0)
    throw new Error(`files in the archive the manifest does not list: ${unlisted.join(', ')}`);
  if (missing.length > 0)
    throw new Error(`files the manifest lists that the archive lacks: ${missing.join(', ')}`);
  for (const f of manifest.files) {
    const file = path.join(dataDir, f.path);
    const { size } = await fs.stat(file);
    if (size !== f.size) throw new Error(`${f.path}: ${size} bytes, the manifest says ${f.size}`);
    const sum = await sha256(file);
    if (sum !== f.sha256)
      throw new Error(`${f.path}: checksum ${sum} does not match the manifest's ${f.sha256}`);
    if (f.sqlite) quickCheck(file);
    log(`  ${f.path}  sha256 ok${f.sqlite ? ', quick_check ok' : ''}`);
  }
  return manifest;
}

export interface RestoreOptions {
  archive: string;
  dataDir: string;
  /** Restore over a DATA_DIR that holds data: the data is moved aside, not deleted. */
  force?: boolean;
  endpoints: Endpoint[];
  tools?: ToolBinaries;
  log?: Log;
}

export interface RestoreResult {
  manifest: Manifest;
  /** Where --force moved the data that was there. */
  movedAside?: string | undefined;
  warnings: string[];
}

/** The entries of DATA_DIR that hold data (not tools.json, logs or our work folders). */
export async function dataEntries(dataDir: string): Promise<string[]> {
  if (!existsSync(dataDir)) return [];
  return (await fs.readdir(dataDir)).filter((n) => !NOT_DATA(n)).sort();
}

function versionWarnings(saved: Versions, now: Versions): string[] {
  const w: string[] = [];
  for (const key of ['temporal', 'ferretdb'] as const) {
    if (saved[key] && now[key] && saved[key] !== now[key])
      w.push(`${key}: the backup was taken with "${saved[key]}", this machine has "${now[key]}"`);
  }
  if (saved.app !== now.app)
    w.push(`project-pipeline: the backup was taken by ${saved.app}, this is ${now.app}`);
  return w;
}

/** Verifies an archive without restoring it (into a temporary folder, removed afterwards). */
export async function verifyBackup(archive: string, log: Log = () => undefined): Promise<Manifest> {
  await checkTar();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pp-verify-'));
  try {
    return await extractAndVerify(path.resolve(archive), dir, log);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function moveAside(dataDir: string, entries: string[], stamp: string): Promise<string> {
  // Beside DATA_DIR if we may write there and it is the same file system, else inside it.
  for (const target of [`${dataDir}.replaced-${stamp}`, path.join(dataDir, `.replaced-${stamp}`)]) {
    const moved: string[] = [];
    try {
      await fs.mkdir(target);
      for (const e of entries) {
        await fs.rename(path.join(dataDir, e), path.join(target, e));
        moved.push(e);
      }
      return target;
    } catch {
      for (const e of moved.reverse()) await fs.rename(path.join(target, e), path.join(dataDir, e));
      await fs.rm(target, { recursive: true, force: true });
    }
  }
  throw new Error(`could not move the current data of ${dataDir} aside; nothing was changed`);
}

export async function restoreBackup(o: RestoreOptions): Promise<RestoreResult> {
  const log = o.log ?? (() => undefined);
  const archive = path.resolve(o.archive);
  const dataDir = path.resolve(o.dataDir);
  await checkTar();
  await assertStackStopped(dataDir, o.endpoints, 'restore');
  if (!existsSync(archive)) throw new Error(`no archive at ${archive}`);
  const existing = await dataEntries(dataDir);
  if (existing.length > 0 && !o.force)
    throw new Error(
      `refusing to restore: ${dataDir} already holds data (${existing.join(', ')}). ` +
        'Restore into an empty DATA_DIR, or pass --force to move what is there aside first.',
    );
  await fs.mkdir(dataDir, { recursive: true });
  // Staged inside DATA_DIR: the same file system, so the data moves in by rename.
  const staging = await fs.mkdtemp(path.join(dataDir, '.restore-'));
  try {
    const manifest = await extractAndVerify(archive, staging, log);
    const warnings = versionWarnings(manifest.versions, await currentVersions(o.tools));
    await assertStackStopped(dataDir, o.endpoints, 'restore');
    const stamp = new Date()
      .toISOString()
      .replace(/\.\d+Z$/, 'Z')
      .replace(/[-:]/g, '');
    const movedAside = existing.length > 0 ? await moveAside(dataDir, existing, stamp) : undefined;
    const restored = path.join(staging, 'data');
    if (existsSync(restored))
      for (const entry of await fs.readdir(restored))
        await fs.rename(path.join(restored, entry), path.join(dataDir, entry));
    for (const f of manifest.files) await fs.chmod(path.join(dataDir, f.path), f.mode);
    return { manifest, movedAside, warnings };
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}
