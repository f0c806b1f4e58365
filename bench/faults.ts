/**
 * The fault matrix (issue 14 §2): a steady mix of creates, decisions, progress reports, payments, deadlines firing
 * and notifications through the real HTTP API, while one fault at a time is injected; then, for each fault, what
 * was requested, accepted, lost and applied twice (from the answers and the audit trail), which notifications were
 * due and what the receivers actually got (and got twice), the consistency checker (client/consistency.ts) once
 * the system is quiet, and how long recovery took.
 *
 *   npm run test:faults                         # CI size: every scenario small, ≤ ~6 minutes on 2 cores
 *   npm run test:faults -- --size large         # the figures of RELIABILITY.md (includes the report kill)
 *   npm run test:faults -- --only temporal-restart,conflicts [--keep-stack]
 *
 * It starts its own Temporal dev server and FerretDB on free ports with data in a temporary directory (so it can
 * stop and restart them), the worker as a child process (bench/worker-process.ts, so it can be SIGKILLed) whose
 * Mongo connection goes through test/support/mongo-fault-proxy.ts, the API in this process, a webhook receiver
 * and an SMTP server (test/support/receivers.ts) that every organisation's channels point at. It exits 1 when a
 * transition was lost or applied twice, a notification was not delivered or was delivered twice to a healthy
 * receiver (beyond the documented resend of a send in flight when its worker was killed), the checker found a
 * difference, or a scenario did not recover in time.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import {
  createWriteStream,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  type WriteStream,
} from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { Connection as MongoConnection } from 'mongoose';
import { createApp } from '../api/app';
import { createLogger } from '../api/logger';
import { CREATE_PROJECT_EXAMPLE, CREATE_PROJECT_EXAMPLES, EXAMPLES } from '../api/schemas';
import { checkConsistency, formatDifference } from '../client/consistency';
import { ProjectClient } from '../client/project-client';
import { createCalendarModels } from '../db/calendar-models';
import { connectMongo, createModels, type Models } from '../db/models';
import { createNotificationModels, setOrgChannels, type NotificationModels } from '../db/notification-models';
import { putPerson } from '../db/people';
import { auditTrailOf } from '../db/queries';
import { createSupervisionModels } from '../db/supervision-models';
import { IMPORT_COLUMNS, writeProjectFile } from '../imports/project-file';
import { readToolPaths, repoRoot, startFerretDb, startTemporalDevServer } from '../infra/local-stack';
import { freePort, type ManagedProcess } from '../infra/processes';
import { prepareNamespace } from '../infra/temporal-setup';
import { TEST_JWT_SECRET, token } from '../test/support/api';
import { EXAMPLE_PEOPLE } from '../test/support/fixtures';
import { MongoFaultProxy } from '../test/support/mongo-fault-proxy';
import { secondsPolicy } from '../test/support/policies';
import { SmtpReceiver, WebhookReceiver } from '../test/support/receivers';
import { WorkerChild } from './worker-control';

// ------------------------------------------------------------------------------------------------ sizes

interface Size {
  name: 'ci' | 'large';
  /** Lanes creating, submitting and deciding projects (their undecided tasks fire reminders and escalations). */
  reviewLanes: number;
  /** Lanes filing progress reports and payments on projects under construction. */
  implLanes: number;
  implProjects: number;
  /** Load before the fault, and after it while the fault lasts (outages). */
  warmupMs: number;
  outageMs: number;
  webhookDownMs: number;
  smtpRefuseMs: number;
  /** SIGKILLs per kind of activity (read-model write, dispatcher send). */
  kills: number;
  importRows: number;
  /** Kill during the supervision report (a 30 s heartbeat timeout, then another worker runs it). */
  reportKill: boolean;
  conflictRounds: number;
  /** How long a scenario may take to be quiet and whole again after its fault ends. */
  recoverMs: number;
}

const SIZES: Record<Size['name'], Size> = {
  ci: {
    name: 'ci',
    reviewLanes: 2,
    implLanes: 1,
    implProjects: 3,
    warmupMs: 3_000,
    outageMs: 10_000,
    webhookDownMs: 30_000,
    smtpRefuseMs: 15_000,
    kills: 1,
    importRows: 10,
    reportKill: false,
    conflictRounds: 3,
    recoverMs: 150_000,
  },
  large: {
    name: 'large',
    reviewLanes: 4,
    implLanes: 2,
    implProjects: 6,
    warmupMs: 10_000,
    outageMs: 60_000,
    webhookDownMs: 180_000,
    smtpRefuseMs: 120_000,
    kills: 3,
    importRows: 100,
    reportKill: true,
    conflictRounds: 10,
    recoverMs: 900_000,
  },
};

/** How long bytes a SIGKILLed worker had already written may take to arrive and be stamped by a receiver. */
const IN_FLIGHT_AFTER_KILL_MS = 2_000;

const SCENARIOS = [
  'kill-read-model-write',
  'kill-dispatcher-send',
  'kill-import',
  'kill-report',
  'two-workers-one-killed',
  'temporal-restart',
  'webhook-down',
  'smtp-refusing',
  'conflicts',
  // Last: a FerretDB restart drops every connection of every process at once.
  'ferretdb-restart',
] as const;
type ScenarioName = (typeof SCENARIOS)[number];

const USAGE = `usage: node dist-faults/bench/faults.js [--size ci|large] [--only a,b,…] [--keep-stack]
  scenarios: ${SCENARIOS.join(', ')}
  (kill-report runs at --size large, or when named in --only)`;

