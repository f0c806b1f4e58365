/**
 * API approvals benchmark (a script, not a timed test):
 *
 *   npm run bench:api -- [--projects 200] [--concurrency 8] [--order interleaved|project|department]
 *                        [--poll-ms 20] [--visible-timeout-ms 30000] [--max-seconds 1200] [--no-twin]
 *                        [--json out.json]
 *
 * Starts its own real stack (Temporal dev server + FerretDB on free ports in a temporary directory, exactly as
 * the jest global setup does), a real worker in this process (test/support/harness.ts) and the real API app
 * (api/app.ts through test/support/api.ts) on an HTTP port of 127.0.0.1, with the DEFAULT policy — deadlines
 * are days away, so no timer fires during the run. Every call goes over HTTP with a signed JWT.
 *
 * Scenario: an applicant creates N projects (POST /projects) and submits each (POST /projects/:id/submit);
 * the tier-1 departments' task ids are read from GET /projects/:id and cross-checked against each
 * department's inbox (GET /tasks). Then, with a fixed number of concurrent clients, each department's
 * reviewer decides PASS on each of its tasks (POST /tasks/:taskId/decision). For every decision the script
 * measures (a) the HTTP latency of the POST and (b) the time from sending the POST until GET /projects/:id,
 * as a supervisor, shows the change — `seq` at least the `seq` the POST answered and the task no longer
 * among `openTasks` — polling every --poll-ms. A client starts its next decision only once its previous one
 * is visible (closed loop), so throughput is "decisions applied and visible per second".
 *
 * Orders of the decisions (all N×4 are made in every order):
 *   interleaved (default)  round r decides task (p + r) mod 4 of project p: concurrent decisions hit different
 *                          projects and different departments;
 *   project                a project's four decisions back to back: concurrent updates of one workflow;
 *   department             round r decides task r of every project: concurrent decisions of one department.
 *
 * Then, on the same stack and in the same process, the bare-Temporal twin (bench/twin.ts): one workflow per
 * project whose Update handler sets a field, behind a tiny HTTP handler that verifies the same JWTs; the same
 * decisions in the same order at the same concurrency, each an Update followed by one query (GET). The report
 * ends with the app's figures, the twin's and their ratio; the JSON goes to --json or bench/results/.
 *
 * Every loop is bounded in count and time; the run stops by itself (also on SIGINT/SIGTERM, and a watchdog
 * after --max-seconds) and tears the stack down: HTTP server, worker, connections, FerretDB, Temporal, temp dir.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import globalSetup from '../test/support/global-setup';
import globalTeardown from '../test/support/global-teardown';
import { startTestSystem, type TestSystem } from '../test/support/harness';
import { TEST_JWT_SECRET, testApp, token } from '../test/support/api';
import { CREATE_PROJECT_EXAMPLE, EXAMPLES } from '../api/schemas';
import { loadPolicy } from '../policy/load';
import type { ManagedProcess } from '../infra/processes';
import { repoRoot } from '../infra/local-stack';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { historyBreakdown, type HistoryBreakdown } from './api-history';
import { cpuWindow, formatSummary, summarize, Tally, type CpuWindow, type LatencySummary } from './api-stats';
import { childPidsNamed } from './proc-stats';
import { runStoreTwin, type StoreTwinResult } from './store-twin';
import {
  comparison,
  cpuTotal,
  formatComparison,
  historyCounts,
  historyRows,
  per1000,
  runFieldTwin,
  startTwinApi,
  startTwinWorker,
  type FieldTwinResult,
  type TwinApi,
  type TwinWorker,
} from './twin';

// ------------------------------------------------------------------------------------------ options

type Order = 'interleaved' | 'project' | 'department';

interface Options {
  projects: number;
  concurrency: number;
  order: Order;
  pollMs: number;
  visibleTimeoutMs: number;
  maxSeconds: number;
  settleSeconds: number;
  twin: boolean;
  json: string | undefined;
}

function intOption(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined) return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max)
    throw new Error(`--${name} must be an integer in ${min}..${max}`);
  return v;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      projects: { type: 'string' },
      concurrency: { type: 'string' },
      order: { type: 'string' },
      'poll-ms': { type: 'string' },
      'visible-timeout-ms': { type: 'string' },
      'max-seconds': { type: 'string' },
      'settle-seconds': { type: 'string' },
      'no-twin': { type: 'boolean' },
      json: { type: 'string' },
    },
    strict: true,
  });
  const order = (values.order ?? 'interleaved') as Order;
  if (!['interleaved', 'project', 'department'].includes(order))
    throw new Error('--order must be interleaved, project or department');
  return {
    projects: intOption('projects', values.projects, 200, 1, 5000),
    concurrency: intOption('concurrency', values.concurrency, 8, 1, 256),
    order,
    pollMs: intOption('poll-ms', values['poll-ms'], 20, 1, 1000),
    visibleTimeoutMs: intOption('visible-timeout-ms', values['visible-timeout-ms'], 30_000, 100, 600_000),
    maxSeconds: intOption('max-seconds', values['max-seconds'], 1200, 10, 86_400),
    settleSeconds: intOption('settle-seconds', values['settle-seconds'], 600, 0, 86_400),
    twin: !values['no-twin'],
    json: values.json,
  };
}

// ------------------------------------------------------------------------------------------ run control

/** Set on SIGINT/SIGTERM or when the time budget is spent: every loop checks it and winds down. */
let stopping = false;
let stopReason = '';
function stop(reason: string): void {
  if (stopping) return;
  stopping = true;
  stopReason = reason;
  console.error(`\nstopping: ${reason}`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `fn` over the items with at most `concurrency` in flight; stops taking new items once stopping. */
async function pool<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (!stopping && next < items.length) await fn(items[next++]!);
  });
  await Promise.all(lanes);
}

