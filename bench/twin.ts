/**
 * The bare-Temporal twin of bench:deadlines and bench:api (issue 15 §1). Each benchmark runs, in the same
 * process and on the same stack as the app, a twin with the same shape and nothing of ours: its own workflow
 * code (bench/twin-workflows.ts, bundled here), its own worker on its own task queue in the benchmark's process,
 * and activities that do nothing. The benchmarks print the app's figure, the twin's and their ratio: on a
 * noisy machine the ratio is the figure to read.
 *
 * The twin's worker has the same tuning as worker/create-worker.ts (cache of 1,000, 20 workflow-task pollers,
 * half of them on the shared queue), so the ratio measures our code, not the worker's settings.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import express, { type NextFunction, type Request, type Response } from 'express';
import { jwtVerify } from 'jose';
import { cpuWindow, summarize, type CpuWindow, type LatencySummary } from './api-stats';
import type {
  TwinActivities,
  TwinDeadlinesResult,
  TwinFieldState,
  twinDeadlines,
  twinField,
} from './twin-workflows';

// ------------------------------------------------------------------------------------------------ worker

export interface TwinWorker {
  taskQueue: string;
  stop(): Promise<void>;
}

const quietBundler = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error: (m: string) => console.error(m),
};

/** Bundles bench/twin-workflows.ts and starts a worker for it, in this process, on a task queue of its own. */
export async function startTwinWorker(address: string, namespace = 'default'): Promise<TwinWorker> {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    /* the benchmark installed its own runtime already */
  }
  const taskQueue = `twin-${randomUUID().slice(0, 8)}`;
  const [bundle, connection] = await Promise.all([
    bundleWorkflowCode({ workflowsPath: require.resolve('./twin-workflows'), logger: quietBundler }),
    NativeConnection.connect({ address }),
  ]);
  const activities: TwinActivities = { twinNoop: () => Promise.resolve() };
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue,
    workflowBundle: { code: bundle.code },
    activities,
    maxCachedWorkflows: 1000,
    maxConcurrentWorkflowTaskPolls: 20,
    nonStickyToStickyPollRatio: 0.5,
  });
  const running = worker.run();
  return {
    taskQueue,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch((err: unknown) => console.error('twin worker:', err));
      await connection.close().catch(() => undefined);
    },
  };
}

// ------------------------------------------------------------------------------------------------ helpers

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done);
  });
}

/** Runs `fn` over 0..n-1 with at most `concurrency` in flight. */
export async function lanes(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      for (let i = next++; i < n; i = next++) await fn(i);
    }),
  );
}

// ------------------------------------------------------------------------------------------ deadline twin

export interface DeadlineTwinOptions {
  client: Client;
  taskQueue: string;
  /** Per workflow, the app's instants (epoch ms; repeats are one wake). */
  schedules: number[][];
  /**
   * When the app's run began (its creation start): the twin's instants are the app's, moved by the time between
   * this and the start of the twin's own creation, so both have the same lead and the same spacing.
   */
  appOrigin: number;
  concurrency: number;
  /** Processes whose CPU time is read over the burst. */
  pids: Record<string, number | undefined>;
  /** How long to wait for the workflows after the last instant. */
  maxWaitMs: number;
  signal: AbortSignal;
}

export interface DeadlineTwinResult {
  workflows: number;
  /** Timer wakes in all, each running one no-op activity. */
  wakes: number;
  completed: number;
  creationSeconds: number;
  /** Seconds between the end of the twin's creation and its first instant. */
  leadSeconds: number;
  scheduledSpanSeconds: number;
  /** First instant → the last no-op activity completed (in its workflow's time). */
  burstSeconds: number | null;
  behindScheduleAtEndSeconds: number | null;
  /** Per wake: when the workflow handled it minus its instant (ms). */
  lateMs: number[];
  cpu: CpuWindow;
  /** The CPU window, epoch ms. */
  fromMs: number;
  toMs: number;
}