interface Options {
  size: Size;
  only: Set<ScenarioName> | undefined;
  keepStack: boolean;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { size: SIZES.ci, only: undefined, keepStack: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--size') {
      const v = argv[++i];
      if (v !== 'ci' && v !== 'large') throw new Error(`--size expects ci or large\n${USAGE}`);
      o.size = SIZES[v];
    } else if (a === '--only') {
      const names = (argv[++i] ?? '').split(',').filter(Boolean);
      for (const n of names)
        if (!(SCENARIOS as readonly string[]).includes(n)) throw new Error(`unknown scenario ${n}\n${USAGE}`);
      o.only = new Set(names as ScenarioName[]);
    } else if (a === '--keep-stack') o.keepStack = true;
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${String(a)}\n${USAGE}`);
  }
  return o;
}

const DUE_SECONDS = 10;
const WEBHOOK_SECRET = 'faults-webhook-signing-secret';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
/** Statuses after which a client sends the same request (same Idempotency-Key) again. */
const RETRYABLE = new Set([0, 429, 500, 502, 503, 504]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

// ------------------------------------------------------------------------------------------------ the stack

/** Temporal and FerretDB of this run, each stopped and started again on the same port and data. */
class Stack {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'pp-faults-'));
  private readonly tools = readToolPaths(path.join(repoRoot(), 'data', 'tools.json'), {
    temporal: process.env.TEMPORAL_CLI_PATH,
    ferretdb: process.env.FERRETDB_PATH,
    ferretdbIdIndex: process.env.FERRETDB_ID_INDEX_PATH,
  });
  temporal?: ManagedProcess;
  ferret?: ManagedProcess;
  temporalPort = 0;
  mongoPort = 0;
  bundle = '';

  get address(): string {
    return `127.0.0.1:${this.temporalPort}`;
  }

  async start(): Promise<void> {
    this.temporalPort = await freePort();
    this.mongoPort = await freePort();
    const [, , bundle] = await Promise.all([
      this.startTemporal(),
      this.startFerret(),
      bundleWorkflowCode({
        workflowsPath: require.resolve('../workflows'),
        logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m) => console.error(m) },
      }),
    ]);
    await prepareNamespace(this.address, 'default', 30);
    this.bundle = path.join(this.dir, 'workflow-bundle.js');
    writeFileSync(this.bundle, bundle.code);
  }

  async startTemporal(): Promise<void> {
    this.temporal = await startTemporalDevServer({
      binary: this.tools.temporal,
      host: '127.0.0.1',
      port: this.temporalPort,
      uiPort: undefined,
      dbFile: path.join(this.dir, 'temporal.db'),
      namespace: 'default',
      output: { logFile: path.join(this.dir, 'temporal.log') },
    });
  }

  async stopTemporal(): Promise<void> {
    await this.temporal?.stop(10_000);
    this.temporal = undefined;
  }

  async startFerret(): Promise<void> {
    this.ferret = await startFerretDb({
      binary: this.tools.ferretdb,
      idIndexer: this.tools.ferretdbIdIndex,
      host: '127.0.0.1',
      port: this.mongoPort,
      dataDir: path.join(this.dir, 'ferretdb'),
      output: { logFile: path.join(this.dir, 'ferretdb.log') },
    });
  }

  async stopFerret(): Promise<void> {
    await this.ferret?.stop(10_000);
    this.ferret = undefined;
  }

  async stop(keep: boolean): Promise<void> {
    await this.stopFerret().catch(() => undefined);
    await this.stopTemporal().catch(() => undefined);
    if (!keep) rmSync(this.dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------------ HTTP

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

class Api {
  constructor(readonly base: string) {}

  async call(
    method: string,
    route: string,
    jwt: string,
    body?: unknown,
    key?: string,
    contentType = 'application/json',
  ): Promise<Reply> {
    try {
      const res = await fetch(this.base + route, {
        method,
        headers: {
          Authorization: `Bearer ${jwt}`,
          ...(body === undefined ? {} : { 'Content-Type': contentType }),
          ...(key ? { 'Idempotency-Key': key } : {}),
        },
        body:
          body === undefined
            ? undefined
            : body instanceof Buffer
              ? new Uint8Array(body)
              : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(text) as Record<string, unknown>;
      } catch {
        parsed = { text };
      }
      return { status: res.status, body: parsed };
    } catch (err) {
      return { status: 0, body: { error: String(err) } };
    }
  }
}

const tokens = new Map<string, Promise<string>>();
function jwt(sub: string, org: string, role: string): Promise<string> {
  const k = `${sub}|${org}|${role}`;
  let t = tokens.get(k);
  if (!t) tokens.set(k, (t = token(sub, org, role)));
  return t;
}
const applicant = () => jwt('faults-owner', 'yaodu', 'applicant');
const onboarder = () => jwt('faults-center', 'project-center', 'supervisor');
const reviewer = (org: string, n = 1) => jwt(`faults-${org}-reviewer-${n}`, org, 'reviewer');

// ------------------------------------------------------------------------------------------------ ledger

type OpKind = 'create' | 'onboard' | 'submit' | 'decision' | 'progress' | 'payment' | 'completion';

/** One client request as the client saw it, after its retries with the same Idempotency-Key. */
interface Op {
  kind: OpKind;
  projectId: string;
  /** The trail's request id (`<userId>:<Idempotency-Key>`); creates have none. */
  requestId?: string;
  status: number;
  /** Answers other than the last (retried): 5xx and network errors seen by the client. */
  retried: number;
  /** The problem type's slug of a refusal. */
  problem?: string;
  seq?: number;
  taskId?: string;
}

interface Kill {
  at: number;
  /** Notifications already final (recorded) when the worker died: a resend of one of these is a defect. */
  finalIds: Set<string>;
}

interface ScenarioResult {
  name: ScenarioName;
  fault: string;
  requested: number;
  accepted: number;
  refused: number;
  unconfirmed: number;
  lost: number;
  duplicated: number;
  retriedAnswers: number;
  conflictViolations: string[];
  notificationsDue: number;
  delivered: number;
  missing: number;
  failed: number;
  notEnqueued: number;
  twiceAfterKill: number;
  twiceHealthy: number;
  checker: string[];
  wholeMs: number | undefined;
  quietMs: number | undefined;
  notes: string[];
}

// ------------------------------------------------------------------------------------------------ the run

class FaultRun {
  readonly stack = new Stack();
  readonly webhook = new WebhookReceiver(WEBHOOK_SECRET);
  readonly smtp = new SmtpReceiver();
  webhookPort = 0;
  proxy!: MongoFaultProxy;
  proxyPort = 0;
  connection!: Connection;
  client!: Client;
  mongo!: MongoConnection;
  models!: Models;
  notifications!: NotificationModels;
  api!: Api;
  server?: Server;
  readonly taskQueue = `faults-${randomUUID().slice(0, 8)}`;
  workers: WorkerChild[] = [];
  readonly kills: Kill[] = [];
  lastKillAt = 0;
  readonly implProjects: string[] = [];
  private workerSeq = 0;
  private keySeq = 0;
  private progressSeq = 0;
  ops: Op[] = [];
  private loadOn = false;
  private lanes: Promise<void>[] = [];

  constructor(readonly opts: Options) {}

  get size(): Size {
    return this.opts.size;
  }

  async setup(): Promise<void> {
    await this.stack.start();
    this.webhookPort = await this.webhook.listen();
    const smtpPort = await this.smtp.listen();
    this.proxy = new MongoFaultProxy({ host: '127.0.0.1', port: this.stack.mongoPort });
    this.proxyPort = await this.proxy.listen();
    const db = 'faults';
    this.mongo = await connectMongo(`mongodb://127.0.0.1:${this.stack.mongoPort}/${db}`);
    this.models = createModels(this.mongo);
    this.notifications = createNotificationModels(this.mongo);
    this.connection = await Connection.connect({ address: this.stack.address });
    this.client = new Client({ connection: this.connection, namespace: 'default' });
    const policy = secondsPolicy(DUE_SECONDS);
    for (const person of EXAMPLE_PEOPLE) await putPerson(this.models.People, person);
    // Every organisation gets a webhook; every other one an e-mail address too.
    for (const [i, o] of policy.organisations.entries())
      await setOrgChannels(this.notifications, o.id, {
        webhooks: [{ url: `http://127.0.0.1:${this.webhookPort}/hook/${o.id}`, secret: WEBHOOK_SECRET }],
        emails: i % 2 === 0 ? [`${o.id}@faults.test`] : [],
      });
    this.workerEnv = {
      BENCH_TEMPORAL_ADDRESS: this.stack.address,
      BENCH_MONGO_URI: `mongodb://127.0.0.1:${this.proxyPort}/${db}`,
      BENCH_WORKFLOW_BUNDLE: this.stack.bundle,
      BENCH_TASK_QUEUE: this.taskQueue,
      BENCH_SMTP_PORT: String(smtpPort),
    };
    await this.startWorker();
    this.apiLog = createWriteStream(path.join(this.stack.dir, 'api.log'), { flags: 'a' });
    const app = createApp({
      projects: new ProjectClient({ client: this.client, taskQueue: this.taskQueue, policy }),
      models: this.models,
      calendarModels: createCalendarModels(this.mongo),
      supervisionModels: createSupervisionModels(this.mongo),
      taskQueue: this.taskQueue,
      health: {
        temporal: async () => (await this.connection.healthService.check({}), true),
        mongo: async () => (await this.mongo.db!.admin().ping(), true),
      },
      auth: { jwtSecret: TEST_JWT_SECRET },
      orgIndex: new Map(policy.organisations.map((o) => [o.id, o])),
      corsOrigins: [],
      bodyLimit: '100kb',
      imports: { maxBytes: '5mb', maxRows: 5000, ratePerSecond: 5 },
      temporalUiUrl: 'http://127.0.0.1:8233',
      namespace: 'default',
      updateTimeoutMs: 10_000,
      // The API's log (504s while a worker is dead, 503s during outages) goes beside the stack's logs.
      logger: createLogger('warn', (line) => this.apiLog?.write(line + '\n')),
    });
    const server = app.listen(0, '127.0.0.1');
    this.server = server;
    await once(server, 'listening');
    const addr = server.address();
    if (!addr || typeof addr === 'string') throw new Error('the API has no TCP address');
    this.api = new Api(`http://127.0.0.1:${addr.port}/api/v1`);
    // Projects under construction for the payments and reports of the steady load.
    for (let i = 0; i < this.size.implProjects; i++) {
      const id = await this.onboard(`steady-${i}`);
      if (!id) throw new Error('could not onboard the projects of the steady load');
      this.implProjects.push(id);
    }
    this.ops = [];
  }

  private workerEnv!: Parameters<typeof WorkerChild.start>[0];
  private apiLog?: WriteStream;

  async startWorker(): Promise<WorkerChild> {
    const log = path.join(this.stack.dir, `worker-${++this.workerSeq}.log`);
    const w = await WorkerChild.start(this.workerEnv, log);
    this.workers.push(w);
    return w;
  }

  /** SIGKILL, then note which notifications were final at that instant (the dead worker writes nothing more). */
  async kill(w: WorkerChild): Promise<void> {
    const exited = once(w.child, 'exit');
    w.child.kill('SIGKILL');
    const at = Date.now();
    this.lastKillAt = at;
    await exited;
    this.workers = this.workers.filter((x) => x !== w);
    await w.stop(1_000);
    const finalIds = new Set<string>();
    for (let attempt = 0; ; attempt++) {
      try {
        for (const d of await this.notifications.Notification.find({}, { _id: 1 }).lean())
          finalIds.add(d._id);
        break;
      } catch (err) {
        if (attempt > 20) throw err;
        await sleep(500);
      }
    }
    this.kills.push({ at, finalIds });
  }

  async killAndRestart(w: WorkerChild): Promise<void> {
    await this.kill(w);
    await this.startWorker();
  }

  // ---------------------------------------------------------------------------------------- requests

  /** POST with one Idempotency-Key, sent again on retryable answers for up to `budgetMs`. */
  async post(
    kind: OpKind,
    projectId: string,
    route: string,
    who: string,
    body: unknown,
    extra: Partial<Op> = {},
  ) {
    const key = `f${process.pid}-${++this.keySeq}-${randomUUID().slice(0, 8)}`;
    return this.postWithKey(kind, projectId, route, who, body, key, extra);
  }

  async postWithKey(
    kind: OpKind,
    projectId: string,
    route: string,
    who: string,
    body: unknown,
    key: string,
    extra: Partial<Op> = {},
  ): Promise<Op & { body: Record<string, unknown> }> {
    const until = Date.now() + this.size.outageMs + 90_000;
    let retried = 0;
    let r: Reply;
    for (let attempt = 1; ; attempt++) {
      r = await this.api.call('POST', route, who, body, key);
      if (!RETRYABLE.has(r.status) || Date.now() > until) break;
      retried += 1;
      await sleep(Math.min(5_000, 250 * attempt));
    }
    const sub = JSON.parse(Buffer.from(who.split('.')[1]!, 'base64url').toString()) as { sub: string };
    const pid = typeof r.body.projectId === 'string' ? r.body.projectId : projectId;
    const op: Op = {
      kind,
      projectId: pid,
      requestId: kind === 'create' || kind === 'onboard' ? undefined : `${sub.sub}:${key}`,
      status: r.status,
      retried,
      seq: typeof r.body.seq === 'number' ? r.body.seq : undefined,
      problem: typeof r.body.type === 'string' ? r.body.type.replace(/^.*\//, '') : undefined,
      ...extra,
    };
    this.ops.push(op);
    return { ...op, body: r.body };
  }

  async onboard(tag: string): Promise<string | undefined> {
    const value = CREATE_PROJECT_EXAMPLES.underConstruction.value;
    const r = await this.post('onboard', '', '/projects', await onboarder(), {
      ...value,
      name: `${value.name}（故障 ${tag}）`,
    });
    if (r.status !== 201)
      console.error(`   onboarding answered ${r.status}: ${JSON.stringify(r.body).slice(0, 400)}`);
    return r.status === 201 ? r.projectId : undefined;
  }

  async view(
    projectId: string,
  ): Promise<{ openTasks: { id: string; assigneeOrg: string; tier?: number; kind: string }[] }> {
    const r = await this.api.call('GET', `/projects/${projectId}`, await onboarder());
    return r.status === 200 ? (r.body as never) : { openTasks: [] };
  }

  // ---------------------------------------------------------------------------------------- steady load

  startLoad(): void {
    this.loadOn = true;
    this.lanes = [
      ...Array.from({ length: this.size.reviewLanes }, (_, i) => this.reviewLane(i)),
      ...Array.from({ length: this.size.implLanes }, (_, i) => this.implLane(i)),
    ];
  }

  async stopLoad(): Promise<void> {
    this.loadOn = false;
    await Promise.all(this.lanes);
  }

  /** Create, submit, then decide some of the tier-1 reviews; the rest remind and escalate on their own. */
  private async reviewLane(lane: number): Promise<void> {
    for (let n = 0; this.loadOn; n++) {
      const c = await this.post('create', '', '/projects', await applicant(), {
        ...CREATE_PROJECT_EXAMPLE,
        name: `${CREATE_PROJECT_EXAMPLE.name}（故障 ${lane}-${n}）`,
      });
      if (c.status !== 201) continue;
      const s = await this.post(
        'submit',
        c.projectId,
        `/projects/${c.projectId}/submit`,
        await applicant(),
        {},
      );
      if (s.status !== 200) continue;
      const tasks = (await this.view(c.projectId)).openTasks.filter((t) => t.kind === 'REVIEW');
      const decide = n % 3 === 0 ? tasks.length : 2;
      for (const t of tasks.slice(0, decide))
        await this.post(
          'decision',
          c.projectId,
          `/tasks/${encodeURIComponent(t.id)}/decision`,
          await reviewer(t.assigneeOrg),
          EXAMPLES.decision,
          { taskId: t.id },
        );
    }
  }

  /** Progress reports and payments on the projects under construction, round-robin. */
  private async implLane(lane: number): Promise<void> {
    for (let n = lane; this.loadOn; n += this.size.implLanes) {
      const id = this.implProjects[n % this.implProjects.length]!;
      await this.progress(id);
      await this.payment(id);
      await sleep(100);
    }
  }

  async progress(projectId: string) {
    const k = ++this.progressSeq;
    return this.post('progress', projectId, `/projects/${projectId}/progress-reports`, await applicant(), {
      ...EXAMPLES.progress,
      period: '2026-11',
      ytdInvestmentYuan: 80_000_000 + k * 1000,
      cumulativeInvestmentYuan: 190_000_000 + k * 1000,
      fundsReceivedYuan: 200_000_000,
    });
  }

  async payment(projectId: string, key?: string) {
    const body = { ...EXAMPLES.payment, amountYuan: 10_000 };
    const who = await applicant();
    const route = `/projects/${projectId}/payments`;
    return key
      ? this.postWithKey('payment', projectId, route, who, body, key)
      : this.post('payment', projectId, route, who, body);
  }

  // ---------------------------------------------------------------------------------------- measuring

  private async trails(projectIds: Iterable<string>) {
    const out = new Map<string, Awaited<ReturnType<typeof auditTrailOf>>>();
    for (const id of new Set(projectIds)) out.set(id, await auditTrailOf(this.models, id));
    return out;
  }

  /** Accepted requests missing from the trail, and requests whose effect the trail holds more than once. */
  async transitions(ops: Op[]) {
    const trails = await this.trails(ops.filter((o) => o.projectId).map((o) => o.projectId));
    let lost = 0;
    let duplicated = 0;
    let unconfirmedApplied = 0;
    const lostOps: string[] = [];
    for (const op of ops) {
      const ok = op.status >= 200 && op.status < 300;
      const unconfirmed = op.status === 0 || op.status >= 500;
      if (!ok && !unconfirmed) continue;
      const trail = trails.get(op.projectId) ?? [];
      if (!op.requestId) {
        if (ok && trail.length === 0) {
          lost += 1;
          lostOps.push(`${op.kind} ${op.projectId}`);
        }
        continue;
      }
      // Each application of a request is a run of consecutive trail entries carrying its request id.
      let groups = 0;
      let prev = -2;
      for (const e of trail) {
        if (e.requestId !== op.requestId) continue;
        if (e.seq !== prev + 1) groups += 1;
        prev = e.seq;
      }
      if (groups > 1) duplicated += 1;
      if (groups === 0 && ok) {
        lost += 1;
        lostOps.push(`${op.kind} ${op.projectId} ${op.requestId}`);
      }
      if (groups > 0 && unconfirmed) unconfirmedApplied += 1;
    }
    return { lost, duplicated, unconfirmedApplied, lostOps };
  }

  /** Ids the receivers accepted, with every arrival time. */
  private arrivals(): Map<string, number[]> {
    const m = new Map<string, number[]>();
    const add = (id: string, at: number) => m.set(id, [...(m.get(id) ?? []), at]);
    for (const r of this.webhook.received)
      if (r.answered >= 200 && r.answered < 300) add(String(r.headers['x-notification-id'] ?? ''), r.at);
    for (const mail of this.smtp.mails) add(mail.headers.get('x-notification-id') ?? '', mail.at);
    return m;
  }

  /** Notifications created since `from`: due to a channel, delivered, missing, failed; repeats by cause. */
  async notificationFigures(from: number) {
    const q = { createdAt: { $gte: new Date(from) } };
    const fields = { _id: 1, channel: 1, status: 1 };
    // Outbox first, then final records (see notEnqueued); a notification read in both counts once.
    const outboxDocs = await this.notifications.NotificationOutbox.find(q, fields).lean();
    const finalDocs = await this.notifications.Notification.find(q, fields).lean();
    const finalIds = new Set(finalDocs.map((d) => d._id));
    const docs = [...finalDocs, ...outboxDocs.filter((d) => !finalIds.has(d._id))];
    const arrivals = this.arrivals();
    let due = 0;
    let delivered = 0;
    let failed = 0;
    let outbox = 0;
    for (const d of docs) {
      if (!d.channel) continue;
      due += 1;
      if (d.status === 'FAILED') failed += 1;
      if (['PENDING', 'SENDING', 'RETRYING'].includes(d.status)) outbox += 1;
      if (arrivals.has(d._id)) delivered += 1;
    }
    let twiceAfterKill = 0;
    let twiceHealthy = 0;
    const twiceIds: string[] = [];
    for (const [id, ats] of arrivals) {
      if (ats.length < 2 || (ats[0] ?? 0) < from) continue;
      const first = ats[0]!;
      // A send in flight when its worker was killed (not yet recorded final) is sent again: at least once. What the
      // dead worker wrote before it died still arrives a moment later (an e-mail is stamped when its DATA ends), so
      // a first arrival just after the kill is that same send.
      const explained = this.kills.some(
        (k) => first <= k.at + IN_FLIGHT_AFTER_KILL_MS && !k.finalIds.has(id) && ats[1]! > k.at,
      );
      if (explained) twiceAfterKill += ats.length - 1;
      else {
        twiceHealthy += ats.length - 1;
        twiceIds.push(id);
      }
    }
    return {
      due,
      delivered,
      missing: due - delivered,
      failed,
      outbox,
      twiceAfterKill,
      twiceHealthy,
      twiceIds,
    };
  }

  /** Reminders and escalations in the trail since `from` whose notification was never enqueued. */
  async notEnqueued(from: number): Promise<number> {
    // The trails first, then the notifications: a wakeup writes its notifications before its trail entries, so
    // every step read in a trail has its notification stored by the time they are read (the other order could
    // read a step whose notification was written just before it, after the notifications were read).
    const ids = (await this.models.Project.find({}, { _id: 1 }).lean()).map((p) => p._id);
    const trails = await this.trails(ids);
    const keys = new Set<string>();
    // The outbox first: a delivery writes its final record before it deletes its outbox document, so a notification
    // that moves between the two reads is in the second (the other order could miss it).
    for (const model of [this.notifications.NotificationOutbox, this.notifications.Notification])
      for (const d of await model.find({}, { notificationKey: 1 }).lean())
        keys.add(d.notificationKey.replace(/:s\d+:/, ':'));
    let missing = 0;
    for (const trail of trails.values())
      for (const e of trail) {
        if (new Date(e.at).getTime() < from) continue;
        const data = (e.data ?? {}) as { taskId?: string; reminder?: number; level?: number };
        if (e.type === 'REMINDER_SENT' && !keys.has(`${data.taskId}:R${data.reminder}`)) missing += 1;
        if (e.type === 'ESCALATED' && !keys.has(`${data.taskId}:L${data.level}`)) missing += 1;
      }
    return missing;
  }

  async checker(): Promise<string[]> {
    const report = await checkConsistency({
      client: this.client,
      models: this.models,
      notifications: this.notifications,
      taskQueue: this.taskQueue,
    });
    return report.differences.map(formatDifference);
  }

  /**
   * After the fault: waits until every accepted request is in the trail (whole), then until nothing is in flight —
   * the outbox empty, every due notification delivered — and the checker finds no difference (quiet).
   */
  async recover(from: number, healedAt: number, ops: Op[]) {
    const until = Date.now() + this.size.recoverMs;
    let wholeMs: number | undefined;
    let quietMs: number | undefined;
    let checker: string[] = ['not run'];
    while (Date.now() < until) {
      try {
        if (wholeMs === undefined) {
          const t = await this.transitions(ops);
          if (t.lost === 0) wholeMs = Date.now() - healedAt;
        }
        if (wholeMs !== undefined) {
          const n = await this.notificationFigures(from);
          const outbox = await this.notifications.NotificationOutbox.countDocuments({});
          if (outbox === 0 && n.missing === 0) {
            checker = await this.checker();
            if (checker.length === 0) {
              quietMs = Date.now() - healedAt;
              break;
            }
          }
        }
      } catch (err) {
        checker = [`measuring failed: ${(err as Error).message}`];
      }
      await sleep(1_000);
    }
    if (quietMs === undefined && checker.length === 0) checker = ['did not become quiet in time'];
    if (quietMs === undefined) {
      // What is still in the outbox, and why: the first thing to read when a scenario does not recover.
      const left = await this.notifications.NotificationOutbox.find(
        {},
        { _id: 1, status: 1, attempts: 1, nextAttemptAt: 1, lastError: 1, workflowId: 1, createdAt: 1 },
      )
        .lean()
        .catch(() => []);
      const byState = new Map<string, number>();
      for (const d of left) {
        const k = `${d.status} attempts=${d.attempts} workflowId=${d.workflowId ?? 'none'} error=${String(d.lastError ?? '').slice(0, 60)}`;
        byState.set(k, (byState.get(k) ?? 0) + 1);
      }
      checker.push(`outbox: ${left.length} left`, ...[...byState].map(([k, n]) => `  ${n} × ${k}`));
      const oldest = left.sort((a, b) => +new Date(a.createdAt) - +new Date(b.createdAt))[0];
      if (oldest)
        checker.push(
          `  oldest ${oldest._id} created ${new Date(oldest.createdAt).toISOString()}, next attempt ${oldest.nextAttemptAt ? new Date(oldest.nextAttemptAt).toISOString() : '—'}, now ${new Date().toISOString()}`,
        );
    }
    return { wholeMs, quietMs, checker };
  }

  async close(): Promise<void> {
    this.loadOn = false;
    for (const w of this.workers) await w.stop(5_000).catch(() => undefined);
    if (this.server) {
      this.server.closeAllConnections();
      await new Promise((r) => this.server!.close(r));
    }
    await this.proxy?.close().catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
    await this.mongo?.close().catch(() => undefined);
    await this.webhook.close().catch(() => undefined);
    await this.smtp.close().catch(() => undefined);
    await new Promise((r) => (this.apiLog ? this.apiLog.end(r) : r(undefined)));
    await this.stack.stop(this.opts.keepStack);
  }
}