/** Awaits `p` for at most `ms`; a cleanup step that hangs must not keep the script alive. */
async function bounded(what: string, p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      p,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no end within ${ms} ms`)), ms);
      }),
    ]);
  } catch (err) {
    console.error(`cleanup: ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------------------------------ HTTP

const REQUEST_TIMEOUT_MS = 20_000; // above the API's own 10 s update timeout (then 504)

interface Reply<B = unknown> {
  status: number; // 0: network error or client timeout
  body: B;
  ms: number;
}

interface ViewTask {
  id: string;
  kind: string;
  tier?: number;
  assigneeOrg: string;
  status: string;
}
interface ProjectBody {
  projectId: string;
  stage: string;
  seq: number;
  openTasks: ViewTask[];
  source: string;
}
interface ActionBody {
  projectId: string;
  stage: string;
  seq: number;
}
interface InboxBody {
  org: string;
  tasks: { taskId: string; projectId: string; tier: number | null; kind: string }[];
}

class Api {
  constructor(private readonly base: string) {}

  async call<B = unknown>(
    method: 'GET' | 'POST',
    path: string,
    jwt: string,
    body?: unknown,
    idempotencyKey?: string,
  ): Promise<Reply<B>> {
    const headers: Record<string, string> = { authorization: `Bearer ${jwt}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    const t0 = performance.now();
    try {
      const res = await fetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON: keep the text */
      }
      return { status: res.status, body: parsed as B, ms: performance.now() - t0 };
    } catch (err) {
      return { status: 0, body: String(err) as B, ms: performance.now() - t0 };
    }
  }
}

/** Statuses after which the same request (same Idempotency-Key) may be sent again. */
const RETRYABLE = new Set([0, 429, 503, 504]);
const MAX_ATTEMPTS = 3;

// ------------------------------------------------------------------------------------------ the run

interface Decision {
  projectId: string;
  taskId: string;
  org: string;
}

interface DecisionSample {
  postMs: number;
  visibleMs?: number;
  polls: number;
  closedScreening: boolean;
}

interface PhaseResult {
  count: number;
  ok: number;
  wallSeconds: number;
  post: LatencySummary | undefined;
  visible?: LatencySummary | undefined;
}

async function main(): Promise<number> {
  const opts = options(process.argv.slice(2));
  const runId = randomUUID().slice(0, 8);
  const started = performance.now();
  const budgetTimer = setTimeout(
    () => stop(`time budget of ${opts.maxSeconds} s spent`),
    opts.maxSeconds * 1000,
  );
  budgetTimer.unref();
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) {
      console.error(`${sig} again: killing the stack and exiting`);
      killStack();
      process.exit(130);
    }
    stop(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Watchdog: if winding down itself hangs, the stack is killed and the process exits anyway.
  const watchdog = setTimeout(
    () => {
      console.error('watchdog: the run did not end in time; killing the stack');
      killStack();
      process.exit(3);
    },
    (opts.maxSeconds + 180) * 1000,
  );
  watchdog.unref();

  console.log(
    `api-approvals: ${opts.projects} projects, concurrency ${opts.concurrency}, order ${opts.order}, ` +
      `poll every ${opts.pollMs} ms; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}`,
  );
  const errors = new Tally();
  let sys: TestSystem | undefined;
  let server: Server | undefined;
  let twinWorker: TwinWorker | undefined;
  let twinApi: TwinApi | undefined;
  let exitCode = 0;
  try {
    const tSetup = performance.now();
    // Before the harness installs its WARN logger: activity warnings (no notification channel configured for
    // the administrators' alerts) would otherwise flood the output; errors still show.
    // The SDK core's own warnings (e.g. an activity completing after its timeout) are counted from the
    // histories instead (attempts > 1), so they are kept off the console as well.
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
    });
    await globalSetup();
    const policy = loadPolicy(); // the default policy: deadlines in working days, no timer fires during the run
    sys = await startTestSystem({ policy });
    // One supervisor token reads after every decision: at the targets' rate that alone nears the per-caller limit,
    // which guards against scripts, not what this measures.
    const app = testApp(sys, {
      rateLimits: { windowMs: 10_000, perCaller: 1_000_000, perAddressUnauthenticated: 1_000_000 },
    });
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const addr = server.address();
    if (!addr || typeof addr === 'string') throw new Error('the API server has no TCP address');
    const api = new Api(`http://127.0.0.1:${addr.port}/api/v1`);
    console.log(
      `stack up in ${((performance.now() - tSetup) / 1000).toFixed(1)} s: API http://127.0.0.1:${addr.port}, ` +
        `Temporal ${process.env.TEST_TEMPORAL_ADDRESS}, FerretDB ${process.env.TEST_MONGO_URI_BASE}`,
    );

    const applicant = await token('bench-applicant', 'yaodu', 'applicant');
    const supervisor = await token('bench-supervisor', 'project-center', 'supervisor');
    const reviewers = new Map<string, string>();
    const reviewerOf = async (org: string) => {
      let t = reviewers.get(org);
      if (!t) reviewers.set(org, (t = await token(`bench-${org}-reviewer`, org, 'reviewer')));
      return t;
    };
    const ready = await api.call('GET', '/projects/none-such', supervisor);
    if (ready.status !== 404) throw new Error(`the API is not answering as expected: ${ready.status}`);

    /** POST with the same Idempotency-Key up to MAX_ATTEMPTS times; every non-success is tallied. */
    const post = async <B>(what: string, path: string, jwt: string, body: unknown, key: string) => {
      let r: Reply<B> | undefined;
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        r = await api.call<B>('POST', path, jwt, body, key);
        if (r.status >= 200 && r.status < 300) return r;
        errors.add(what, r.status);
        if (!RETRYABLE.has(r.status) || stopping) break;
        await sleep(250 * attempt);
      }
      return r!;
    };

    /** Polls GET /projects/:id as the supervisor until `ok`, at most visibleTimeoutMs after `since`. */
    const getLatencies: number[] = [];
    const waitVisible = async (
      projectId: string,
      since: number,
      ok: (v: ProjectBody) => boolean,
      timeoutMs = opts.visibleTimeoutMs,
    ) => {
      const deadline = since + timeoutMs;
      for (let polls = 1; ; polls++) {
        const r = await api.call<ProjectBody>('GET', `/projects/${projectId}`, supervisor);
        getLatencies.push(r.ms);
        if (r.status !== 200) errors.add('GET /projects/:id (poll)', r.status);
        else if (ok(r.body)) return { at: performance.now(), polls, view: r.body };
        if (performance.now() >= deadline || stopping) return { at: undefined, polls, view: undefined };
        await sleep(opts.pollMs);
      }
    };

    // ---- 1. create
    const projectIds: string[] = [];
    const createMs: number[] = [];
    const tCreate = performance.now();
    await pool(
      Array.from({ length: opts.projects }, (_, i) => i),
      opts.concurrency,
      async (i) => {
        const body = {
          ...CREATE_PROJECT_EXAMPLE,
          name: `${CREATE_PROJECT_EXAMPLE.name}（基准 ${runId}-${i}）`,
        };
        const r = await post<ProjectBody>(
          'POST /projects',
          '/projects',
          applicant,
          body,
          `bench-${runId}-c${i}`,
        );
        if (r.status === 201) {
          createMs.push(r.ms);
          projectIds.push(r.body.projectId);
        }
      },
    );
    const created: PhaseResult = {
      count: opts.projects,
      ok: projectIds.length,
      wallSeconds: (performance.now() - tCreate) / 1000,
      post: summarize(createMs),
    };
    console.log(`created ${created.ok}/${created.count} in ${created.wallSeconds.toFixed(1)} s`);

    // ---- 2. submit, and read each project's tier-1 tasks once the read model shows the submission
    const tasksOf = new Map<string, ViewTask[]>();
    const submitMs: number[] = [];
    const submitVisibleMs: number[] = [];
    const lagging = new Map<string, number>(); // project → seq of its submission, not yet visible
    const tier1Of = (v: ProjectBody) =>
      // Sorted by department, so that position r means the same department in every project.
      v.openTasks
        .filter((t) => t.tier === 1 && t.status === 'OPEN')
        .sort((a, b) => a.assigneeOrg.localeCompare(b.assigneeOrg));
    const tSubmit = performance.now();
    await pool(projectIds, opts.concurrency, async (id) => {
      const t0 = performance.now();
      const r = await post<ActionBody>(
        'POST /projects/:id/submit',
        `/projects/${id}/submit`,
        applicant,
        undefined,
        `bench-${runId}-s-${id}`,
      );
      if (r.status !== 200) return;
      submitMs.push(r.ms);
      const seen = await waitVisible(id, t0, (v) => v.seq >= r.body.seq);
      if (seen.at === undefined || !seen.view) {
        errors.add('submit visible in GET /projects/:id', 'timeout');
        lagging.set(id, r.body.seq);
        return;
      }
      submitVisibleMs.push(seen.at - t0);
      tasksOf.set(id, tier1Of(seen.view));
    });
    const submitWall = (performance.now() - tSubmit) / 1000;
    // Projects whose submission the read model had not shown in time: wait (bounded) until it catches up,
    // so that the decisions start on a settled system and every project takes part.
    const tCatchUp = performance.now();
    for (const [id, seq] of lagging) {
      const left = opts.settleSeconds * 1000 - (performance.now() - tCatchUp);
      if (left <= 0 || stopping) break;
      const seen = await waitVisible(id, performance.now(), (v) => v.seq >= seq, left);
      if (seen.view) tasksOf.set(id, tier1Of(seen.view));
    }
    const catchUpSeconds = (performance.now() - tCatchUp) / 1000;
    if (lagging.size > 0)
      console.log(
        `read model caught up with ${[...lagging.keys()].filter((id) => tasksOf.has(id)).length}/${lagging.size} ` +
          `late submissions in ${catchUpSeconds.toFixed(1)} s`,
      );
    const submitted: PhaseResult = {
      count: projectIds.length,
      ok: submitVisibleMs.length, // visible within the timeout
      wallSeconds: submitWall,
      post: summarize(submitMs),
      visible: summarize(submitVisibleMs),
    };
    console.log(
      `submitted ${submitMs.length}/${submitted.count} in ${submitted.wallSeconds.toFixed(1)} s ` +
        `(${submitted.ok} visible within ${opts.visibleTimeoutMs} ms)`,
    );

    // Department inboxes must list every task before the reviewers start (the inbox is eventually consistent).
    const departments = [...new Set([...tasksOf.values()].flat().map((t) => t.assigneeOrg))].sort();
    const inboxMs: number[] = [];
    const inboxBefore: Record<string, { expected: number; listed: number }> = {};
    for (const org of departments) {
      const expected = new Set(
        [...tasksOf.values()]
          .flat()
          .filter((t) => t.assigneeOrg === org)
          .map((t) => t.id),
      );
      let listed = 0;
      const deadline = performance.now() + opts.visibleTimeoutMs;
      while (!stopping) {
        const r = await api.call<InboxBody>('GET', '/tasks', await reviewerOf(org));
        inboxMs.push(r.ms);
        if (r.status !== 200) errors.add('GET /tasks', r.status);
        else listed = r.body.tasks.filter((t) => expected.has(t.taskId)).length;
        if (listed === expected.size || performance.now() >= deadline) break;
        await sleep(100);
      }
      inboxBefore[org] = { expected: expected.size, listed };
      if (listed !== expected.size) errors.add(`inbox of ${org} complete before decisions`, 'timeout');
    }
    console.log(
      `tier-1 departments: ${departments.map((o) => `${o} ${inboxBefore[o]?.listed}/${inboxBefore[o]?.expected}`).join(', ')}`,
    );

    // ---- 3. decisions
    const perProject = projectIds.filter((id) => tasksOf.has(id)).map((id) => tasksOf.get(id)!);
    const k = Math.max(0, ...perProject.map((ts) => ts.length));
    const decisions: Decision[] = [];
    const push = (t: ViewTask | undefined) => {
      if (t)
        decisions.push({ projectId: t.id.slice(0, t.id.indexOf('~')), taskId: t.id, org: t.assigneeOrg });
    };
    if (opts.order === 'project') for (const ts of perProject) ts.forEach(push);
    else
      for (let r = 0; r < k; r++)
        perProject.forEach((ts, p) => push(ts[opts.order === 'interleaved' ? (p + r) % ts.length : r]));

    const pids: Record<string, number | undefined> = { 'node (API + worker + load)': process.pid };
    for (const p of (globalThis as { __stack?: ManagedProcess[] }).__stack ?? []) pids[p.name] = p.child.pid;
    // FerretDB's index helper (infra/local-stack.ts) is a child of this process; its CPU is FerretDB's cost too.
    pids['ferretdb-id-index'] = childPidsNamed(process.pid, 'ferretdb-id-index')[0];
    const samples: DecisionSample[] = [];
    const endCpu = cpuWindow(pids);
    const getsBefore = getLatencies.length;
    const tDecide = performance.now();
    const decideFromMs = Date.now();
    await pool(decisions, opts.concurrency, async (d) => {
      const t0 = performance.now();
      const key = `bench-${runId}-d-${d.taskId.replace('~', ':')}`;
      const r = await post<ActionBody>(
        'POST /tasks/:taskId/decision',
        `/tasks/${d.taskId}/decision`,
        await reviewerOf(d.org),
        EXAMPLES.decision,
        key,
      );
      if (r.status !== 200) return;
      const postMs = performance.now() - t0; // from the first send, retries included
      const seen = await waitVisible(
        d.projectId,
        t0,
        (v) => v.seq >= r.body.seq && !v.openTasks.some((t) => t.id === d.taskId),
      );
      if (seen.at === undefined) errors.add('decision visible in GET /projects/:id', 'timeout');
      samples.push({
        postMs,
        ...(seen.at === undefined ? {} : { visibleMs: seen.at - t0 }),
        polls: seen.polls,
        closedScreening: r.body.stage !== 'DEPT_SCREENING',
      });
    });
    const decideWall = (performance.now() - tDecide) / 1000;
    const decideToMs = Date.now();
    const cpu: CpuWindow = endCpu();
    const pollsDuringDecisions = getLatencies.length - getsBefore;

    const visibleSamples = samples.filter((s) => s.visibleMs !== undefined);
    const decided: PhaseResult = {
      count: decisions.length,
      ok: visibleSamples.length,
      wallSeconds: decideWall,
      post: summarize(samples.map((s) => s.postMs)),
      visible: summarize(visibleSamples.map((s) => s.visibleMs!)),
    };
    const split = (closing: boolean) => ({
      post: summarize(samples.filter((s) => s.closedScreening === closing).map((s) => s.postMs)),
      visible: summarize(
        visibleSamples.filter((s) => s.closedScreening === closing).map((s) => s.visibleMs!),
      ),
    });
    const closing = split(true);
    const others = split(false);
    const visibleAfterPost = summarize(visibleSamples.map((s) => s.visibleMs! - s.postMs));

    // ---- 4. consistency: every project has left screening, every decided task has left its inbox
    const stages: Record<string, number> = {};
    await pool(projectIds, opts.concurrency, async (id) => {
      const r = await api.call<ProjectBody>('GET', `/projects/${id}`, supervisor);
      const stage = r.status === 200 ? r.body.stage : `HTTP ${r.status}`;
      stages[stage] = (stages[stage] ?? 0) + 1;
    });
    const decidedIds = new Set(decisions.map((d) => d.taskId));
    const staleInbox: Record<string, number> = {};
    for (const org of departments) {
      let stale = -1;
      const deadline = performance.now() + opts.visibleTimeoutMs;
      for (;;) {
        const r = await api.call<InboxBody>('GET', '/tasks', await reviewerOf(org));
        inboxMs.push(r.ms);
        if (r.status === 200) stale = r.body.tasks.filter((t) => decidedIds.has(t.taskId)).length;
        else errors.add('GET /tasks', r.status);
        if (stale === 0 || performance.now() >= deadline || stopping) break;
        await sleep(100);
      }
      staleInbox[org] = stale;
    }

    // ---- where the time went, from the histories (only events of the decision phase)
    let history: HistoryBreakdown | undefined;
    if (!stopping) {
      try {
        history = await historyBreakdown(sys.client, projectIds, decideFromMs, decideToMs);
      } catch (err) {
        console.error(`reading histories failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }

    // ---- the bare-Temporal twin: the same decisions, in the same order, at the same concurrency
    let twin: FieldTwinResult | undefined;
    if (opts.twin && !stopping) {
      console.log(
        'the twin: bundling bench/twin-workflows.ts, starting its worker and HTTP handler in this process',
      );
      twinWorker = await startTwinWorker(process.env.TEST_TEMPORAL_ADDRESS!);
      twinApi = await startTwinApi(sys.client, TEST_JWT_SECRET);
      const indexOf = new Map(projectIds.map((id, i) => [id, i]));
      const twinDecisions = await Promise.all(
        decisions.map(async (d) => ({
          workflow: indexOf.get(d.projectId) ?? 0,
          key: d.taskId.slice(d.taskId.indexOf('~') + 1),
          jwt: await reviewerOf(d.org),
        })),
      );
      twin = await runFieldTwin({
        client: sys.client,
        taskQueue: twinWorker.taskQueue,
        api: twinApi,
        workflows: projectIds.length,
        decisions: twinDecisions,
        concurrency: opts.concurrency,
        pids,
        shouldStop: () => stopping,
      });
      console.log(
        `twin: ${twin.ok}/${twin.count} updates visible in ${twin.wallSeconds} s (${projectIds.length} workflows ` +
          `started in ${twin.startSeconds} s); errors ${JSON.stringify(twin.errors)}`,
      );
    }

    // ---- the store twin: the same number of decisions' read-model writes by the driver alone, same FerretDB
    let storeTwin: StoreTwinResult | undefined;
    if (opts.twin && !stopping && projectIds[0]) {
      console.log(
        "the store twin: a decision's read-model writes, copies of the app's documents, driver only",
      );
      storeTwin = await runStoreTwin({
        models: sys.models,
        db: sys.mongo.getClient().db(`storetwin${Date.now()}`),
        templateProjectId: projectIds[0],
        projects: projectIds.length,
        decisions: decided.ok,
        concurrency: opts.concurrency,
        pids,
      });
    }

    // ---- report
    const throughput = decided.ok / decideWall;
    const ownCpu = Object.values(cpu.processes).reduce<number>((a, b) => a + (b ?? 0), 0);
    const othersShare =
      cpu.machineBusy === undefined
        ? undefined
        : cpu.machineBusy - ownCpu / (cpu.wallSeconds * os.cpus().length);
    const cpuLine = Object.entries(cpu.processes)
      .map(
        ([name, s]) =>
          `${name} ${s === undefined ? '?' : `${s.toFixed(1)} s (${((s / cpu.wallSeconds) * 100).toFixed(0)}% of one core)`}`,
      )
      .join(', ');
    const lines = [
      '',
      `=== api-approvals: ${opts.projects} projects × ${k} tier-1 departments, concurrency ${opts.concurrency}, order ${opts.order} ===`,
      `create:    ${created.ok}/${created.count} in ${created.wallSeconds.toFixed(1)} s`,
      formatSummary('  POST /projects', created.post),
      `submit:    ${submitMs.length}/${submitted.count} in ${submitted.wallSeconds.toFixed(1)} s, ${submitted.ok} visible in time` +
        (lagging.size > 0
          ? `; ${lagging.size} not visible within ${opts.visibleTimeoutMs} ms, then ${catchUpSeconds.toFixed(1)} s until ` +
            `the read model caught up with ${[...lagging.keys()].filter((id) => tasksOf.has(id)).length} of them`
          : ''),
      formatSummary('  POST /projects/:id/submit', submitted.post),
      formatSummary('  submit → visible in GET /projects/:id', submitted.visible),
      `decisions: ${decided.ok}/${decided.count} visible in ${decideWall.toFixed(1)} s → ${throughput.toFixed(1)} decisions/s`,
      formatSummary('  POST /tasks/:id/decision', decided.post),
      formatSummary('  request → visible in GET /projects/:id', decided.visible),
      formatSummary('  POST answered → visible', visibleAfterPost),
      formatSummary('  POST, 4th decision (screening closes)', closing.post),
      formatSummary('  visible, 4th decision (screening closes)', closing.visible),
      formatSummary('  POST, 1st–3rd decisions', others.post),
      formatSummary('  visible, 1st–3rd decisions', others.visible),
      formatSummary('  GET /projects/:id (every poll)', summarize(getLatencies.slice(getsBefore))),
      `  polls during decisions: ${pollsDuringDecisions} (${(pollsDuringDecisions / decideWall).toFixed(0)}/s)`,
      `  CPU during decisions (${cpu.wallSeconds.toFixed(1)} s wall): ${cpuLine}; machine busy ${cpu.machineBusy === undefined ? '?' : `${(cpu.machineBusy * 100).toFixed(0)}%`} of ${os.cpus().length} cores` +
        (othersShare === undefined
          ? ''
          : `, of which other processes ${(Math.max(0, othersShare) * 100).toFixed(0)}%`),
      ...(history
        ? [
            `from the Temporal histories of the ${history.projects} projects (decision phase only; queue = scheduled → started, run = started → completed):`,
            formatSummary('  decideReview completed → read model written', history.decisionToReadModel),
            formatSummary('  workflow task queue', history.workflowTask.queue),
            formatSummary('  workflow task run', history.workflowTask.run),
            ...Object.entries(history.activities).flatMap(([name, a]) => [
              formatSummary(`  ${name} queue`, a.queue),
              formatSummary(`  ${name} run`, a.run) +
                (a.retried > 0 ? `  (${a.retried} needed retries, up to attempt ${a.maxAttempt})` : ''),
            ]),
          ]
        : []),
      formatSummary('GET /tasks (inbox reads)', summarize(inboxMs)),
      `final stages: ${JSON.stringify(stages)}`,
      `decided tasks still in an inbox after ${opts.visibleTimeoutMs} ms: ${JSON.stringify(staleInbox)}`,
      `errors (by call → status): ${errors.total === 0 ? 'none' : JSON.stringify(errors.toJSON())}`,
      `total run time ${((performance.now() - started) / 1000).toFixed(1)} s${stopping ? ` (stopped early: ${stopReason})` : ''}`,
    ];
    // ---- app vs twin: CPU per process and per 1,000 decisions, and the ratios
    const NODE = 'node (API + worker + load)';
    const cpuOf = (w: CpuWindow) => {
      const parts = {
        node: w.processes[NODE] ?? null,
        temporal: w.processes.temporal ?? null,
        ferretdb: cpuTotal(w.processes, ['ferretdb', 'ferretdb-id-index']),
      };
      const total = cpuTotal(parts, ['node', 'temporal', 'ferretdb']);
      const other =
        w.machineBusy === undefined
          ? null
          : Math.round(
              Math.max(
                0,
                w.machineBusy * w.wallSeconds * os.cpus().length -
                  cpuTotal(w.processes, Object.keys(w.processes)),
              ) * 10,
            ) / 10;
      return { ...parts, total, other };
    };
    const perK = (c: ReturnType<typeof cpuOf>, n: number) => ({
      node: per1000(c.node, n),
      temporal: per1000(c.temporal, n),
      ferretdb: per1000(c.ferretdb, n),
      total: per1000(c.total, n),
    });
    const appCpu = cpuOf(cpu);
    const appPerK = perK(appCpu, decided.ok);
    lines.push(
      `CPU s per 1,000 decisions: node ${appPerK.node ?? '?'}, Temporal ${appPerK.temporal ?? '?'}, ` +
        `FerretDB + index helper ${appPerK.ferretdb ?? '?'}, total ${appPerK.total ?? '?'}`,
    );
    let table: ReturnType<typeof comparison> | undefined;
    let twinJson: Record<string, unknown> | undefined;
    // What Temporal stored during each decision phase (read after both, so the reads perturb neither).
    const count = (taskQueue: string, fromMs: number, toMs: number) =>
      historyCounts(sys!.client, { taskQueue, fromMs, toMs, limit: 3000 }).catch((err: unknown) => {
        console.error(`counting history events failed: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      });
    const appHistory = stopping ? undefined : await count(sys.taskQueue, decideFromMs, decideToMs);
    const twinHistory =
      twin && twinWorker && !stopping ? await count(twinWorker.taskQueue, twin.fromMs, twin.toMs) : undefined;
    if (appHistory)
      lines.push(
        `history during the decisions: ${appHistory.events} events (${(appHistory.events / decided.ok).toFixed(1)} per decision), ` +
          `${appHistory.workflowTasks} workflow tasks, ${appHistory.activities} activities, ${appHistory.updates} updates, ` +
          `${appHistory.workflowsStarted} workflows started; by workflow type ${JSON.stringify(appHistory.eventsByWorkflowType)}`,
      );
    if (twin) {
      const twinCpu = cpuOf(twin.cpu);
      const twinPerK = perK(twinCpu, twin.ok);
      table = comparison([
        ['decisions visible per second', Math.round(throughput * 10) / 10, twin.throughputPerSecond],
        ['decision phase, s', Math.round(decideWall * 100) / 100, twin.wallSeconds],
        ['POST p50, ms', decided.post?.p50, twin.post?.p50],
        ['POST p95, ms', decided.post?.p95, twin.post?.p95],
        ['request → visible p50, ms', decided.visible?.p50, twin.visible?.p50],
        ['request → visible p95, ms', decided.visible?.p95, twin.visible?.p95],
        ['CPU node (API + worker + load), s', appCpu.node, twinCpu.node],
        ['CPU Temporal, s', appCpu.temporal, twinCpu.temporal],
        ['CPU FerretDB (+ index helper), s', appCpu.ferretdb, twinCpu.ferretdb, false],
        ['CPU total, s', appCpu.total, twinCpu.total],
        ['node CPU s / 1,000 decisions', appPerK.node, twinPerK.node],
        ['Temporal CPU s / 1,000 decisions', appPerK.temporal, twinPerK.temporal],
        ['FerretDB CPU s / 1,000 decisions', appPerK.ferretdb, twinPerK.ferretdb, false],
        ['total CPU s / 1,000 decisions', appPerK.total, twinPerK.total],
        ['CPU of other processes, s (noise)', appCpu.other, twinCpu.other, false],
        ...historyRows(appHistory, twinHistory, decided.ok, 'decision', {
          app: appCpu.temporal,
          twin: twinCpu.temporal,
        }),
      ]);
      twinJson = {
        ...twin,
        cpuSeconds: twinCpu,
        cpuSecondsPer1000Decisions: twinPerK,
        history: twinHistory,
        shape:
          'one workflow per project, an Update handler that sets a field, behind express + jose (HS256, the ' +
          "app's tokens); each Update followed by one query through GET; worker tuned as worker/create-worker.ts",
      };
      lines.push(
        `twin: ${twin.ok}/${twin.count} Updates + queries in ${twin.wallSeconds} s; errors ${JSON.stringify(twin.errors)}`,
        formatSummary('  twin POST (Update)', twin.post),
        formatSummary('  twin request → visible (Update + query)', twin.visible),
        formatSummary('  twin GET (query)', twin.get),
        `  twin CPU (${twin.cpu.wallSeconds} s wall): ` +
          Object.entries(twin.cpu.processes)
            .map(([name, v]) => `${name} ${v ?? '?'} s`)
            .join(', ') +
          `; machine busy ${twin.cpu.machineBusy === undefined ? '?' : `${(twin.cpu.machineBusy * 100).toFixed(0)}%`}`,
        '',
        `=== app vs twin (${decided.ok} decisions, concurrency ${opts.concurrency}) ===`,
        ...formatComparison(table),
      );
    }
    if (storeTwin) {
      const storeCpu = cpuOf(storeTwin.cpu);
      const storePerK = perK(storeCpu, storeTwin.count);
      lines.push(
        '',
        `=== store twin: ${storeTwin.shape} ===`,
        `${storeTwin.count} decisions' writes in ${storeTwin.wallSeconds} s → ${storeTwin.throughputPerSecond}/s ` +
          `at concurrency ${opts.concurrency} (app ${(Math.round(throughput * 10) / 10).toFixed(1)}/s: ` +
          `${(throughput / storeTwin.throughputPerSecond).toFixed(2)}×)`,
        formatSummary('  one decision’s writes', storeTwin.write),
        `  CPU s per 1,000 decisions: FerretDB ${storePerK.ferretdb ?? '?'} (app ${appPerK.ferretdb ?? '?'}), ` +
          `node ${storePerK.node ?? '?'}, total ${storePerK.total ?? '?'}; other processes ${storeCpu.other ?? '?'} s`,
      );
    }
    console.log(lines.join('\n'));
    const summary = {
      at: new Date().toISOString(),
      options: opts,
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model,
        node: process.version,
        platform: process.platform,
      },
      create: created,
      submit: { ...submitted, lateSubmissions: lagging.size, catchUpSeconds },
      decisions: {
        ...decided,
        throughputPerSecond: Math.round(throughput * 10) / 10,
        visibleAfterPost,
        closingScreening: closing,
        otherDecisions: others,
        polls: pollsDuringDecisions,
        pollGet: summarize(getLatencies.slice(getsBefore)),
        cpu,
        cpuSeconds: appCpu,
        cpuSecondsPer1000Decisions: appPerK,
        historyCounts: appHistory,
      },
      history,
      inbox: { before: inboxBefore, staleAfter: staleInbox, get: summarize(inboxMs) },
      finalStages: stages,
      errors: errors.toJSON(),
      stoppedEarly: stopping ? stopReason : undefined,
      twin: twinJson,
      storeTwin,
      comparison: table,
    };
    const jsonFile =
      opts.json ??
      path.join(repoRoot(), 'bench', 'results', `api-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    mkdirSync(path.dirname(jsonFile), { recursive: true });
    writeFileSync(jsonFile, JSON.stringify(summary, null, 2) + '\n');
    console.log(`results written to ${jsonFile}`);
    console.log(`SUMMARY ${JSON.stringify(summary)}`);
    const incomplete =
      decided.ok !== decisions.length ||
      decisions.length !== opts.projects * k ||
      Object.values(staleInbox).some((n) => n !== 0) ||
      (twin !== undefined && twin.ok !== twin.count);
    if (stopping || incomplete) exitCode = 1;
  } catch (err) {
    console.error(err);
    exitCode = 1;
  } finally {
    stopping = true;
    if (server) {
      const s = server;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeAllConnections();
      await bounded('closing the HTTP server', closed, 10_000);
    }
    if (twinApi) await bounded('closing the twin HTTP handler', twinApi.close(), 10_000);
    if (twinWorker) await bounded('stopping the twin worker', twinWorker.stop(), 30_000);
    // The worker's shutdown waits for activities in flight; if the read model is far behind that can take long.
    // Then the stack goes first (the activities fail fast without FerretDB) and the close gets a second chance.
    let settled = false;
    const closing = sys?.close().finally(() => (settled = true));
    if (closing) await bounded('stopping the worker and closing connections', closing, 60_000);
    await bounded('stopping FerretDB and Temporal', globalTeardown(), 60_000);
    if (closing && !settled) await bounded('stopping the worker after the stack', closing, 30_000);
    const dir = process.env.TEST_STACK_DIR;
    if (dir) rmSync(dir, { recursive: true, force: true });
    clearTimeout(budgetTimer);
  }
  return exitCode;
}

/** Last resort (second signal, watchdog): SIGKILL the stack's processes so nothing outlives the script. */
function killStack(): void {
  for (const p of (globalThis as { __stack?: ManagedProcess[] }).__stack ?? []) {
    try {
      p.child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    killStack();
    process.exit(1);
  },
);