/** N workflows, each woken at the app's instants for one of its projects, one no-op activity per wake. */
export async function runDeadlineTwin(o: DeadlineTwinOptions): Promise<DeadlineTwinResult> {
  const tag = randomUUID().slice(0, 8);
  const start = Date.now();
  const shift = start - o.appOrigin;
  const schedules = o.schedules.map((s) => [...new Set(s)].sort((a, b) => a - b).map((at) => at + shift));
  const all = schedules.flat();
  const firstAt = Math.min(...all);
  const lastAt = Math.max(...all);
  const ids = schedules.map((_, i) => `twin-d-${tag}-${i}`);
  await lanes(ids.length, o.concurrency, async (i) => {
    await o.client.workflow.start<typeof twinDeadlines>('twinDeadlines', {
      taskQueue: o.taskQueue,
      workflowId: ids[i]!,
      args: [{ instants: schedules[i]! }],
    });
  });
  const creationEnd = Date.now();
  await sleep(firstAt - Date.now() - 200, o.signal);
  const fromMs = Date.now();
  const endCpu = cpuWindow(o.pids);
  await sleep(lastAt - Date.now() + 1000, o.signal);
  const results: TwinDeadlinesResult[] = [];
  const hardStop = lastAt + o.maxWaitMs;
  const collected = new AbortController();
  const gaveUp = sleep(hardStop - Date.now(), AbortSignal.any([o.signal, collected.signal])).then(
    () => undefined,
  );
  await lanes(ids.length, 16, async (i) => {
    if (o.signal.aborted || Date.now() > hardStop) return;
    const result = o.client.workflow.getHandle<typeof twinDeadlines>(ids[i]!).result();
    const r = await Promise.race([result, gaveUp]).catch(() => undefined);
    if (r) results.push(r);
  });
  collected.abort();
  const cpu = endCpu();
  const toMs = Date.now();
  const doneAt = results.length === ids.length ? Math.max(...results.map((r) => r.doneAt)) : NaN;
  const round = (ms: number) => (Number.isFinite(ms) ? Number((ms / 1000).toFixed(1)) : null);
  return {
    workflows: ids.length,
    wakes: all.length,
    completed: results.length,
    creationSeconds: Number(((creationEnd - start) / 1000).toFixed(1)),
    leadSeconds: Number(((firstAt - creationEnd) / 1000).toFixed(1)),
    scheduledSpanSeconds: Number(((lastAt - firstAt) / 1000).toFixed(1)),
    burstSeconds: round(doneAt - firstAt),
    behindScheduleAtEndSeconds: round(doneAt - lastAt),
    lateMs: results.flatMap((r) => r.lateMs),
    cpu,
    fromMs,
    toMs,
  };
}

// ------------------------------------------------------------------------------------------------ API twin

export interface TwinApi {
  /** Base URL, e.g. http://127.0.0.1:1234/twin */
  base: string;
  /** Lists by tag: `${listBase}/<tag>` lists the workflows whose ProjectPortfolio is the tag. */
  listBase: string;
  close(): Promise<void>;
}

/**
 * A tiny HTTP front for the field twin, verifying the same HS256 JWTs as the app (jose, as api/auth.ts does):
 * `POST /twin/:id/fields/:key` {value} → Update (updateId from Idempotency-Key) → {seq};
 * `GET /twin/:id` → query → {seq, fields}.
 */