// ------------------------------------------------------------------------------------------------ faults

/** Polls `describe` until an activity of `type` has started on `workflowId`; false after `timeoutMs`. */
async function activityStarted(client: Client, workflowId: string, type: string, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const d = await client.workflow
      .getHandle(workflowId)
      .describe()
      .catch(() => undefined);
    const pending = d?.raw.pendingActivities ?? [];
    // PENDING_ACTIVITY_STATE_STARTED = 2
    if (pending.some((a) => a.activityType?.name === type && Number(a.state) === 2)) return true;
    if (d && d.status.name !== 'RUNNING') return false;
    await sleep(20);
  }
  return false;
}

function importRow(i: number): (string | number)[] {
  const cells: Record<string, string | number> = {
    项目名称: `故障导入项目${i}号`,
    '县（市、区）': '尧都区',
    专项行动: 3,
    专项推进组: 'sg-urban',
    行业: 'housing',
    责任部门: '市住建局',
    包联领导: 'vm-zhang',
    项目业主: `临汾市建设投资有限公司${i}`,
    投资主体: '国有企业',
    审批类型: '审批',
    市级重点: '否',
    政府投资: '是',
    涉及用地: '是',
    '年综合能耗（吨标准煤）': 800,
    '总投资（万元）': `${20000 + i}.25`,
    '年度计划投资（万元）': 5000,
    计划开工日期: '2027-04-01',
    计划竣工日期: '2028-06-30',
  };
  return IMPORT_COLUMNS.map((c) => cells[c.header] ?? '');
}

