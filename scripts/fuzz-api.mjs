#!/usr/bin/env node
// `npm run test:fuzz`: fuzzes the API from its own OpenAPI document with schemathesis, once per role.
//
// 1. A pinned schemathesis in .venv-fuzz (created with python3 -m venv on first use).
// 2. The stack as `npm start` runs it (dist/scripts/start.js) on free ports with a temporary DATA_DIR, seeded
//    with a few projects, a task, a blocker and a person so the routes that take an id also meet real ones.
// 3. `schemathesis run` against /api/v1/openapi.json with a token for each role: no 5xx, every status code,
//    content type (problem+json on every error) and body as documented; a bounded number of cases per operation.
// 4. The stack stopped; the exit code is non-zero on any failure, and the failures are printed.
//
// Options: --max-examples N (FUZZ_MAX_EXAMPLES, default 8), --seed N (FUZZ_SEED; fixed, so CI runs the same cases),
// --role applicant,leader (default: every role),
// --include-path-regex RE (only those operations), --no-build (dist/ is current), --keep (keep DATA_DIR);
// anything after `--` goes to `schemathesis run` as it is (e.g. `-- --report har`).
// Plain JavaScript, like the provision scripts: it needs dist/ (it builds it) but no compiler of its own.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const SCHEMATHESIS_VERSION = '4.32.5';
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
];

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const venv = path.join(repoRoot, '.venv-fuzz');
const venvBin = (name) => path.join(venv, process.platform === 'win32' ? 'Scripts' : 'bin', name);

