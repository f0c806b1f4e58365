/**
 * `npm run backup` / `npm run restore` round trip on the stack as `npm start` runs it: projects created and advanced
 * through the API, the stack stopped, backed up, its DATA_DIR wiped and restored, and started again on it. The
 * projects, their stage and seq, their workflows and the local JWT secret are back, the workflows take the next
 * decision, and the consistency check finds the workflows and the read model agree.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { signLocalToken } from '../../api/auth';
import { CREATE_PROJECT_EXAMPLE } from '../../api/schemas';
import { projectWorkflowId } from '../../domain/project';
import Database from 'better-sqlite3';
import { createBackup, restoreBackup, type Manifest } from '../../infra/data-safety';
import { repoRoot as findRepoRoot } from '../../infra/local-stack';
import { buildLikeNpmStart, startStack, type RunningStack } from './stack';

jest.setTimeout(600_000);

const repoRoot = findRepoRoot();
const SCREENING = ['ndrc', 'finance', 'approval-bureau', 'natural-resources', 'housing'];

let stack: RunningStack | undefined;
let dataDir: string;
const work = mkdtempSync(path.join(tmpdir(), 'pp-backup-test-'));
const archive = path.join(work, 'backups', 'local.tar.gz');

/** Runs dist/scripts/<name>.js (what `npm run <name>` runs after its build) against the test stack's settings. */
function cli(name: 'backup' | 'restore', ...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, ...stack!.env, LOG_LEVEL: 'warn' };
  delete env.INIT_CWD;
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'scripts', `${name}.js`), ...args], {
    cwd: repoRoot,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The API with a token signed by the stack's own secret (DATA_DIR/jwt-secret), as `npm run token` signs it. */
function apiAs(token: string) {
  const call = async <T>(method: string, p: string, body?: unknown) => {
    const r = await fetch(`${stack!.baseUrl}/api/v1${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : null,
    });
    return { status: r.status, body: (await r.json()) as T };
  };
  return {
    get: <T>(p: string) => call<T>('GET', p),
    post: <T>(p: string, body?: unknown) => call<T>('POST', p, body ?? {}),
  };
}

const tokenFor = (org: string, role: string) =>
  signLocalToken(readFileSync(path.join(dataDir, 'jwt-secret'), 'utf8').trim(), {
    sub: `${org}-${role}`,
    org,
    roles: [role],
  });

interface ProjectView {
  projectId: string;
  stage: string;
  seq: number;
  source: string;
  openTasks: { id: string; assigneeOrg: string }[];
}

async function describeWorkflow(projectId: string) {
  const connection = await Connection.connect({ address: stack!.env.TEMPORAL_ADDRESS });
  try {
    const d = await new Client({ connection, namespace: 'default' }).workflow
      .getHandle(projectWorkflowId(projectId))
      .describe();
    return { status: d.status.name, runId: d.runId, historyLength: d.historyLength };
  } finally {
    await connection.close();
  }
}

async function stopStack(): Promise<void> {
  await stack?.stop();
}

// Before the backup: a DRAFT, and a project submitted with one screening decision taken.
let draftId: string;
let submittedId: string;
let applicantToken: string;
const before: Record<string, { view: ProjectView; workflow: Awaited<ReturnType<typeof describeWorkflow>> }> =
  {};

beforeAll(async () => {
  // E2E_SKIP_BUILD=1 reuses dist/ while iterating on the test itself.
  if (process.env.E2E_SKIP_BUILD !== '1') buildLikeNpmStart();
  stack = await startStack();
  dataDir = stack.dataDir;
  applicantToken = await tokenFor('yaodu', 'applicant');
  const owner = apiAs(applicantToken);
  const created = [];
  for (const name of ['临汾市备份恢复测试项目（草稿）', '临汾市备份恢复测试项目（已申报）']) {
    // Without a 包联领导: a fresh stack's people directory is empty.
    const { assignedLeader: _leader, ...details } = CREATE_PROJECT_EXAMPLE;
    const r = await owner.post<ProjectView>('/projects', { ...details, name });
    expect(r.status).toBe(201);
    created.push(r.body.projectId);
  }
  [draftId, submittedId] = created as [string, string];
  expect((await owner.post(`/projects/${submittedId}/submit`)).status).toBe(200);
  const ndrc = apiAs(await tokenFor('ndrc', 'reviewer'));
  const decided = await ndrc.post(`/tasks/${submittedId}~R1-T1-ndrc/decision`, {
    decision: 'PASS',
    opinion: '发改委初审同意',
  });
  expect(decided.status).toBe(200);
  for (const id of created) {
    before[id] = {
      view: (await owner.get<ProjectView>(`/projects/${id}`)).body,
      workflow: await describeWorkflow(id),
    };
  }
  expect(before[draftId]!.view.stage).toBe('DRAFT');
  expect(before[submittedId]!.view.stage).toBe('DEPT_SCREENING');
  expect(before[submittedId]!.view.openTasks.map((t) => t.assigneeOrg).sort()).toEqual(
    SCREENING.filter((o) => o !== 'ndrc').sort(),
  );
});

afterAll(async () => {
  await stopStack();
  rmSync(work, { recursive: true, force: true });
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('backup and restore refuse while the stack runs, naming what holds the data', () => {
  const b = cli('backup', '--out', archive);
  expect(b.status).toBe(1);
  expect(b.out).toMatch(/refusing to back up: the stack is running/);
  expect(b.out).toMatch(/temporal\.db/);
  expect(existsSync(archive)).toBe(false);
  const r = cli('restore', archive);
  expect(r.status).toBe(1);
  expect(r.out).toMatch(/refusing to restore: the stack is running/);
});

test('stopped: one tar.gz with a manifest of time, versions and checksums, SQLite copied with its WAL', async () => {
  await stopStack();
  const wal = ['temporal/temporal.db-wal', 'ferretdb/sqlite/project-pipeline.sqlite-wal']
    .filter((f) => existsSync(path.join(dataDir, f)))
    .map((f) => `${f} ${statSync(path.join(dataDir, f)).size} bytes`);
  console.log(`left by the stopped stack: ${wal.join(', ') || 'no -wal'}`);
  const started = Date.now();
  const b = cli('backup', '--out', archive);
  expect(b).toMatchObject({ status: 0 });
  console.log(`backup took ${Date.now() - started} ms:\n${b.out}`);
  const manifest = JSON.parse(
    spawnSync('tar', ['-xzOf', archive, 'manifest.json'], { encoding: 'utf8' }).stdout,
  ) as Manifest;
  expect(manifest.format).toBe('project-pipeline-backup/1');
  expect(Date.now() - Date.parse(manifest.createdAt)).toBeLessThan(120_000);
  expect(manifest.versions.app).toMatch(/^\d+\.\d+\.\d+/);
  expect(manifest.versions.ferretdb).toMatch(/1\.24\.2/);
  expect(manifest.versions.temporal).toMatch(/temporal version/);
  const byPath = new Map(manifest.files.map((f) => [f.path, f]));
  expect(byPath.get('temporal/temporal.db')).toMatchObject({
    sqlite: true,
    sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
  });
  expect(byPath.get('ferretdb/sqlite/project-pipeline.sqlite')).toMatchObject({ sqlite: true });
  expect(byPath.get('jwt-secret')).toMatchObject({ sqlite: false, mode: 0o600 });
  // Nothing SQLite rebuilds, nothing machine-specific.
  expect(manifest.files.filter((f) => /-(wal|shm)$|^logs\/|tools\.json|\.log$/.test(f.path))).toEqual([]);
  expect(cli('restore', '--check', archive).status).toBe(0);
});

test('restore refuses an archive whose file does not match its checksum', () => {
  const unpacked = path.join(work, 'tampered');
  rmSync(unpacked, { recursive: true, force: true });
  mkdirSync(unpacked);
  expect(spawnSync('tar', ['-xzf', archive, '-C', unpacked]).status).toBe(0);
  // The same size, one character changed.
  const secretFile = path.join(unpacked, 'data', 'jwt-secret');
  const secret = readFileSync(secretFile, 'utf8');
  writeFileSync(secretFile, (secret[0] === 'a' ? 'b' : 'a') + secret.slice(1));
  const tampered = path.join(work, 'tampered.tar.gz');
  expect(spawnSync('tar', ['-czf', tampered, '-C', unpacked, 'manifest.json', 'data']).status).toBe(0);
  const r = cli('restore', '--check', tampered);
  expect(r.status).toBe(1);
  expect(r.out).toMatch(/jwt-secret: .*does not match the manifest/);
});

test('wiped and restored: the projects, their stage and workflows are back, and a workflow takes the next decision', async () => {
  rmSync(dataDir, { recursive: true, force: true });
  const started = Date.now();
  const r = cli('restore', archive);
  expect(r).toMatchObject({ status: 0 });
  console.log(`restore took ${Date.now() - started} ms:\n${r.out}`);
  expect(readdirSync(dataDir).sort()).toEqual(expect.arrayContaining(['ferretdb', 'jwt-secret', 'temporal']));

  stack = await startStack(undefined, { dataDir });
  // The token signed before the backup still signs in: the local secret came back with the data.
  const owner = apiAs(applicantToken);
  for (const id of [draftId, submittedId]) {
    const view = (await owner.get<ProjectView>(`/projects/${id}`)).body;
    expect(view).toMatchObject({
      projectId: id,
      stage: before[id]!.view.stage,
      seq: before[id]!.view.seq,
      source: 'read-model',
    });
    expect(view.openTasks.map((t) => t.id).sort()).toEqual(
      before[id]!.view.openTasks.map((t) => t.id).sort(),
    );
    const workflow = await describeWorkflow(id);
    expect(workflow).toMatchObject({ status: 'RUNNING', runId: before[id]!.workflow.runId });
    expect(workflow.historyLength).toBeGreaterThanOrEqual(before[id]!.workflow.historyLength);
  }
  const list = (await owner.get<{ projects: { projectId: string }[] }>('/projects?limit=200')).body.projects;
  expect(list.map((p) => p.projectId).sort()).toEqual([draftId, submittedId].sort());

  // The workflows go on: the other four departments decide, and the project leaves screening.
  for (const org of SCREENING.filter((o) => o !== 'ndrc')) {
    const reviewer = apiAs(await tokenFor(org, 'reviewer'));
    const d = await reviewer.post<{ seq: number }>(`/tasks/${submittedId}~R1-T1-${org}/decision`, {
      decision: 'PASS',
      opinion: '初审同意（恢复后）',
    });
    expect(d.status).toBe(200);
  }
  const after = (await owner.get<ProjectView>(`/projects/${submittedId}`)).body;
  expect(after.stage).toBe('SPECIALIST_REVIEW');
  expect(after.seq).toBeGreaterThan(before[submittedId]!.view.seq);
  expect((await owner.post(`/projects/${draftId}/submit`)).status).toBe(200);
  expect((await owner.get<ProjectView>(`/projects/${draftId}`)).body.stage).toBe('DEPT_SCREENING');

  // `npm run check:consistency` against the restored stack: workflows and read model agree.
  const check = spawnSync(
    process.execPath,
    [path.join(repoRoot, 'dist', 'scripts', 'check-consistency.js')],
    {
      cwd: repoRoot,
      env: { ...process.env, ...stack.env },
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  expect({ status: check.status, out: check.stdout + check.stderr }).toMatchObject({ status: 0 });
  expect(check.stdout).toMatch(/2 projects checked: consistent/);
});

test('restore refuses a DATA_DIR that holds data unless --force, which moves that data aside', async () => {
  await stopStack();
  const refused = cli('restore', archive);
  expect(refused.status).toBe(1);
  expect(refused.out).toMatch(/already holds data \(ferretdb, jwt-secret, temporal\).*--force/s);
  const forced = cli('restore', '--force', archive);
  expect(forced).toMatchObject({ status: 0 });
  const aside = forced.out.match(/now in (\S+)/)?.[1];
  expect(aside).toBeDefined();
  expect(readdirSync(aside!).sort()).toEqual(['ferretdb', 'jwt-secret', 'temporal']);
  rmSync(aside!, { recursive: true, force: true });
});

test('a database whose last writes are still only in its -wal (a stack that died) is backed up with them', async () => {
  const live = path.join(work, 'died', 'temporal', 'temporal.db');
  mkdirSync(path.dirname(live), { recursive: true });
  const db = new Database(live);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('create table t (n integer)');
  db.transaction(() => {
    for (let n = 0; n < 100; n++) db.prepare('insert into t values (?)').run(n);
  })();
  // The files as a killed process leaves them: everything after the header is in the -wal.
  const died = path.join(work, 'died-copy');
  cpSync(path.join(work, 'died'), died, { recursive: true });
  db.close();
  expect(statSync(path.join(died, 'temporal', 'temporal.db-wal')).size).toBeGreaterThan(0);

  const walArchive = path.join(work, 'died.tar.gz');
  const manifest = await createBackup({ dataDir: died, archive: walArchive, endpoints: [] });
  expect(manifest.files.map((f) => f.path)).toEqual(['temporal/temporal.db']);
  const restored = path.join(work, 'died-restored');
  await restoreBackup({ archive: walArchive, dataDir: restored, endpoints: [] });
  expect(readdirSync(path.join(restored, 'temporal'))).toEqual(['temporal.db']);
  const back = new Database(path.join(restored, 'temporal', 'temporal.db'), { readonly: true });
  try {
    expect(back.prepare('select count(*) as c from t').get()).toEqual({ c: 100 });
  } finally {
    back.close();
  }
});