type Inject = (run: FaultRun, notes: string[], extraOps: Op[]) => Promise<void>;

const FAULTS: Record<ScenarioName, { fault: (s: Size) => string; inject: Inject }> = {
  'kill-read-model-write': {
    fault: (s) => `SIGKILL during a read-model write (held at the Mongo proxy), ${s.kills * 2}×, restart`,
    async inject(run, notes) {
      for (let i = 0; i < run.size.kills * 2; i++) {
        // Odd kills: the write never reaches Mongo. Even kills: it lands, the activity's completion does not.
        const held = run.proxy.hold([
          ['findAndModify', 'tasks'],
          ['update', 'trailChunks'],
        ]);
        const hit = await Promise.race([held.then(() => true), sleep(30_000).then(() => false)]);
        if (!hit) {
          run.proxy.disarm();
          notes.push('no read-model write seen within 30 s');
          continue;
        }
        const w = run.workers[0]!;
        if (i % 2 === 1) {
          run.proxy.release();
          await sleep(5);
          await run.killAndRestart(w);
        } else {
          const killing = run.killAndRestart(w);
          await sleep(50);
          run.proxy.release();
          await killing;
        }
        await sleep(2_000);
      }
    },
  },
  'kill-dispatcher-send': {
    fault: (s) =>
      `SIGKILL while webhooks are in flight (receiver answering after 1.5 s), ${s.kills}×, restart`,
    async inject(run, notes) {
      for (let i = 0; i < run.size.kills; i++) {
        run.webhook.delayMs = 1_500;
        const until = Date.now() + 60_000;
        while (run.webhook.pending === 0 && Date.now() < until) await sleep(20);
        if (run.webhook.pending === 0) notes.push('no webhook in flight within 60 s');
        else notes.push(`${run.webhook.pending} webhook(s) in flight at kill ${i + 1}`);
        await run.killAndRestart(run.workers[0]!);
        run.webhook.delayMs = 0;
        await sleep(2_000);
      }
    },
  },
  'kill-import': {
    fault: (s) => `SIGKILL during an import batch (${s.importRows} rows), restart`,
    async inject(run, notes, extraOps) {
      const file = await writeProjectFile(
        'xlsx',
        Array.from({ length: run.size.importRows }, (_, i) => importRow(i + 1)),
      );
      const who = await applicant();
      const up = await run.api.call('POST', '/imports?fileName=faults.xlsx', who, file, undefined, XLSX);
      const importId = (up.body.importId as string | undefined) ?? '';
      if (up.status !== 202)
        throw new Error(`import upload answered ${up.status}: ${JSON.stringify(up.body)}`);
      if (await activityStarted(run.client, `import-${importId}`, 'createImportBatch', 60_000))
        await run.killAndRestart(run.workers[0]!);
      else notes.push('createImportBatch never seen running');
      const until = Date.now() + run.size.recoverMs;
      let status = '';
      for (; Date.now() < until; await sleep(1_000)) {
        const r = await run.api.call('GET', `/imports/${importId}`, who);
        status = (r.body.status as string | undefined) ?? String(r.status);
        if (status === 'COMPLETED' || status === 'FAILED') break;
      }
      const job = await run.models.ImportJob.findById(importId).lean();
      const items = (job?.items ?? []) as { projectId?: string }[];
      notes.push(`import ${status}: ${items.length} rows`);
      for (const item of items) {
        const runs = item.projectId
          ? await run.client.workflow
              .count(`WorkflowId = 'project-${item.projectId}'`)
              .catch(() => ({ count: -1 }))
          : { count: 0 };
        // One row: one requested creation; accepted when the import says it created it.
        extraOps.push({
          kind: 'create',
          projectId: item.projectId ?? '',
          status: status === 'COMPLETED' && runs.count >= 1 ? 201 : 500,
          retried: 0,
        });
        if (runs.count > 1) notes.push(`row ${item.projectId} started ${runs.count} runs`);
      }
    },
  },
  'kill-report': {
    fault: () => 'SIGKILL during the monthly report computation, restart',
    async inject(run, notes) {
      const leader = await jwt('faults-leader', 'leading-group', 'leader');
      const r = await run.api.call('POST', '/reports/run', leader, {
        kind: 'MONTHLY_DISPATCH',
        period: '2026-11',
      });
      const workflowId = (r.body.workflowId as string | undefined) ?? '';
      if (r.status !== 202) throw new Error(`report run answered ${r.status}: ${JSON.stringify(r.body)}`);
      if (await activityStarted(run.client, workflowId, 'computeSupervisionReport', 60_000))
        await run.killAndRestart(run.workers[0]!);
      else notes.push('computeSupervisionReport never seen running');
      const t0 = Date.now();
      const result = await run.client.workflow
        .getHandle(workflowId)
        .result()
        .then(
          (v: { snapshotId?: string }) => `completed (${v.snapshotId})`,
          (err: unknown) => `failed: ${String(err)}`,
        );
      notes.push(`report ${result} ${sec(Date.now() - t0)} after the kill`);
    },
  },
  'two-workers-one-killed': {
    fault: () => 'two workers on the task queue; SIGKILL one, the other goes on',
    async inject(run) {
      await run.startWorker();
      await sleep(3_000);
      await run.kill(run.workers[0]!);
    },
  },
  'temporal-restart': {
    fault: (s) => `Temporal dev server stopped for ${sec(s.outageMs)}, started again`,
    async inject(run) {
      await run.stack.stopTemporal();
      await sleep(run.size.outageMs);
      await run.stack.startTemporal();
    },
  },
  'ferretdb-restart': {
    fault: (s) => `FerretDB stopped for ${sec(s.outageMs)}, started again`,
    async inject(run) {
      await run.stack.stopFerret();
      await sleep(run.size.outageMs);
      await run.stack.startFerret();
    },
  },
  'webhook-down': {
    fault: (s) => `webhook receiver down for ${sec(s.webhookDownMs)}, then up`,
    async inject(run) {
      await run.webhook.close();
      await sleep(run.size.webhookDownMs);
      await run.webhook.listen(run.webhookPort);
    },
  },
  'smtp-refusing': {
    fault: (s) => `SMTP server refusing (451) for ${sec(s.smtpRefuseMs)}, then accepting`,
    async inject(run, notes) {
      run.smtp.refusing = true;
      await sleep(run.size.smtpRefuseMs);
      run.smtp.refusing = false;
      notes.push(`${run.smtp.refused} messages refused`);
    },
  },
  conflicts: {
    fault: (s) =>
      `${s.conflictRounds}× each: two reviewers of one department on one task; one Idempotency-Key from two clients (payment, create); a payment racing a completion`,
    async inject(run, notes) {
      const violations: string[] = [];
      for (let round = 0; round < run.size.conflictRounds; round++) {
        // Two reviewers of one department decide the same task at once: one decides, the other is refused.
        const c = await run.post('create', '', '/projects', await applicant(), {
          ...CREATE_PROJECT_EXAMPLE,
          name: `${CREATE_PROJECT_EXAMPLE.name}（冲突 ${round}）`,
        });
        if (c.status === 201) {
          await run.post('submit', c.projectId, `/projects/${c.projectId}/submit`, await applicant(), {});
          const t = (await run.view(c.projectId)).openTasks.find((x) => x.kind === 'REVIEW');
          if (t) {
            const route = `/tasks/${encodeURIComponent(t.id)}/decision`;
            const [a, b] = await Promise.all([
              run.post('decision', c.projectId, route, await reviewer(t.assigneeOrg, 1), EXAMPLES.decision, {
                taskId: t.id,
              }),
              run.post('decision', c.projectId, route, await reviewer(t.assigneeOrg, 2), EXAMPLES.decision, {
                taskId: t.id,
              }),
            ]);
            const oks = [a, b].filter((x) => x.status === 200).length;
            if (oks !== 1) violations.push(`two reviewers on ${t.id}: answers ${a.status} and ${b.status}`);
          }
        }
        // The same Idempotency-Key from two clients: one payment, the same answer twice.
        const p = run.implProjects[round % run.implProjects.length]!;
        const key = `same-${randomUUID()}`;
        const [x, y] = await Promise.all([run.payment(p, key), run.payment(p, key)]);
        if (x.status !== 200 || y.status !== 200 || x.seq !== y.seq)
          violations.push(`same key twice (payment): ${x.status}/${y.status}, seq ${x.seq}/${y.seq}`);
        const createKey = `same-create-${randomUUID()}`;
        const body = { ...CREATE_PROJECT_EXAMPLE, name: `${CREATE_PROJECT_EXAMPLE.name}（同键 ${round}）` };
        const [c1, c2] = await Promise.all([
          run.postWithKey('create', '', '/projects', await applicant(), body, createKey),
          run.postWithKey('create', '', '/projects', await applicant(), body, createKey),
        ]);
        if (c1.status !== 201 || c2.status !== 201 || c1.projectId !== c2.projectId)
          violations.push(
            `same key twice (create): ${c1.status}/${c2.status}, ${c1.projectId}/${c2.projectId}`,
          );
        else {
          const runs = await run.client.workflow.count(`WorkflowId = 'project-${c1.projectId}'`);
          if (runs.count !== 1) violations.push(`same key twice (create): ${runs.count} workflow runs`);
        }
        // A payment racing the completion: paid before completion, or refused after it; never paid after it.
        const q = await run.onboard(`race-${round}`);
        if (q) {
          const gate = (await run.view(q)).openTasks.find((t) => t.id.includes('G-COMPLETION'));
          if (!gate) violations.push(`no completion acceptance open on ${q}`);
          else {
            const [pay, done] = await Promise.all([
              run.payment(q),
              run.post('completion', q, `/projects/${q}/completion`, await reviewer(gate.assigneeOrg), {
                ...EXAMPLES.completion,
                date: '2026-11-20',
              }),
            ]);
            if (done.status !== 200) violations.push(`completion of ${q} answered ${done.status}`);
            else if (pay.status === 200 && (pay.seq ?? 0) > (done.seq ?? 0))
              violations.push(`payment on ${q} accepted after its completion (seq ${pay.seq} > ${done.seq})`);
            else if (pay.status !== 200 && pay.status !== 409)
              violations.push(`payment racing completion on ${q} answered ${pay.status}`);
            const trail = await auditTrailOf(run.models, q);
            const completedAt = trail.find((e) => e.type === 'COMPLETION_ACCEPTED')?.seq ?? Infinity;
            if (trail.some((e) => e.type === 'PAYMENT_RECORDED' && e.seq > completedAt))
              violations.push(`trail of ${q} records a payment after the completion`);
          }
        }
      }
      notes.push(...violations.map((v) => `VIOLATION ${v}`));
    },
  },
};