export async function startTwinApi(client: Client, jwtSecret: string): Promise<TwinApi> {
  const key = new TextEncoder().encode(jwtSecret);
  const app = express();
  app.use(express.json({ limit: '100kb' }));
  const auth = async (req: Request, res: Response, next: NextFunction) => {
    const m = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(req.headers.authorization ?? '');
    try {
      if (!m?.[1]) throw new Error('no token');
      await jwtVerify(m[1], key, { algorithms: ['HS256'] });
    } catch {
      res.status(401).json({ error: 'unauthenticated' });
      return;
    }
    next();
  };
  app.post('/twin/:id/fields/:key', auth, async (req, res) => {
    const body = req.body as { value?: unknown };
    const seq = await client.workflow
      .getHandle<typeof twinField>(String(req.params.id))
      .executeUpdate<number, [{ key: string; value: string }]>('setTwinField', {
        args: [{ key: String(req.params.key), value: String(body.value) }],
        updateId: req.get('idempotency-key') ?? randomUUID(),
      });
    res.json({ seq });
  });
  app.get('/twin/:id', auth, async (req, res) => {
    res.json(
      await client.workflow
        .getHandle<typeof twinField>(String(req.params.id))
        .query<TwinFieldState>('getTwinFields'),
    );
  });
  // An inbox on plain Temporal: the workflows tagged with one organisation, from the visibility store, with the
  // memo each was started with (what a list needs to show without querying every workflow).
  app.get('/twin-lists/:portfolio', auth, async (req, res) => {
    const entries: { workflowId: string; memo: unknown }[] = [];
    const query = `ProjectPortfolio = '${String(req.params.portfolio).replace(/[^A-Za-z0-9-]/g, '')}'`;
    for await (const wf of client.workflow.list({ query, pageSize: 1000 }))
      entries.push({ workflowId: wf.workflowId, memo: wf.memo });
    res.json({ entries });
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ error: err instanceof Error ? err.message : String(err) });
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('the twin API has no TCP address');
  return {
    base: `http://127.0.0.1:${addr.port}/twin`,
    listBase: `http://127.0.0.1:${addr.port}/twin-lists`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

export interface FieldTwinOptions {
  client: Client;
  taskQueue: string;
  api: TwinApi;
  /** Workflows to start (the app's projects). */
  workflows: number;
  /** In the app's order: which workflow, which field, whose token. */
  decisions: { workflow: number; key: string; jwt: string }[];
  concurrency: number;
  pids: Record<string, number | undefined>;
  shouldStop: () => boolean;
}

export interface FieldTwinResult {
  startSeconds: number;
  count: number;
  ok: number;
  wallSeconds: number;
  throughputPerSecond: number;
  post: LatencySummary | undefined;
  /** From sending the POST until the query shows the field (POST + one GET, unless the GET was stale). */
  visible: LatencySummary | undefined;
  get: LatencySummary | undefined;
  cpu: CpuWindow;
  /** The decision phase, epoch ms. */
  fromMs: number;
  toMs: number;
  errors: Record<string, number>;
}

/** Starts the field workflows, then makes the app's decisions as Updates through the twin API, each followed by a query. */
export async function runFieldTwin(o: FieldTwinOptions): Promise<FieldTwinResult> {
  const tag = randomUUID().slice(0, 8);
  const ids = Array.from({ length: o.workflows }, (_, i) => `twin-f-${tag}-${i}`);
  const t0 = performance.now();
  await lanes(ids.length, o.concurrency, async (i) => {
    await o.client.workflow.start<typeof twinField>('twinField', {
      taskQueue: o.taskQueue,
      workflowId: ids[i]!,
    });
  });
  const startSeconds = (performance.now() - t0) / 1000;
  const errors: Record<string, number> = {};
  const error = (what: string) => (errors[what] = (errors[what] ?? 0) + 1);
  const call = async <B>(method: 'GET' | 'POST', url: string, jwt: string, body?: unknown, key?: string) => {
    const headers: Record<string, string> = { authorization: `Bearer ${jwt}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (key) headers['idempotency-key'] = key;
    const started = performance.now();
    try {
      const res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(20_000),
      });
      const parsed = (await res.json().catch(() => undefined)) as B;
      return { status: res.status, body: parsed, ms: performance.now() - started };
    } catch {
      return { status: 0, body: undefined as B, ms: performance.now() - started };
    }
  };
  const post: number[] = [];
  const visible: number[] = [];
  const gets: number[] = [];
  const endCpu = cpuWindow(o.pids);
  const fromMs = Date.now();
  const tDecide = performance.now();
  await lanes(o.decisions.length, o.concurrency, async (i) => {
    if (o.shouldStop()) return;
    const d = o.decisions[i]!;
    const id = ids[d.workflow]!;
    const value = `PASS-${i}`;
    const started = performance.now();
    const r = await call<{ seq: number }>(
      'POST',
      `${o.api.base}/${id}/fields/${encodeURIComponent(d.key)}`,
      d.jwt,
      { value },
      `${tag}-${i}`,
    );
    if (r.status !== 200) return void error(`POST → ${r.status}`);
    post.push(r.ms);
    for (let attempt = 0; attempt < 5; attempt++) {
      const g = await call<TwinFieldState>('GET', `${o.api.base}/${id}`, d.jwt);
      gets.push(g.ms);
      if (g.status !== 200) error(`GET → ${g.status}`);
      else if (g.body.seq >= r.body.seq && g.body.fields[d.key] === value)
        return void visible.push(performance.now() - started);
    }
    error('not visible after 5 queries');
  });
  const wallSeconds = (performance.now() - tDecide) / 1000;
  const cpu = endCpu();
  const toMs = Date.now();
  return {
    startSeconds: Number(startSeconds.toFixed(1)),
    count: o.decisions.length,
    ok: visible.length,
    wallSeconds: Number(wallSeconds.toFixed(2)),
    throughputPerSecond: Number((visible.length / wallSeconds).toFixed(1)),
    post: summarize(post),
    visible: summarize(visible),
    get: summarize(gets),
    cpu,
    fromMs,
    toMs,
    errors,
  };
}

// ------------------------------------------------------------------------------------------------ histories

const EventType = temporal.api.enums.v1.EventType;

export interface HistoryCounts {
  /** Workflows on the task queue with at least one event in the window. */
  workflows: number;
  /** History events in the window, and some kinds of them. */
  events: number;
  workflowsStarted: number;
  workflowTasks: number;
  activities: number;
  timersFired: number;
  updates: number;
  /** Events in the window by workflow type. */
  eventsByWorkflowType: Record<string, number>;
}

/**
 * What Temporal had to store for a phase: the history events of every workflow on `taskQueue` whose server time
 * falls in [fromMs, toMs]. Reads every history, `concurrency` at a time; gives up (undefined) past `limit`
 * workflows, so a large run is not held up by its own bookkeeping.
 */
export async function historyCounts(
  client: Client,
  o: { taskQueue: string; fromMs: number; toMs: number; limit: number; concurrency?: number },
): Promise<HistoryCounts | undefined> {
  const executions: { workflowId: string; runId: string; type: string }[] = [];
  for await (const w of client.workflow.list({ query: `TaskQueue = '${o.taskQueue}'` })) {
    executions.push({ workflowId: w.workflowId, runId: w.runId, type: w.type });
    if (executions.length > o.limit) return undefined;
  }
  const c: HistoryCounts = {
    workflows: 0,
    events: 0,
    workflowsStarted: 0,
    workflowTasks: 0,
    activities: 0,
    timersFired: 0,
    updates: 0,
    eventsByWorkflowType: {},
  };
  await lanes(executions.length, o.concurrency ?? 8, async (i) => {
    const x = executions[i]!;
    const history = await client.workflow.getHandle(x.workflowId, x.runId).fetchHistory();
    let inWindow = 0;
    for (const e of history.events ?? []) {
      const t = Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
      if (t < o.fromMs || t > o.toMs) continue;
      inWindow += 1;
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) c.workflowsStarted += 1;
      else if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) c.workflowTasks += 1;
      else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) c.activities += 1;
      else if (e.eventType === EventType.EVENT_TYPE_TIMER_FIRED) c.timersFired += 1;
      else if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) c.updates += 1;
    }
    if (inWindow > 0) c.workflows += 1;
    c.events += inWindow;
    c.eventsByWorkflowType[x.type] = (c.eventsByWorkflowType[x.type] ?? 0) + inWindow;
  });
  return c;
}

/** Rows comparing two phases' history counts; `per` names the unit of work both did the same number of. */
export function historyRows(
  app: HistoryCounts | undefined,
  twin: HistoryCounts | undefined,
  work: number,
  per: string,
  temporalCpu: { app: number | null; twin: number | null },
): ComparisonInput[] {
  const perWork = (n: number | undefined) => (n === undefined ? null : Number((n / work).toFixed(2)));
  const msPerEvent = (cpu: number | null, h: HistoryCounts | undefined) =>
    cpu === null || !h?.events ? null : Number(((cpu * 1000) / h.events).toFixed(2));
  return [
    ['history events', app?.events, twin?.events],
    [`history events per ${per}`, perWork(app?.events), perWork(twin?.events)],
    ['workflow tasks', app?.workflowTasks, twin?.workflowTasks],
    ['activities scheduled', app?.activities, twin?.activities],
    ['workflows started', app?.workflowsStarted, twin?.workflowsStarted],
    [
      'Temporal CPU ms per history event',
      msPerEvent(temporalCpu.app, app),
      msPerEvent(temporalCpu.twin, twin),
    ],
  ];
}

// ------------------------------------------------------------------------------------------------ the table

export interface ComparisonRow {
  figure: string;
  app: number | null;
  twin: number | null;
  /** app / twin */
  ratio: number | null;
}

const num = (x: number | null | undefined): number | null =>
  x === null || x === undefined || !Number.isFinite(x) ? null : x;

export type ComparisonInput = [
  figure: string,
  app: number | null | undefined,
  twin: number | null | undefined,
  /** false: print no ratio (the twin does none of this work, e.g. FerretDB's CPU, or the figure is noise). */
  ratio?: boolean,
];

/** The ratio is app / twin (none when either is missing, the twin's is 0, or the row says so). */
export function comparison(rows: ComparisonInput[]) {
  return rows.map(([figure, a, t, withRatio]): ComparisonRow => {
    const app = num(a);
    const twin = num(t);
    const ratio =
      withRatio === false || app === null || twin === null || twin === 0
        ? null
        : Number((app / twin).toFixed(2));
    return { figure, app, twin, ratio };
  });
}

function fmt(x: number | null): string {
  if (x === null) return '—';
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
}

export function formatComparison(rows: ComparisonRow[]): string[] {
  const w = Math.max(6, ...rows.map((r) => r.figure.length));
  const cell = (s: string) => s.padStart(9);
  return [
    `${'figure'.padEnd(w)} ${cell('app')} ${cell('twin')} ${cell('app/twin')}`,
    `${'-'.repeat(w)} ${cell('---')} ${cell('----')} ${cell('--------')}`,
    ...rows.map(
      (r) =>
        `${r.figure.padEnd(w)} ${cell(fmt(r.app))} ${cell(fmt(r.twin))} ${cell(r.ratio === null ? '—' : `${fmt(r.ratio)}×`)}`,
    ),
  ];
}

/** Sum of the named processes' CPU seconds (those that could be read). */
export function cpuTotal(processes: Record<string, number | null | undefined>, names: string[]): number {
  return Number(names.reduce((n, k) => n + (processes[k] ?? 0), 0).toFixed(2));
}

/** CPU seconds per 1,000 events. */
export function per1000(cpuSeconds: number | null | undefined, events: number): number | null {
  return cpuSeconds === null || cpuSeconds === undefined || events <= 0
    ? null
    : Number(((cpuSeconds / events) * 1000).toFixed(2));
}