const { values: opts, positionals: extraArgs } = parseArgs({
  allowPositionals: true,
  options: {
    'max-examples': { type: 'string', default: process.env.FUZZ_MAX_EXAMPLES ?? '8' },
    seed: { type: 'string', default: process.env.FUZZ_SEED ?? '20260101' },
    role: { type: 'string', multiple: true },
    'include-path-regex': { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});

/** Who fuzzes: one token per role, each from an organisation where that role has work. */
const ROLES = [
  { role: 'applicant', org: 'yaodu', sub: 'fuzz-applicant' },
  { role: 'reviewer', org: 'housing', sub: 'fuzz-reviewer' },
  { role: 'leader', org: 'sg-urban', sub: 'fuzz-leader' },
  { role: 'supervisor', org: 'project-center', sub: 'fuzz-supervisor' },
  { role: 'admin', org: 'data', sub: 'fuzz-admin' },
];

function log(msg) {
  console.log(`[fuzz] ${msg}`);
}

/** 1. The pinned schemathesis, in a virtual environment of its own. */
function ensureSchemathesis() {
  const st = venvBin('schemathesis');
  if (existsSync(st)) {
    const v = spawnSync(st, ['--version'], { encoding: 'utf8' });
    if (v.status === 0 && v.stdout.includes(SCHEMATHESIS_VERSION)) return st;
  }
  log(`installing schemathesis ${SCHEMATHESIS_VERSION} into ${path.relative(repoRoot, venv)}`);
  if (!existsSync(venvBin('python'))) execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  execFileSync(
    venvBin('python'),
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      `schemathesis==${SCHEMATHESIS_VERSION}`,
    ],
    { stdio: 'inherit' },
  );
  return st;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The request rate limits (RATE_LIMIT_PER_CALLER, RATE_LIMIT_PER_ADDRESS, …) raised as far as the configuration
 * allows: a fuzzer makes thousands of requests a minute on one token, and a 429 would hide what it looks for.
 */
function relaxedLimits() {
  const env = {};
  const { EnvSchema } = require(path.join(repoRoot, 'dist', 'config', 'index.js'));
  for (const [key, schema] of Object.entries(EnvSchema.shape)) {
    if (!/^RATE_LIMIT_PER_/.test(key)) continue;
    const value = ['1000000', '100000', '10000'].find((v) => schema.safeParse(v).success);
    if (value) env[key] = value;
  }
  return env;
}

/** 2. The stack as `npm start` runs it, on free ports and a fresh data directory. */
async function startStack(dataDir) {
  const [temporal, ui, mongo, api] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const env = {
    ...process.env,
    DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: `127.0.0.1:${temporal}`,
    TEMPORAL_UI_PORT: String(ui),
    MONGO_URI: `mongodb://127.0.0.1:${mongo}/project-pipeline`,
    API_PORT: String(api),
    API_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    CONSOLE_DIR: '',
    ...relaxedLimits(),
  };
  delete env.JWT_SECRET;
  delete env.OIDC_JWKS_URL;
  delete env.POLICY_PATH;
  const logFile = path.join(dataDir, 'stack.log');
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'scripts', 'start.js')], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
  };
  const running = new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`the stack did not start in 180 s; see ${logFile}`)),
      180_000,
    );
    child.stdout.on('data', (chunk) => {
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
  // A stack that never came up is stopped all the same (start.js stops what it had started).
  await running.catch(async (err) => {
    await stop();
    throw err;
  });
  const baseUrl = `http://127.0.0.1:${api}`;
  for (let i = 0; i < 240; i++) {
    if (
      await fetch(`${baseUrl}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return { baseUrl, logFile, stop };
}

async function tokens(dataDir) {
  const { signLocalToken } = require(path.join(repoRoot, 'dist', 'api', 'auth.js'));
  const secret = readFileSync(path.join(dataDir, 'jwt-secret'), 'utf8').trim();
  const out = {};
  for (const r of ROLES)
    out[r.role] = await signLocalToken(secret, { sub: r.sub, org: r.org, roles: [r.role] }, '2h');
  return out;
}

/** Real ids for the routes that take one: a few projects (a draft, a submitted one), a task, a blocker, a person. */
async function seed(baseUrl, tok) {
  const S = require(path.join(repoRoot, 'dist', 'api', 'schemas.js'));
  const call = async (role, method, url, body) => {
    const res = await fetch(`${baseUrl}/api/v1${url}`, {
      method,
      headers: {
        authorization: `Bearer ${tok[role]}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json().catch(() => undefined);
    if (!res.ok)
      throw new Error(`seeding: ${method} ${url} as ${role} answered ${res.status}: ${JSON.stringify(json)}`);
    return json;
  };
  const ids = { id: [], taskId: [], blockerId: [], personId: [], importId: [], expertId: [] };
  await call('admin', 'PUT', '/people/vm-zhang', {
    ...S.PERSON_EXAMPLE,
    channels: { emails: [], webhooks: [] },
  });
  ids.personId.push('vm-zhang');
  for (let i = 0; i < 3; i++) {
    const p = await call('applicant', 'POST', '/projects', {
      ...S.CREATE_PROJECT_EXAMPLE,
      name: `模糊测试项目 ${i + 1}`,
    });
    ids.id.push(p.projectId);
  }
  await call('applicant', 'POST', `/projects/${ids.id[0]}/submit`);
  for (let i = 0; i < 60 && ids.taskId.length === 0; i++) {
    const inbox = await call('reviewer', 'GET', '/tasks');
    ids.taskId.push(...inbox.tasks.filter((t) => t.projectId === ids.id[0]).map((t) => t.taskId));
    if (ids.taskId.length === 0) await new Promise((r) => setTimeout(r, 500));
  }
  // The rest is a bonus (a blocker, an expert, an import): a seeding that fails only costs those routes their ids.
  const doc = await (await fetch(`${baseUrl}/api/v1/openapi.json`)).json();
  const exampleOf = (p, method) => doc.paths[p]?.[method]?.requestBody?.content['application/json']?.example;
  const optional = async (what, fn) => {
    try {
      await fn();
    } catch (err) {
      log(`(no ${what} seeded: ${err.message})`);
    }
  };
  await optional('blocker', async () => {
    const b = await call(
      'applicant',
      'POST',
      `/projects/${ids.id[0]}/blockers`,
      exampleOf('/projects/{id}/blockers', 'post'),
    );
    if (b?.blockerId) ids.blockerId.push(b.blockerId);
  });
  await optional('expert', async () => {
    const res = await fetch(`${baseUrl}/api/v1/experts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tok.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify(exampleOf('/experts', 'post')),
    });
    const id = res.headers.get('location')?.split('/').pop();
    if (!res.ok || !id) throw new Error(`POST /experts answered ${res.status}`);
    ids.expertId.push(decodeURIComponent(id));
  });
  await optional('import', async () => {
    // The template's example row onboards a project in 实施库: the pipeline office's to do (policy onboarding).
    const template = await fetch(`${baseUrl}/api/v1/imports/template?format=csv`, {
      headers: { authorization: `Bearer ${tok.supervisor}` },
    });
    const res = await fetch(`${baseUrl}/api/v1/imports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tok.supervisor}`, 'content-type': 'text/csv' },
      body: Buffer.from(await template.arrayBuffer()),
    });
    const id = res.headers.get('location')?.split('/').pop();
    if (!id) throw new Error(`POST /imports answered ${res.status} without a Location`);
    ids.importId.push(decodeURIComponent(id));
  });
  return ids;
}

/**
 * The operations a role may call (the document's "Roles: …"; those needing no token count for every role): they
 * get the whole budget. The others only show that they refuse the role (403, problem+json) with a few cases each.
 */
function operationsByRole(doc, role) {
  const allowed = [];
  const refused = [];
  for (const [p, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const roles = /^Roles: (.*)$/.exec(op.description ?? '')?.[1]?.split(/,\s*/);
      (roles && !roles.includes(role) ? refused : allowed).push(`${method.toUpperCase()} ${p}`);
    }
  }
  return { allowed, refused };
}

/** schemathesis.toml for one role: its token, the budget, and the cheap pass over what it may not call. */
function configFor(doc, role, token) {
  const { refused } = operationsByRole(doc, role);
  const str = (v) => JSON.stringify(v); // a JSON string is a TOML basic string
  return [
    `headers = { Authorization = ${str(`Bearer ${token}`)} }`,
    '[generation]',
    `max-examples = ${Number(opts['max-examples'])}`,
    '[phases.stateful]',
    'enabled = false',
    ...(refused.length
      ? [
          '[[operations]]',
          `include-name = [${refused.map(str).join(', ')}]`,
          'generation.max-examples = 1',
          'phases.coverage.enabled = false',
        ]
      : []),
    '',
  ].join('\n');
}

/** 3. schemathesis against the document with one role's token; returns whether it passed. */
function runSchemathesis(st, baseUrl, doc, role, token, ids, workDir, reportDir) {
  const configFile = path.join(workDir, `schemathesis-${role}.toml`);
  writeFileSync(configFile, configFor(doc, role, token));
  const args = [
    '--config-file',
    configFile,
    'run',
    `${baseUrl}/api/v1/openapi.json`,
    '--checks',
    CHECKS.join(','),
    '--workers',
    '1', // hypothesis is not thread-safe everywhere (seen: "AST constructor recursion depth mismatch")
    '--seed',
    opts.seed,
    '--generation-database',
    'none',
    '--request-timeout',
    '30',
    '--suppress-health-check',
    'all',
    '--no-color',
    '--output-truncate',
    'true',
    '--report',
    'junit',
    '--report-junit-path',
    path.join(reportDir, `${role}.xml`),
    ...(opts['include-path-regex'] ? ['--include-path-regex', opts['include-path-regex']] : []),
    ...extraArgs,
  ];
  const { allowed, refused } = operationsByRole(doc, role);
  log(
    `schemathesis as ${role}: ${allowed.length} operations with up to ${opts['max-examples']} cases each (and the coverage phase), ${refused.length} refused to the role with 1`,
  );
  const started = Date.now();
  const r = spawnSync(st, args, {
    cwd: workDir,
    stdio: 'inherit',
    env: {
      ...process.env,
      SCHEMATHESIS_HOOKS: path.join(repoRoot, 'scripts', 'fuzz-api.py'),
      FUZZ_IDS: JSON.stringify(ids),
    },
  });
  log(
    `${role}: ${r.status === 0 ? 'passed' : `FAILED (exit ${r.status})`} in ${Math.round((Date.now() - started) / 1000)} s`,
  );
  return r.status === 0;
}

async function main() {
  const started = Date.now();
  const st = ensureSchemathesis();
  if (!opts['no-build']) {
    log('building (tsc -p tsconfig.build.json)');
    execFileSync(
      process.execPath,
      [path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: repoRoot,
        stdio: 'inherit',
      },
    );
  }
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'provision-tools.mjs')], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pp-fuzz-'));
  const reportDir = path.join(repoRoot, 'test-results', 'fuzz');
  mkdirSync(reportDir, { recursive: true });
  log(`starting the stack (data in ${dataDir})`);
  const stack = await startStack(dataDir);
  const failed = [];
  let completed = false;
  try {
    const tok = await tokens(dataDir);
    const ids = await seed(stack.baseUrl, tok);
    log(`seeded: ${JSON.stringify(ids)}`);
    const doc = await (await fetch(`${stack.baseUrl}/api/v1/openapi.json`)).json();
    const roles = opts.role?.flatMap((r) => r.split(',')) ?? ROLES.map((r) => r.role);
    for (const role of roles) {
      if (!tok[role]) throw new Error(`unknown role ${role}`);
      if (!runSchemathesis(st, stack.baseUrl, doc, role, tok[role], ids, dataDir, reportDir))
        failed.push(role);
    }
    completed = true;
  } finally {
    log('stopping the stack');
    await stack.stop();
    if (failed.length || !completed) log(`the stack's log: ${stack.logFile}`);
    else if (!opts.keep) rmSync(dataDir, { recursive: true, force: true });
  }
  const took = Math.round((Date.now() - started) / 1000);
  if (failed.length) {
    console.error(
      `[fuzz] FAILED for ${failed.join(', ')} (${took} s); reports in ${path.relative(repoRoot, reportDir)}/`,
    );
    process.exit(1);
  }
  log(`passed for every role (${took} s)`);
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