async function runScenario(run: FaultRun, name: ScenarioName): Promise<ScenarioResult> {
  const spec = FAULTS[name];
  const notes: string[] = [];
  const extraOps: Op[] = [];
  const from = Date.now();
  run.ops = [];
  console.log(`\n== ${name}: ${spec.fault(run.size)}`);
  run.startLoad();
  await sleep(run.size.warmupMs);
  let injectError: string | undefined;
  try {
    await spec.inject(run, notes, extraOps);
  } catch (err) {
    injectError = (err as Error).message;
    notes.push(`VIOLATION fault injection failed: ${injectError}`);
  }
  const healedAt = Date.now();
  await sleep(2_000);
  await run.stopLoad();
  if (run.workers.length === 0) await run.startWorker();
  const ops = [...run.ops, ...extraOps];
  // A kill is over when it happens (the worker is started again at once); an outage when it ends.
  const recoverFrom = run.lastKillAt > from ? run.lastKillAt : healedAt;
  const rec = await run.recover(from, recoverFrom, ops);
  const t = await run.transitions(ops);
  const n = await run.notificationFigures(from);
  const notEnqueued = await run.notEnqueued(from);
  if (t.lostOps.length) notes.push(`lost: ${t.lostOps.slice(0, 5).join('; ')}`);
  if (n.twiceIds.length) notes.push(`twice to a healthy receiver: ${n.twiceIds.slice(0, 5).join(', ')}`);
  const accepted = ops.filter((o) => o.status >= 200 && o.status < 300).length;
  const unconfirmed = ops.filter((o) => o.status === 0 || o.status >= 500).length;
  const refusals = new Map<string, number>();
  for (const o of ops)
    if (o.status >= 300 && o.status < 500) {
      const k = `${o.kind} ${o.status} ${o.problem ?? ''}`;
      refusals.set(k, (refusals.get(k) ?? 0) + 1);
    }
  if (refusals.size) notes.push(`refused: ${[...refusals].map(([k, v]) => `${k} ×${v}`).join(', ')}`);
  if (unconfirmed) notes.push(`${unconfirmed} unconfirmed after retries (${t.unconfirmedApplied} applied)`);
  const result: ScenarioResult = {
    name,
    fault: spec.fault(run.size),
    requested: ops.length,
    accepted,
    refused: ops.length - accepted - unconfirmed,
    unconfirmed,
    lost: t.lost,
    duplicated: t.duplicated,
    retriedAnswers: ops.reduce((a, o) => a + o.retried, 0),
    conflictViolations: notes.filter((x) => x.startsWith('VIOLATION')),
    notificationsDue: n.due,
    delivered: n.delivered,
    missing: n.missing,
    failed: n.failed,
    notEnqueued,
    twiceAfterKill: n.twiceAfterKill,
    twiceHealthy: n.twiceHealthy,
    checker: rec.checker,
    wholeMs: rec.wholeMs,
    quietMs: rec.quietMs,
    notes,
  };
  console.log(
    `   requested ${result.requested}, accepted ${result.accepted}, refused ${result.refused}, unconfirmed ${unconfirmed}, ` +
      `lost ${result.lost}, duplicated ${result.duplicated}; notifications due ${n.due}, delivered ${n.delivered}, ` +
      `twice after a kill ${n.twiceAfterKill}, twice to a healthy receiver ${n.twiceHealthy}; checker ` +
      `${rec.checker.length === 0 ? 'clean' : `${rec.checker.length} differences`}; whole after ` +
      `${rec.wholeMs === undefined ? '—' : sec(rec.wholeMs)}, quiet after ${rec.quietMs === undefined ? '—' : sec(rec.quietMs)}`,
  );
  for (const note of notes) console.log(`   ${note}`);
  for (const d of rec.checker.slice(0, 10)) console.log(`   checker: ${d}`);
  return result;
}

function hung(name: ScenarioName, fault: string): ScenarioResult {
  return {
    name,
    fault,
    requested: 0,
    accepted: 0,
    refused: 0,
    unconfirmed: 0,
    lost: 0,
    duplicated: 0,
    retriedAnswers: 0,
    conflictViolations: ['VIOLATION the scenario never ended'],
    notificationsDue: 0,
    delivered: 0,
    missing: 0,
    failed: 0,
    notEnqueued: 0,
    twiceAfterKill: 0,
    twiceHealthy: 0,
    checker: ['not run'],
    wholeMs: undefined,
    quietMs: undefined,
    notes: [],
  };
}

function failures(r: ScenarioResult): string[] {
  const f: string[] = [];
  if (r.lost) f.push(`${r.lost} lost`);
  if (r.duplicated) f.push(`${r.duplicated} duplicated`);
  if (r.missing) f.push(`${r.missing} notifications not delivered`);
  if (r.failed) f.push(`${r.failed} notifications FAILED`);
  if (r.notEnqueued) f.push(`${r.notEnqueued} deadline steps without a notification`);
  if (r.twiceHealthy) f.push(`${r.twiceHealthy} delivered twice to a healthy receiver`);
  if (r.checker.length) f.push(`checker: ${r.checker.length} differences`);
  if (r.quietMs === undefined) f.push('did not recover in time');
  f.push(...r.conflictViolations);
  return f;
}

function table(results: ScenarioResult[]): string {
  const head =
    '| scenario | requested | accepted | lost | duplicated | notifications due | delivered | twice (healthy) | resent after a kill | checker | whole after | quiet after |';
  const rows = results.map((r) =>
    [
      r.name,
      r.requested,
      r.accepted,
      r.lost,
      r.duplicated,
      r.notificationsDue,
      r.delivered,
      r.twiceHealthy,
      r.twiceAfterKill,
      r.checker.length === 0 ? 'clean' : `${r.checker.length} differences`,
      r.wholeMs === undefined ? '—' : sec(r.wholeMs),
      r.quietMs === undefined ? '—' : sec(r.quietMs),
    ].join(' | '),
  );
  return [head, head.replace(/[^|]+/g, ' --- '), ...rows.map((r) => `| ${r} |`)].join('\n');
}

/**
 * Of every log of the stack (workers, FerretDB and its indexer, Temporal, the API): its most frequent error lines
 * and its last lines.
 */
function printLogTails(dir: string, lines = 15): void {
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort()) {
    const all = readFileSync(path.join(dir, file), 'utf8').trimEnd().split('\n');
    if (all.length === 1 && !all[0]) continue;
    const errors = new Map<string, number>();
    for (const l of all)
      if (/error|fail|refus|timeout|locked|busy/i.test(l)) {
        const k = l.replace(/^\S*\d{2}:\d{2}:\d{2}\S*\s*/, '').slice(0, 160);
        errors.set(k, (errors.get(k) ?? 0) + 1);
      }
    const top = [...errors].sort((a, b) => b[1] - a[1]).slice(0, 8);
    console.log(`\n-- ${file}: ${all.length} lines`);
    for (const [k, n] of top) console.log(`   ${n} × ${k}`);
    console.log(
      all
        .slice(-lines)
        .map((l) => `   | ${l.slice(0, 300)}`)
        .join('\n'),
    );
  }
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  const started = Date.now();
  const names = SCENARIOS.filter((n) =>
    opts.only ? opts.only.has(n) : n !== 'kill-report' || opts.size.reportKill,
  );
  console.log(
    `fault matrix, size ${opts.size.name}: ${names.join(', ')}; ${os.cpus().length} CPUs, node ${process.version}`,
  );
  const run = new FaultRun(opts);
  const results: ScenarioResult[] = [];
  const watchdog = setTimeout(
    () => {
      console.error('watchdog: the run did not end in time');
      process.exit(3);
    },
    (opts.size.name === 'ci' ? 20 : 120) * 60_000,
  );
  watchdog.unref();
  try {
    await run.setup();
    console.log(`stack up in ${sec(Date.now() - started)} (${run.stack.dir})`);
    for (const name of names) {
      // A scenario that never ends (a component that stopped answering) fails the run instead of hanging it.
      const limitMs =
        opts.size.warmupMs + opts.size.webhookDownMs + opts.size.outageMs * 2 + opts.size.recoverMs + 300_000;
      const r = await Promise.race([runScenario(run, name), sleep(limitMs).then(() => undefined)]);
      if (r) {
        results.push(r);
        continue;
      }
      console.log(`   ${name} did not end within ${sec(limitMs)}: stopping the run`);
      results.push({ ...hung(name, FAULTS[name].fault(opts.size)) });
      break;
    }
    // The stack's directory goes with close(): what a failed run needs to be understood is printed first.
    if (results.some((r) => failures(r).length > 0)) printLogTails(run.stack.dir);
  } finally {
    await run.close().catch((err: unknown) => console.error(err));
  }
  console.log(`\n${table(results)}\n`);
  console.log(
    `size ${opts.size.name}, ${sec(Date.now() - started)} in all; "whole": every accepted request in the trail; ` +
      '"quiet": outbox empty, every due notification delivered, checker clean (both from the end of the fault).',
  );
  const bad = results.flatMap((r) => failures(r).map((f) => `${r.name}: ${f}`));
  if (bad.length) {
    console.log(`FAILED:\n  ${bad.join('\n  ')}`);
    return 1;
  }
  console.log('all scenarios clean');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
