/**
 * Benchmark: a burst of deadlines. N projects are created and submitted (each opens one tier-1 review task per
 * screening department: 5 with the standard fixture since 初审, so 400 projects = 2,000 open tasks) under the
 * seconds policy (test/support/policies.ts), so all their deadlines fall within one minute. Every task then reminds
 * three times and escalates L1 → L4 with nobody acting; each step is recorded in the audit trail and delivered
 * to a loopback webhook per organisation. The script reports how long the burst took (first reminder instant →
 * last event recorded and last webhook delivered), lateness against the schedule, duplicates, outbox
 * statuses, read-model consistency, and the peak memory of the worker, which runs in a process of its own.
 *
 * It starts its own stack (Temporal dev server + FerretDB on free ports, as the test suite does), stops by
 * itself and removes everything it started. All traffic stays on 127.0.0.1.
 *
 * Then, on the same stack and in the same process, it runs the bare-Temporal twin (bench/twin.ts): one workflow
 * per project, woken at that project's instants (the same N, the same instants moved to the twin's own start),
 * one no-op activity per wake; and prints the app's figures, the twin's and their ratio.
 *
 *   npm run bench:deadlines                        # 500 projects, 2,500 tasks
 *   npm run bench:deadlines -- --projects 50       # a quick check
 *   npm run bench:deadlines -- --projects 400 --peer   # the peer's schedule (issue 15): 2,000 deadlines
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Connection as MongoConnection } from 'mongoose';
import { outboxId, recipientKey, webhookChannelKey } from '../activities/notifications';
import { ProjectClient } from '../client/project-client';
import { connectMongo, createModels, type InboxEntryDoc, type Models } from '../db/models';
import { createNotificationModels, setOrgChannels, type NotificationModels } from '../db/notification-models';
import { allInboxEntries, auditTrailOf } from '../db/queries';
import { tier1Departments } from '../domain/lifecycle';
import type { Task } from '../domain/state';
import { readToolPaths, repoRoot } from '../infra/local-stack';
import type { ManagedProcess } from '../infra/processes';
import type { Policy } from '../policy/schema';
import globalSetup from '../test/support/global-setup';
import globalTeardown from '../test/support/global-teardown';
import { actor, projectDetails } from '../test/support/fixtures';
import { stackEnv } from '../test/support/harness';
import { secondsPolicy } from '../test/support/policies';
import { busyShare, childPidsNamed, machineCpu, resetPeakRss, sampleProcess } from './proc-stats';
import {
  comparison,
  cpuTotal,
  type ComparisonInput,
  formatComparison,
  historyCounts,
  historyRows,
  per1000,
  runDeadlineTwin,
  startTwinWorker,
  type DeadlineTwinResult,
  type TwinWorker,
} from './twin';
import { WorkerChild } from './worker-control';
import { WebhookSink } from './webhook-sink';
import { classify, summariseWorkerLog } from './diagnostics';

const WEBHOOK_SECRET = 'bench-deadline-burst-webhook-secret';
/** Least time between the end of creation and the deadlines: room to load the schedules before the burst. */
const MIN_LEAD_SECONDS = 15;
const DEFAULT_REMINDERS = [4, 2, 0];
const DEFAULT_ESCALATIONS = [1, 2, 3, 4];
/** Issue 15: the peer's schedule, 2,000 deadlines spread over a minute, 7 boundary timers per task. */
const PEER = { deadlineSpreadSeconds: 60, reminders: [30, 10, 0], escalations: [10, 20, 30, 40] };
const USAGE = `usage: node dist-test/bench/deadline-burst.js [options]
  --projects N      projects to create and submit (1..5000, default 500; 5 tasks each)
  --due S           seconds from the start of creation to the common deadline of every task
                    (30..3600, default 240); creation must end ${MIN_LEAD_SECONDS} s plus the earliest
                    reminder's offset before it. Each project gets the seconds policy with the deadline that
                    lands on that instant, as working-day deadlines in production all end at the same end of
                    day (reminders at the same 09:00)
  --deadline-spread S
                    spread the deadlines uniformly over S seconds (0..3600, default 0): project i of N is
                    due at the --due instant + i·S/N (its 4 tasks share it)
  --reminders A,B,…  reminders A, B, … seconds before the deadline (default ${DEFAULT_REMINDERS.join(',')})
  --escalations A,B,C,D
                    escalation L1..L4 A, B, C, D seconds after the deadline (default ${DEFAULT_ESCALATIONS.join(',')})
  --peer            the peer's schedule (issue 15): --deadline-spread ${PEER.deadlineSpreadSeconds} --reminders ${PEER.reminders.join(',')}
                    --escalations ${PEER.escalations.join(',')}; later options override it
  --spread          instead give every project the same deadline, due S after its own submission:
                    deadlines then spread over the time creation takes
  --concurrency C   projects created in parallel (1..200, default 8)
  --max-wait S      seconds to wait after the last scheduled escalation (10..14400, default 1800)
  --wait-quiet S    first wait up to S seconds (0..3600, default 0) for the machine to be idle
                    (other processes below 20 % CPU), for a shared machine
  --no-twin         skip the bare-Temporal twin (bench/twin.ts) that runs after the app's burst
  --history-limit N read the Temporal histories of the burst (and the twin's) when there are at most N
                    workflows on the queue (default 3000; 0: never): events, workflow tasks, activities
  --json FILE       write the results as JSON there (default bench/results/deadlines-<time>.json)
  --keep-stack      keep the temporary stack directory (Temporal/FerretDB data and logs)`;

interface Options {
  projects: number;
  dueSeconds: number;
  concurrency: number;
  maxWaitSeconds: number;
  waitQuietSeconds: number;
  align: boolean;
  deadlineSpreadSeconds: number;
  /** Seconds before the deadline. */
  reminders: number[];
  /** Seconds after the deadline, L1..L4. */
  escalations: number[];
  twin: boolean;
  historyLimit: number;
  json: string | undefined;
  keepStack: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    projects: 500,
    dueSeconds: 240,
    concurrency: 8,
    maxWaitSeconds: 1800,
    waitQuietSeconds: 0,
    align: true,
    deadlineSpreadSeconds: 0,
    reminders: DEFAULT_REMINDERS,
    escalations: DEFAULT_ESCALATIONS,
    twin: true,
    historyLimit: 3000,
    json: undefined,
    keepStack: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const int = (min: number, max: number): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < min || v > max)
        throw new Error(`${flag} expects an integer in ${min}..${max}\n${USAGE}`);
      return v;
    };
    const list = (min: number, max: number): number[] => {
      const raw = argv[++i] ?? '';
      const v = raw.split(',').map((x) => Number(x.trim()));
      if (raw === '' || v.some((x) => !Number.isInteger(x) || x < min || x > max))
        throw new Error(`${flag} expects integers in ${min}..${max}, comma-separated\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case '--projects':
        o.projects = int(1, 5000);
        break;
      case '--due':
        o.dueSeconds = int(30, 3600);
        break;
      case '--concurrency':
        o.concurrency = int(1, 200);
        break;
      case '--max-wait':
        o.maxWaitSeconds = int(10, 4 * 3600);
        break;
      case '--wait-quiet':
        o.waitQuietSeconds = int(0, 3600);
        break;
      case '--json': {
        const file = argv[++i];
        if (!file) throw new Error(`--json expects a file\n${USAGE}`);
        o.json = path.resolve(file);
        break;
      }
      case '--spread':
        o.align = false;
        break;
      case '--deadline-spread':
        o.deadlineSpreadSeconds = int(0, 3600);
        break;
      case '--reminders':
        o.reminders = list(0, 3600);
        break;
      case '--escalations':
        o.escalations = list(0, 3600);
        if (o.escalations.length !== DEFAULT_ESCALATIONS.length)
          throw new Error(`--escalations expects ${DEFAULT_ESCALATIONS.length} offsets (L1..L4)\n${USAGE}`);
        break;
      case '--peer':
        o.deadlineSpreadSeconds = PEER.deadlineSpreadSeconds;
        o.reminders = PEER.reminders;
        o.escalations = PEER.escalations;
        break;
      case '--history-limit':
        o.historyLimit = int(0, 1_000_000);
        break;
      case '--no-twin':
        o.twin = false;
        break;
      case '--keep-stack':
        o.keepStack = true;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${String(flag)}\n${USAGE}`);
    }
  }
  if (!o.align && o.deadlineSpreadSeconds > 0)
    throw new Error(`--spread and --deadline-spread exclude each other\n${USAGE}`);
  return o;
}

/** The seconds policy (test/support/policies.ts) with the run's reminder and escalation offsets. */
function benchPolicy(dueSeconds: number, opts: Pick<Options, 'reminders' | 'escalations'>): Policy {
  const p = secondsPolicy(dueSeconds);
  p.time.reminders = opts.reminders.map((seconds) => ({ seconds }));
  if (p.time.escalation.length !== opts.escalations.length)
    throw new Error(
      `the policy's ladder has ${p.time.escalation.length} levels, not ${opts.escalations.length}`,
    );
  p.time.escalation = p.time.escalation.map((e, i) => ({ ...e, after: { seconds: opts.escalations[i]! } }));
  return p;
}

/** Seconds before a deadline its earliest reminder fires. */
const earliestReminder = (opts: Pick<Options, 'reminders'>) => Math.max(0, ...opts.reminders);

// ------------------------------------------------------------------------------------------------ helpers

const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

function percentiles(values: number[]): { p50: number; p95: number; p99: number; max: number } | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const at = (p: number) => v[Math.min(v.length - 1, Math.max(0, Math.ceil(p * v.length) - 1))] ?? NaN;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: v[v.length - 1] ?? NaN };
}

function fmtLateness(p: ReturnType<typeof percentiles>): string {
  return p ? `p50 ${sec(p.p50)}, p95 ${sec(p.p95)}, p99 ${sec(p.p99)}, max ${sec(p.max)}` : 'n/a';
}

function firstLine(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { cwd: repoRoot(), timeout: 10_000, encoding: 'utf8' }).split('\n')[0];
  } catch {
    return undefined;
  }
}

function environment() {
  const tools = (() => {
    try {
      return readToolPaths(path.join(repoRoot(), 'data', 'tools.json'), {
        temporal: process.env.TEMPORAL_CLI_PATH,
        ferretdb: process.env.FERRETDB_PATH,
        ferretdbIdIndex: process.env.FERRETDB_ID_INDEX_PATH,
      });
    } catch {
      return undefined;
    }
  })();
  const dirty = firstLine('sh', ['-c', 'git status --porcelain --untracked-files=no | wc -l']);
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    temporal: tools ? firstLine(tools.temporal, ['--version']) : undefined,
    ferretdb: tools ? firstLine(tools.ferretdb, ['--version']) : undefined,
    commit: firstLine('git', ['rev-parse', '--short', 'HEAD']),
    modifiedTrackedFiles: dirty === undefined ? undefined : Number(dirty),
  };
}

/** Waits (bounded) until the machine's busy share over 5 s drops below `threshold`; returns the last share. */
async function waitForQuiet(
  maxSeconds: number,
  threshold: number,
  signal: AbortSignal,
): Promise<number | undefined> {
  const until = Date.now() + maxSeconds * 1000;
  let share: number | undefined;
  do {
    const from = machineCpu();
    await sleep(5000, signal);
    share = busyShare(from, machineCpu());
    if (share === undefined || share < threshold) return share;
    console.log(`  machine ${Math.round(share * 100)} % busy; waiting for it to be quiet`);
  } while (Date.now() < until && !signal.aborted);
  return share;
}

// ------------------------------------------------------------------------------------------- expectations

interface Expectations {
  tasks: number;
  reminders: number; // REMINDER_SENT events expected in all
  escalations: number; // ESCALATED events expected in all
  maxLevel: number;
  remindersPerTask: number;
  /** Scheduled instant per `<taskId>|R<n>` / `<taskId>|L<level>`. */
  instants: Map<string, number>;
  /** Webhook deliveries: outbox id → scheduled instant. */
  webhooks: Map<string, number>;
  /** Outbox documents expected without any channel (a person recipient without an address). */
  noChannel: number;
  orgs: Set<string>;
  tasksPerOrg: Map<string, number>;
  firstAt: number;
  lastAt: number;
  dueSpreadMs: number;
}

/** Works out, from the schedules the workflows computed, every event and delivery the burst must produce. */
function expectationsOf(tasks: Task[], policy: Policy, portfolio: string, leader: string | undefined) {
  const e: Expectations = {
    tasks: tasks.length,
    reminders: 0,
    escalations: 0,
    maxLevel: 0,
    remindersPerTask: 0,
    instants: new Map(),
    webhooks: new Map(),
    noChannel: 0,
    orgs: new Set(),
    tasksPerOrg: new Map(),
    firstAt: Number.POSITIVE_INFINITY,
    lastAt: 0,
    dueSpreadMs: 0,
  };
  // Each recipient as its outbox key names it: an organisation, or a unit's head (headOf), which the bench's empty
  // people directory resolves to the unit's own channels (activities/notifications.ts, NO_HEAD_IN_DIRECTORY).
  const pending: { key: string; to: { org: string; recipient: string }[]; at: number }[] = [];
  let minDue = Number.POSITIVE_INFINITY;
  let maxDue = 0;
  for (const t of tasks) {
    const s = t.schedule;
    if (!s || !t.deadline) throw new Error(`task ${t.id} has no schedule`);
    minDue = Math.min(minDue, t.deadline.dueAt);
    maxDue = Math.max(maxDue, t.deadline.dueAt);
    e.tasksPerOrg.set(t.assigneeOrg, (e.tasksPerOrg.get(t.assigneeOrg) ?? 0) + 1);
    e.remindersPerTask = Math.max(e.remindersPerTask, s.reminders.length);
    s.reminders.forEach((at, i) => {
      e.reminders += 1;
      e.instants.set(`${t.id}|R${i + 1}`, at);
      pending.push({
        key: `${t.id}:s${s.version}:R${i + 1}`,
        to: [{ org: t.assigneeOrg, recipient: recipientKey({ org: t.assigneeOrg }) }],
        at,
      });
    });
    for (const step of s.escalations) {
      e.escalations += 1;
      e.maxLevel = Math.max(e.maxLevel, step.level);
      e.instants.set(`${t.id}|L${step.level}`, step.at);
      // As domain/time.ts resolves the ladder's recipients for the fixture's project.
      const to = new Map<string, string>(); // recipient key → organisation whose webhook receives it
      const org = (id: string) => to.set(recipientKey({ org: id }), id);
      for (const kind of step.recipients) {
        if (kind === 'ASSIGNEE') org(t.assigneeOrg);
        else if (kind === 'ASSIGNEE_HEAD') to.set(recipientKey({ headOf: t.assigneeOrg }), t.assigneeOrg);
        else if (kind === 'SPECIAL_GROUP') org(portfolio);
        else if (kind === 'LEADING_GROUP') org(policy.leadingGroup);
        else if (kind === 'CITY_SUPERVISION') org(policy.citySupervision);
        else if (kind === 'ASSIGNED_LEADER' && leader) e.noChannel += 1; // a person id not in the directory
      }
      pending.push({
        key: `${t.id}:s${s.version}:L${step.level}`,
        to: [...to].map(([recipient, id]) => ({ org: id, recipient })),
        at: step.at,
      });
    }
    for (const at of [...s.reminders, ...s.escalations.map((x) => x.at)]) {
      e.firstAt = Math.min(e.firstAt, at);
      e.lastAt = Math.max(e.lastAt, at);
    }
  }
  for (const p of pending) for (const { org } of p.to) e.orgs.add(org);
  e.dueSpreadMs = maxDue - minDue;
  return { e, pending };
}

// ---------------------------------------------------------------------------------------------- phases

/**
 * Starts and submits every project, `concurrency` at a time, each with the seconds policy whose deadline lands
 * on `targetOf(i)` (aligned) or `dueSeconds` after its own submission (spread). Creation that is still going
 * MIN_LEAD_SECONDS plus `reminderLeadSeconds` (the earliest reminder) before a project's deadline was too slow.
 */
async function createProjects(
  clientFor: (dueSeconds: number) => ProjectClient,
  ids: string[],
  opts: {
    concurrency: number;
    targetOf: (i: number) => number;
    align: boolean;
    dueSeconds: number;
    reminderLeadSeconds: number;
    signal: AbortSignal;
  },
): Promise<void> {
  const details = projectDetails();
  const owner = actor(details.ownerOrg, 'applicant');
  const minLead = MIN_LEAD_SECONDS + opts.reminderLeadSeconds;
  let next = 0;
  let done = 0;
  let failure: Error | undefined;
  const lane = async () => {
    for (;;) {
      const i = next++;
      const id = ids[i];
      if (id === undefined || failure) return;
      const lead = (opts.targetOf(i) - Date.now()) / 1000;
      if (opts.signal.aborted) failure = new Error('interrupted');
      else if (lead < minLead)
        failure = new Error(
          `creation too slow: only ${done}/${ids.length} projects submitted ${minLead} s before the ` +
            'deadlines; raise --due or lower --projects',
        );
      if (failure) throw failure;
      const projects = clientFor(opts.align ? Math.ceil(lead) : opts.dueSeconds);
      await projects.start(id, details, owner);
      await projects.act(id, randomUUID(), owner, { type: 'submit' }, { timeoutMs: 60_000 });
      done += 1;
      if (done % 100 === 0 || done === ids.length)
        console.log(`  created and submitted ${done}/${ids.length}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, ids.length) }, lane));
}

/** Runs `fn` again while FerretDB answers SQLITE_BUSY (up to 20 times, 1 s apart). */
async function retryWhileLocked<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 20 || !String((err as Error).message).includes('SQLITE_BUSY')) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/**
 * Asks every project workflow (a query: its live state, not the read model, which may lag) until each has
 * scheduled all its open tasks; returns those tasks.
 */
async function loadScheduledTasks(
  projects: ProjectClient,
  ids: string[],
  perProject: number,
  untilMs: number,
  signal: AbortSignal,
): Promise<Task[]> {
  const found = new Map<string, Task[]>();
  for (;;) {
    const missing = ids.filter((id) => !found.has(id));
    let next = 0;
    const lane = async () => {
      for (let id = missing[next++]; id !== undefined && !signal.aborted; id = missing[next++]) {
        const view = await projects.query(id).catch(() => undefined);
        const open = view?.tasks.filter((t) => t.status === 'OPEN' && t.schedule && t.deadline) ?? [];
        if (open.length >= perProject) found.set(id, open);
      }
    };
    await Promise.all(Array.from({ length: 8 }, lane));
    if (found.size === ids.length) return [...found.values()].flat();
    if (signal.aborted) throw new Error('interrupted');
    if (Date.now() > untilMs)
      throw new Error(
        `only ${found.size}/${ids.length} projects scheduled in time; raise --due or lower --projects`,
      );
    await sleep(1000, signal);
  }
}

/** Every inbox entry, by organisation: one read of each organisation's own inbox collection. */
async function inboxesByOrg(models: Models): Promise<Map<string, InboxEntryDoc[]>> {
  const byOrg = new Map<string, InboxEntryDoc[]>();
  for (const entry of await allInboxEntries(models)) {
    const list = byOrg.get(entry.org) ?? [];
    list.push(entry);
    byOrg.set(entry.org, list);
  }
  return byOrg;
}

/** Open tasks whose deadline has reached the read model (inbox entries with a due time). */
async function deadlinesInReadModel(models: Models, orgs: Iterable<string>): Promise<number> {
  const inboxes = await inboxesByOrg(models);
  let n = 0;
  for (const org of orgs) for (const entry of inboxes.get(org) ?? []) if (entry.dueAt) n += 1;
  return n;
}

interface ProjectProgress {
  done: number;
  total: number;
  lastWriteAt: number;
}

/** Projects whose every open task has had all its reminders and reached the top of the ladder, per Mongo. */
async function projectProgress(models: Models, e: Expectations): Promise<ProjectProgress> {
  const docs = await models.Project.find({}, { openTasks: 1, updatedAt: 1 }).lean();
  let done = 0;
  let lastWriteAt = 0;
  for (const d of docs) {
    const open = d.openTasks as unknown as Task[];
    if (
      open.length > 0 &&
      open.every((t) => t.escalationLevel >= e.maxLevel && t.remindersSent >= e.remindersPerTask)
    )
      done += 1;
    lastWriteAt = Math.max(lastWriteAt, new Date(d.updatedAt).getTime());
  }
  return { done, total: docs.length, lastWriteAt };
}

/**
 * Tasks whose inbox entry shows the top of the ladder. The read model writes a sync's events
 * before its inbox entries, and a project's syncs run in order, so such a task's events are all recorded.
 */
async function tasksRecordedAtTop(models: Models, e: Expectations): Promise<number> {
  const inboxes = await inboxesByOrg(models);
  let n = 0;
  for (const org of e.tasksPerOrg.keys())
    for (const entry of inboxes.get(org) ?? []) if (entry.escalationLevel >= e.maxLevel) n += 1;
  return n;
}

function deliveredCount(sink: WebhookSink, e: Expectations): { delivered: number; lastAt: number } {
  let delivered = 0;
  let lastAt = 0;
  for (const id of e.webhooks.keys()) {
    const at = sink.firstArrival.get(id);
    if (at === undefined) continue;
    delivered += 1;
    lastAt = Math.max(lastAt, at);
  }
  return { delivered, lastAt };
}

async function verifyEvents(models: Models, e: Expectations, ids: string[]) {
  const events = (await Promise.all(ids.map((id) => auditTrailOf(models, id))))
    .flat()
    .filter((ev) => ev.type === 'REMINDER_SENT' || ev.type === 'ESCALATED');
  const seen = new Map<string, number>();
  const lateness: number[] = [];
  let unexpected = 0;
  let early = 0;
  for (const ev of events) {
    const data = (ev.data ?? {}) as { taskId?: string; reminder?: number; level?: number };
    const key =
      ev.type === 'REMINDER_SENT' ? `${data.taskId}|R${data.reminder}` : `${data.taskId}|L${data.level}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    const scheduled = e.instants.get(key);
    if (scheduled === undefined) {
      unexpected += 1;
      continue;
    }
    const late = new Date(ev.at).getTime() - scheduled;
    if (late < 0) early += 1;
    lateness.push(late);
  }
  let duplicates = 0;
  for (const n of seen.values()) duplicates += n - 1;
  const missing = [...e.instants.keys()].filter((k) => !seen.has(k)).length;
  return {
    reminderSent: events.filter((x) => x.type === 'REMINDER_SENT').length,
    escalated: events.filter((x) => x.type === 'ESCALATED').length,
    missing,
    duplicates,
    unexpected,
    firedEarly: early,
    /** Event time (when the workflow fired it) minus its scheduled instant. */
    firedLateness: percentiles(lateness),
  };
}

/** Why a notification was sent more than once: the attempts and last error its final record holds. */
async function diagnoseRepeats(models: NotificationModels, ids: string[]): Promise<Record<string, number>> {
  const causes: Record<string, number> = {};
  for (const id of ids) {
    const final = await models.Notification.findById(id, { attempts: 1, lastError: 1 }).lean();
    const cause = !final
      ? 'no final record'
      : final.attempts > 1
        ? `retried after: ${classify(final.lastError ?? '')}`
        : 'one attempt recorded (a dispatcher stopped between send and record)';
    causes[cause] = (causes[cause] ?? 0) + 1;
  }
  return causes;
}

/**
 * How FerretDB serves the two filters the read model uses on `projects` (activities/read-model.ts): by `_id`
 * alone, and by `_id` plus `seq: {$lt}` (the guarded update). Reads only, with the burst's collection in place:
 * the explain's filterPushdown and the mean time of 10 lookups each.
 */
async function probeProjectFilters(mongo: MongoConnection, models: Models, projectId: string) {
  const filters = {
    idOnly: { _id: projectId },
    idAndSeq: { _id: projectId, seq: { $lt: Number.MAX_SAFE_INTEGER } },
  };
  const out: Record<string, { filterPushdown: unknown; meanMs: number }> = {};
  for (const [name, filter] of Object.entries(filters)) {
    const explained = (await mongo.db
      ?.command({ explain: { find: 'projects', filter } })
      .catch(() => undefined)) as { filterPushdown?: unknown } | undefined;
    const started = performance.now();
    for (let i = 0; i < 10; i++) await models.Project.findOne(filter, { seq: 1 }).lean();
    out[name] = {
      filterPushdown: explained?.filterPushdown ?? null,
      meanMs: Number(((performance.now() - started) / 10).toFixed(1)),
    };
  }
  return out;
}

async function verifyOutbox(models: NotificationModels) {
  const docs = await models.Notification.find({}, { status: 1, attempts: 1 }).lean();
  const byStatus: Record<string, number> = {};
  let attempts = 0;
  let retried = 0;
  for (const d of docs) {
    byStatus[d.status] = (byStatus[d.status] ?? 0) + 1;
    attempts += d.attempts ?? 0;
    if ((d.attempts ?? 0) > 1) retried += 1;
  }
  return { documents: docs.length, byStatus, deliveryAttempts: attempts, retried };
}

async function verifyReadModel(models: Models, e: Expectations) {
  const inboxes: Record<string, { entries: number; atTopLevel: number; expected: number }> = {};
  const byOrg = await inboxesByOrg(models);
  for (const [org, expected] of e.tasksPerOrg) {
    const entries = byOrg.get(org) ?? [];
    inboxes[org] = {
      entries: entries.length,
      atTopLevel: entries.filter((x) => x.escalationLevel === e.maxLevel).length,
      expected,
    };
  }
  const tasks = await models.Task.find({}, { task: 1 }).lean();
  const complete = tasks.filter((d) => {
    const t = d.task as unknown as Task;
    return t.escalationLevel === e.maxLevel && t.remindersSent === e.remindersPerTask;
  }).length;
  return { inboxes, taskDocuments: tasks.length, taskDocumentsComplete: complete };
}

// ------------------------------------------------------------------------------------------------- main

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const abort = new AbortController();
  const onSignal = () => {
    console.error('interrupted: stopping and cleaning up');
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const env = environment();
  const policy = benchPolicy(opts.dueSeconds, opts);
  const details = projectDetails();
  const perProject = tier1Departments(policy, details).length;
  console.log(
    `deadline burst: ${opts.projects} projects × ${perProject} tier-1 tasks = ${opts.projects * perProject} tasks, ` +
      (opts.align
        ? `all due ${opts.dueSeconds} s after creation begins` +
          (opts.deadlineSpreadSeconds > 0 ? `, spread uniformly over ${opts.deadlineSpreadSeconds} s` : '')
        : `each due ${opts.dueSeconds} s after its submission`) +
      `; reminders at due−${opts.reminders.join('/−')} s, L1..L4 at due+${opts.escalations.join('/+')} s` +
      `, creation concurrency ${opts.concurrency}` +
      (opts.twin ? '; then the bare-Temporal twin' : ''),
  );
  console.log(
    `machine: ${env.cpus} × ${env.cpuModel}, ${env.memoryGiB} GiB, Node ${env.node}; ${env.temporal ?? '?'}; FerretDB ${env.ferretdb ?? '?'}`,
  );

  if (opts.waitQuietSeconds > 0) await waitForQuiet(opts.waitQuietSeconds, 0.2, abort.signal);
  console.log(
    `load average before the run: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );

  const sink = new WebhookSink(WEBHOOK_SECRET);
  let worker: WorkerChild | undefined;
  let twinWorker: TwinWorker | undefined;
  let connection: Connection | undefined;
  let mongo: MongoConnection | undefined;
  let stackDir: string | undefined;
  // Outside the stack directory, so it survives a successful run; removed when the worker logged nothing.
  const workerLog = path.join(os.tmpdir(), `bench-worker-${process.pid}-${Date.now()}.log`);
  let ok = false;
  try {
    const setupStart = Date.now();
    await globalSetup();
    stackDir = process.env.TEST_STACK_DIR;
    const stack = stackEnv();
    console.log(
      `stack up in ${sec(Date.now() - setupStart)} (${stack.address}, ${stack.mongoBase}; ${stackDir})`,
    );
    const stackProcs = (globalThis as { __stack?: ManagedProcess[] }).__stack ?? [];
    const pidOf = (name: string) => stackProcs.find((p) => p.name === name)?.child.pid;
    // FerretDB's index helper (infra/local-stack.ts) is a child of this process; its CPU is FerretDB's cost too.
    const idIndexPid = childPidsNamed(process.pid, 'ferretdb-id-index')[0];

    await sink.listen();
    const tag = randomUUID().replace(/-/g, '').slice(0, 8);
    const taskQueue = `bench-${tag}`;
    const mongoUri = `${stack.mongoBase}/bench${tag}`;
    mongo = await connectMongo(mongoUri);
    const models = createModels(mongo);
    const notificationModels = createNotificationModels(mongo);
    connection = await Connection.connect({ address: stack.address });
    const client = new Client({ connection, namespace: 'default' });
    const clients = new Map<number, ProjectClient>();
    const clientFor = (due: number): ProjectClient => {
      let c = clients.get(due);
      if (!c)
        clients.set(due, (c = new ProjectClient({ client, taskQueue, policy: benchPolicy(due, opts) })));
      return c;
    };

    worker = await WorkerChild.start(
      {
        BENCH_TEMPORAL_ADDRESS: stack.address,
        BENCH_MONGO_URI: mongoUri,
        BENCH_WORKFLOW_BUNDLE: stack.bundle,
        BENCH_TASK_QUEUE: taskQueue,
      },
      workerLog,
    );
    const workerPid = worker.pid;
    const idleRss = sampleProcess(workerPid)?.rssBytes ?? NaN;
    console.log(`worker pid ${workerPid} ready, RSS ${mib(idleRss)}`);

    // ---- creation: every project started and submitted; the deadlines `due` seconds after creation began
    const ids = Array.from({ length: opts.projects }, (_, i) => `b${tag}${String(i).padStart(5, '0')}`);
    const creationStart = Date.now();
    const targetMs = creationStart + opts.dueSeconds * 1000;
    const targetOf = (i: number) =>
      targetMs + Math.round((opts.deadlineSpreadSeconds * 1000 * i) / ids.length);
    await createProjects(clientFor, ids, {
      concurrency: opts.concurrency,
      targetOf,
      align: opts.align,
      reminderLeadSeconds: earliestReminder(opts),
      dueSeconds: opts.dueSeconds,
      signal: abort.signal,
    });
    const creationEnd = Date.now();
    const creationMs = creationEnd - creationStart;
    console.log(
      `creation: ${opts.projects} projects in ${sec(creationMs)} = ${(opts.projects / (creationMs / 1000)).toFixed(1)} projects/s`,
    );
    // The first reminder fires before the (first) deadline: everything must be scheduled by then.
    const tasks = await loadScheduledTasks(
      clientFor(opts.dueSeconds),
      ids,
      perProject,
      targetMs - (earliestReminder(opts) + 2) * 1000,
      abort.signal,
    );
    const creationPeak = sampleProcess(workerPid)?.peakRssBytes ?? NaN;
    const { e, pending } = expectationsOf(tasks, policy, details.portfolio, details.assignedLeader);
    for (const org of e.orgs) {
      // FerretDB may still be busy with the read model of the creation: a locked database is retried.
      await retryWhileLocked(() =>
        setOrgChannels(notificationModels, org, {
          webhooks: [{ url: sink.urlFor(org), secret: WEBHOOK_SECRET }],
        }),
      );
    }
    for (const p of pending)
      for (const { org, recipient } of p.to)
        e.webhooks.set(outboxId(p.key, recipient, webhookChannelKey(sink.urlFor(org))), p.at);
    const leadMs = e.firstAt - Date.now();
    console.log(
      `${e.tasks} tasks open and scheduled; deadlines span ${sec(e.dueSpreadMs)}; first reminder in ${sec(leadMs)}; ` +
        `expecting ${e.reminders} reminders, ${e.escalations} escalations, ${e.webhooks.size} webhook deliveries ` +
        `to ${e.orgs.size} organisations`,
    );
    if (leadMs < 500)
      throw new Error('the burst began before setup finished; raise --due or lower --projects');

    // ---- the burst
    const peakResetOk = resetPeakRss(workerPid);
    await sleep(Math.max(0, e.firstAt - Date.now() - 200), abort.signal);
    const burstFromMs = Date.now();
    const cpuFrom = {
      worker: sampleProcess(workerPid)?.cpuSeconds,
      temporal: (() => {
        const pid = pidOf('temporal');
        return pid ? sampleProcess(pid)?.cpuSeconds : undefined;
      })(),
      ferretdb: (() => {
        const pid = pidOf('ferretdb');
        return pid ? sampleProcess(pid)?.cpuSeconds : undefined;
      })(),
      idIndex: idIndexPid === undefined ? undefined : sampleProcess(idIndexPid)?.cpuSeconds,
      bench: sampleProcess(process.pid)?.cpuSeconds,
      machine: machineCpu(),
    };
    // How far the read model trails the workflows as the burst begins.
    const deadlinesRecordedAtStart = await deadlinesInReadModel(models, e.tasksPerOrg.keys());
    console.log(
      `  at the first reminder, ${deadlinesRecordedAtStart}/${e.tasks} deadlines are in the read model`,
    );
    const hardStop = e.lastAt + opts.maxWaitSeconds * 1000;
    let sampledPeak = 0;
    let progress: ProjectProgress = { done: 0, total: opts.projects, lastWriteAt: 0 };
    let recordedAtTop = 0;
    let eventsSeenAt = 0;
    let lastInboxCheck = 0;
    let lastProjectCheck = 0;
    let lastPrint = 0;
    let deliveries = { delivered: 0, lastAt: 0 };
    const timeline: { t: number; delivered: number; recordedAtTop: number; workerRssMiB: number }[] = [];
    for (;;) {
      const now = Date.now();
      const rss = sampleProcess(workerPid)?.rssBytes ?? 0;
      sampledPeak = Math.max(sampledPeak, rss);
      deliveries = deliveredCount(sink, e);
      if (!eventsSeenAt && now - lastInboxCheck >= 5000) {
        lastInboxCheck = now;
        recordedAtTop = await tasksRecordedAtTop(models, e);
      }
      // Confirm with the project records (a full scan, so seldom); also the fallback should an inbox lag.
      const inboxesDone = recordedAtTop === e.tasks;
      const sinceCheck = now - lastProjectCheck;
      const fallbackDue = now >= e.lastAt && deliveries.delivered === e.webhooks.size && sinceCheck >= 60_000;
      if (!eventsSeenAt && ((inboxesDone && sinceCheck >= 5000) || fallbackDue)) {
        lastProjectCheck = now;
        progress = await projectProgress(models, e);
        if (progress.done === opts.projects) eventsSeenAt = Date.now();
      }
      if (now - lastPrint >= 10_000) {
        lastPrint = now;
        timeline.push({
          t: Math.round((now - e.firstAt) / 1000),
          delivered: deliveries.delivered,
          recordedAtTop,
          workerRssMiB: Math.round(rss / 1024 / 1024),
        });
        console.log(
          `  +${sec(now - e.firstAt)}: ${deliveries.delivered}/${e.webhooks.size} delivered, ` +
            `${sink.duplicates} duplicate(s); ${recordedAtTop}/${e.tasks} tasks recorded at L${e.maxLevel}; ` +
            `worker RSS ${mib(rss)}`,
        );
      }
      if (deliveries.delivered === e.webhooks.size && eventsSeenAt) break;
      if (abort.signal.aborted) throw new Error('interrupted');
      if (now > hardStop) {
        console.error(`gave up ${opts.maxWaitSeconds} s after the last scheduled escalation`);
        break;
      }
      if (!worker.running) throw new Error('the worker process exited during the burst');
      await sleep(1000, abort.signal);
    }
    const burstToMs = Date.now();
    const cpuTo = {
      worker: sampleProcess(workerPid)?.cpuSeconds,
      temporal: (() => {
        const pid = pidOf('temporal');
        return pid ? sampleProcess(pid)?.cpuSeconds : undefined;
      })(),
      ferretdb: (() => {
        const pid = pidOf('ferretdb');
        return pid ? sampleProcess(pid)?.cpuSeconds : undefined;
      })(),
      idIndex: idIndexPid === undefined ? undefined : sampleProcess(idIndexPid)?.cpuSeconds,
      bench: sampleProcess(process.pid)?.cpuSeconds,
      machine: machineCpu(),
    };
    const burstPeak = sampleProcess(workerPid)?.peakRssBytes ?? NaN;
    // A little longer, so a late repeat of any delivery would be counted.
    await sleep(5000, abort.signal);

    const eventsDoneAt = eventsSeenAt ? progress.lastWriteAt : NaN;
    const completeAt = Math.max(deliveries.lastAt, eventsDoneAt);
    const events = await verifyEvents(models, e, ids);
    const outbox = await verifyOutbox(notificationModels);
    const readModel = await verifyReadModel(models, e);
    const probe = await probeProjectFilters(mongo, models, ids[0] ?? '');
    const repeatCauses = await diagnoseRepeats(notificationModels, [...sink.repeated.keys()].slice(0, 50));
    const deliveryLateness = percentiles(
      [...e.webhooks].flatMap(([id, at]) => {
        const got = sink.firstArrival.get(id);
        return got === undefined ? [] : [got - at];
      }),
    );
    const windows: number[] = [];
    for (const at of sink.firstArrival.values()) {
      const w = Math.floor((at - e.firstAt) / 10_000);
      if (w >= 0) windows[w] = (windows[w] ?? 0) + 1;
    }
    const cpu = (k: 'worker' | 'temporal' | 'ferretdb' | 'idIndex' | 'bench') => {
      const a = cpuFrom[k];
      const b = cpuTo[k];
      return a === undefined || b === undefined ? null : Number((b - a).toFixed(1));
    };
    // CPU the rest of the machine used meanwhile (other people's jobs on a shared machine perturb the figures).
    const machineBusySeconds =
      cpuFrom.machine && cpuTo.machine ? (cpuTo.machine.busy - cpuFrom.machine.busy) / 100 : undefined;
    const ours = (['worker', 'temporal', 'ferretdb', 'idIndex', 'bench'] as const).reduce(
      (n, k) => n + (cpu(k) ?? 0),
      0,
    );
    const otherCpu =
      machineBusySeconds === undefined ? null : Number(Math.max(0, machineBusySeconds - ours).toFixed(1));
    const burstWallMs = completeAt - e.firstAt;
    const workerPeak = peakResetOk ? Math.max(creationPeak, burstPeak) : burstPeak;
    const workerPeakCreationOnlyNote = peakResetOk
      ? undefined
      : 'VmHWM could not be reset: one figure for the run';

    const complete =
      deliveries.delivered === e.webhooks.size &&
      Boolean(eventsSeenAt) &&
      events.missing === 0 &&
      events.duplicates === 0 &&
      events.firedEarly === 0 &&
      sink.duplicates === 0 &&
      sink.badSignatures === 0 &&
      sink.misrouted === 0 &&
      sink.malformed === 0;
    const results = {
      command:
        `npm run bench:deadlines -- --projects ${opts.projects} --due ${opts.dueSeconds} ` +
        `--concurrency ${opts.concurrency}${opts.align ? '' : ' --spread'}` +
        (opts.deadlineSpreadSeconds ? ` --deadline-spread ${opts.deadlineSpreadSeconds}` : '') +
        ` --reminders ${opts.reminders.join(',')} --escalations ${opts.escalations.join(',')}` +
        (opts.twin ? '' : ' --no-twin'),
      options: opts,
      environment: env,
      tasks: e.tasks,
      creation: {
        projects: opts.projects,
        seconds: Number((creationMs / 1000).toFixed(1)),
        projectsPerSecond: Number((opts.projects / (creationMs / 1000)).toFixed(1)),
        deadlineSpreadSeconds: Number((e.dueSpreadMs / 1000).toFixed(1)),
        deadlinesWithinOneMinute: e.dueSpreadMs < 60_000,
      },
      burst: {
        complete,
        deadlinesInReadModelAtFirstReminder: deadlinesRecordedAtStart,
        scheduledSpanSeconds: Number(((e.lastAt - e.firstAt) / 1000).toFixed(1)),
        durationSeconds: Number.isFinite(burstWallMs) ? Number((burstWallMs / 1000).toFixed(1)) : null,
        lastEventRecordedAfterSeconds: Number.isFinite(eventsDoneAt)
          ? Number(((eventsDoneAt - e.firstAt) / 1000).toFixed(1))
          : null,
        lastDeliveryAfterSeconds: deliveries.lastAt
          ? Number(((deliveries.lastAt - e.firstAt) / 1000).toFixed(1))
          : null,
        behindScheduleAtEndSeconds: Number.isFinite(completeAt)
          ? Number(((completeAt - e.lastAt) / 1000).toFixed(1))
          : null,
        deliveriesPerSecond: Number.isFinite(burstWallMs)
          ? Number((deliveries.delivered / (burstWallMs / 1000)).toFixed(1))
          : null,
        deliveriesPer10sWindow: Array.from(windows, (n) => n ?? 0),
        timeline,
        cpuSeconds: {
          worker: cpu('worker'),
          temporal: cpu('temporal'),
          ferretdb: cpu('ferretdb'),
          ferretdbIdIndex: cpu('idIndex'),
          bench: cpu('bench'),
          otherProcesses: otherCpu,
        },
        machineBusyShare: Number((busyShare(cpuFrom.machine, cpuTo.machine) ?? NaN).toFixed(2)),
      },
      events: {
        expectedReminders: e.reminders,
        expectedEscalations: e.escalations,
        ...events,
      },
      deliveries: {
        expected: e.webhooks.size,
        delivered: deliveries.delivered,
        received: sink.received,
        duplicates: sink.duplicates,
        badSignatures: sink.badSignatures,
        misrouted: sink.misrouted,
        malformed: sink.malformed,
        perOrganisation: Object.fromEntries(sink.perOrg),
        repeatedIds: sink.repeated.size,
        repeatCausesOfFirst50: repeatCauses,
        lateness: deliveryLateness,
      },
      outbox: { ...outbox, expectedNoChannel: e.noChannel },
      readModel,
      projectFilterProbe: probe,
      worker: {
        idleRssMiB: Math.round(idleRss / 1024 / 1024),
        peakRssMiB: Math.round(workerPeak / 1024 / 1024),
        peakRssCreationMiB: Math.round(creationPeak / 1024 / 1024),
        peakRssBurstMiB: Math.round(burstPeak / 1024 / 1024),
        sampledPeakRssBurstMiB: Math.round(sampledPeak / 1024 / 1024),
        reportedPeakHeapUsedMiB: Math.round(worker.reported.heapUsed / 1024 / 1024),
        note: workerPeakCreationOnlyNote,
      },
    };

    console.log('\n=== deadline burst results ===');
    console.log(
      `tasks:            ${e.tasks} (${opts.projects} projects), deadlines spread over ${sec(e.dueSpreadMs)}`,
    );
    console.log(
      `creation:         ${sec(creationMs)}, ${results.creation.projectsPerSecond} projects/s (start + submit)`,
    );
    console.log(
      `burst:            ${Number.isFinite(burstWallMs) ? sec(burstWallMs) : 'incomplete'} from the first reminder instant to the last event recorded and the last webhook delivered ` +
        `(schedule itself spans ${sec(e.lastAt - e.firstAt)}; finished ${results.burst.behindScheduleAtEndSeconds ?? '?'} s after the last scheduled escalation)`,
    );
    console.log(
      `events:           ${events.reminderSent}/${e.reminders} REMINDER_SENT, ${events.escalated}/${e.escalations} ESCALATED; ` +
        `missing ${events.missing}, duplicates ${events.duplicates}, early ${events.firedEarly}; fired late by ${fmtLateness(events.firedLateness)} (event time vs schedule)`,
    );
    console.log(
      `deliveries:       ${deliveries.delivered}/${e.webhooks.size} webhooks, duplicates ${sink.duplicates}, bad signatures ${sink.badSignatures}, ` +
        `misrouted ${sink.misrouted}; arrived late by ${fmtLateness(deliveryLateness)}; ${results.burst.deliveriesPerSecond ?? '?'} deliveries/s`,
    );
    if (sink.repeated.size > 0)
      console.log(
        `repeats:          ${sink.repeated.size} notification(s) delivered more than once; causes (first 50): ` +
          JSON.stringify(repeatCauses),
      );
    console.log(
      `outbox:           ${outbox.documents} documents ${JSON.stringify(outbox.byStatus)} (expected NO_CHANNEL ${e.noChannel}); ` +
        `${outbox.retried} needed more than one attempt`,
    );
    console.log(
      `read model:       ${readModel.taskDocumentsComplete}/${readModel.taskDocuments} task documents at L${e.maxLevel}; inboxes ` +
        Object.entries(readModel.inboxes)
          .map(([org, i]) => `${org} ${i.atTopLevel}/${i.expected}`)
          .join(', '),
    );
    console.log(
      `projects filter:  {_id} pushdown ${String(probe.idOnly?.filterPushdown)}, ${probe.idOnly?.meanMs} ms; ` +
        `{_id, seq: {$lt}} pushdown ${String(probe.idAndSeq?.filterPushdown)}, ${probe.idAndSeq?.meanMs} ms ` +
        `(mean of 10 reads over ${opts.projects} project documents)`,
    );
    console.log(
      `worker memory:    peak RSS ${mib(workerPeak)} (creation ${mib(creationPeak)}, burst ${mib(burstPeak)}; idle ${mib(idleRss)}); peak JS heap ${mib(worker.reported.heapUsed)}`,
    );
    console.log(
      `CPU during burst: worker ${cpu('worker')} s, Temporal ${cpu('temporal')} s, FerretDB ${cpu('ferretdb')} s ` +
        `(+ its index helper ${cpu('idIndex') ?? '?'} s), bench ${cpu('bench')} s, other processes ${otherCpu ?? '?'} s; ` +
        `machine busy ${Math.round((busyShare(cpuFrom.machine, cpuTo.machine) ?? NaN) * 100)} % of ${env.cpus} cores`,
    );
    console.log(
      `deliveries per 10 s from the first reminder: ${results.burst.deliveriesPer10sWindow.join(' ')}`,
    );
    console.log(`result:           ${complete ? 'COMPLETE' : 'INCOMPLETE'}`);

    // ---- the bare-Temporal twin (issue 15 §1): the same N, the same instants, nothing of ours
    let twin: DeadlineTwinResult | undefined;
    let twinJson: Record<string, unknown> | undefined;
    let table: ReturnType<typeof comparison> | undefined;
    let rows: ComparisonInput[] | undefined;
    let twinCpu: { worker: number | null; temporal: number | null; ferretdb: number } | undefined;
    const scheduleEvents = e.reminders + e.escalations;
    const appCpu = {
      worker: cpu('worker'),
      temporal: cpu('temporal'),
      ferretdb: cpuTotal({ ferretdb: cpu('ferretdb'), idIndex: cpu('idIndex') }, ['ferretdb', 'idIndex']),
    };
    const appTotal = cpuTotal(appCpu, ['worker', 'temporal', 'ferretdb']);
    const appPer1000 = {
      worker: per1000(appCpu.worker, scheduleEvents),
      temporal: per1000(appCpu.temporal, scheduleEvents),
      ferretdb: per1000(appCpu.ferretdb, scheduleEvents),
      total: per1000(appTotal, scheduleEvents),
    };
    console.log(
      `CPU s per 1,000 events (${scheduleEvents}): worker ${appPer1000.worker ?? '?'}, Temporal ${appPer1000.temporal ?? '?'}, ` +
        `FerretDB + index helper ${appPer1000.ferretdb ?? '?'}, total ${appPer1000.total ?? '?'}`,
    );
    if (opts.twin && !abort.signal.aborted) {
      console.log('\n=== the bare-Temporal twin ===');
      twinWorker = await startTwinWorker(stack.address);
      const byProject = new Map<string, number[]>();
      for (const t of tasks) {
        const project = t.id.slice(0, t.id.indexOf('~'));
        const instants = byProject.get(project) ?? [];
        instants.push(...(t.schedule?.reminders ?? []), ...(t.schedule?.escalations ?? []).map((x) => x.at));
        byProject.set(project, instants);
      }
      const twinPids = {
        'twin worker (this process)': process.pid,
        temporal: pidOf('temporal'),
        ferretdb: pidOf('ferretdb'),
        'ferretdb-id-index': idIndexPid,
        'app worker (idle)': workerPid,
      };
      console.log(
        `worker on ${twinWorker.taskQueue}; ${byProject.size} workflows woken at their project's instants ` +
          `(moved by the time since the app's creation began), one no-op activity per wake`,
      );
      twin = await runDeadlineTwin({
        client,
        taskQueue: twinWorker.taskQueue,
        schedules: [...byProject.values()],
        appOrigin: creationStart,
        concurrency: opts.concurrency,
        pids: twinPids,
        maxWaitMs: opts.maxWaitSeconds * 1000,
        signal: abort.signal,
      });
      const tc = twin.cpu.processes;
      const twinOurs = cpuTotal(tc, Object.keys(twinPids));
      const twinOther =
        twin.cpu.machineBusy === undefined
          ? null
          : Number(Math.max(0, twin.cpu.machineBusy * twin.cpu.wallSeconds * env.cpus - twinOurs).toFixed(1));
      twinCpu = {
        worker: tc['twin worker (this process)'] ?? null,
        temporal: tc.temporal ?? null,
        ferretdb: cpuTotal(tc, ['ferretdb', 'ferretdb-id-index']),
      };
      const twinTotal = cpuTotal(twinCpu, ['worker', 'temporal', 'ferretdb']);
      const twinLate = percentiles(twin.lateMs);
      const s = (ms: number | undefined) => (ms === undefined ? null : Number((ms / 1000).toFixed(2)));
      rows = [
        ['burst to the last event, s', results.burst.lastEventRecordedAfterSeconds, twin.burstSeconds],
        ['burst to the last event and delivery, s', results.burst.durationSeconds, twin.burstSeconds],
        [
          'finished after the last instant, s',
          results.burst.behindScheduleAtEndSeconds,
          twin.behindScheduleAtEndSeconds,
        ],
        ['fired late p50, s', s(events.firedLateness?.p50), s(twinLate?.p50)],
        ['fired late p95, s', s(events.firedLateness?.p95), s(twinLate?.p95)],
        ['CPU worker, s', appCpu.worker, twinCpu.worker],
        ['CPU Temporal, s', appCpu.temporal, twinCpu.temporal],
        ['CPU FerretDB (+ index helper), s', appCpu.ferretdb, twinCpu.ferretdb, false],
        ['CPU total, s', appTotal, twinTotal],
        [
          'worker CPU s / 1,000 events',
          per1000(appCpu.worker, scheduleEvents),
          per1000(twinCpu.worker, scheduleEvents),
        ],
        [
          'Temporal CPU s / 1,000 events',
          per1000(appCpu.temporal, scheduleEvents),
          per1000(twinCpu.temporal, scheduleEvents),
        ],
        [
          'FerretDB CPU s / 1,000 events',
          per1000(appCpu.ferretdb, scheduleEvents),
          per1000(twinCpu.ferretdb, scheduleEvents),
          false,
        ],
        ['total CPU s / 1,000 events', per1000(appTotal, scheduleEvents), per1000(twinTotal, scheduleEvents)],
        ['CPU of other processes, s (noise)', otherCpu, twinOther, false],
      ];
      twinJson = {
        ...twin,
        lateMs: undefined,
        lateness: twinLate,
        events: scheduleEvents,
        cpuSeconds: { ...twinCpu, total: twinTotal, otherProcesses: twinOther, processes: tc },
        cpuSecondsPer1000Events: {
          worker: per1000(twinCpu.worker, scheduleEvents),
          temporal: per1000(twinCpu.temporal, scheduleEvents),
          ferretdb: per1000(twinCpu.ferretdb, scheduleEvents),
          total: per1000(twinTotal, scheduleEvents),
        },
        workerOptions: 'as worker/create-worker.ts: cache 1,000, 20 workflow-task pollers, ratio 0.5',
      };
      console.log(
        `twin: ${twin.workflows} workflows, ${twin.wakes} wakes (${scheduleEvents} schedule events), created in ` +
          `${twin.creationSeconds} s, ${twin.leadSeconds} s before its first instant; ` +
          `${twin.completed}/${twin.workflows} completed; woke late by ${fmtLateness(twinLate)}`,
      );
      console.log(
        `CPU during the twin's burst (${twin.cpu.wallSeconds} s wall): ` +
          Object.entries(tc)
            .map(([k, v]) => `${k} ${v ?? '?'} s`)
            .join(', ') +
          `; other processes ${twinOther ?? '?'} s; machine busy ${Math.round((twin.cpu.machineBusy ?? NaN) * 100)} %`,
      );
    }
    // What Temporal stored during each burst (read after both, so the reads perturb neither).
    const appHistory =
      opts.historyLimit > 0
        ? await historyCounts(client, {
            taskQueue,
            fromMs: burstFromMs,
            toMs: burstToMs,
            limit: opts.historyLimit,
          })
        : undefined;
    const twinHistory =
      twin && twinWorker && opts.historyLimit > 0
        ? await historyCounts(client, {
            taskQueue: twinWorker.taskQueue,
            fromMs: twin.fromMs,
            toMs: twin.toMs,
            limit: opts.historyLimit,
          })
        : undefined;
    console.log(
      appHistory
        ? `history during the burst: ${appHistory.events} events (${(appHistory.events / scheduleEvents).toFixed(1)} per schedule event), ` +
            `${appHistory.workflowTasks} workflow tasks, ${appHistory.activities} activities, ${appHistory.workflowsStarted} workflows started; ` +
            `events by workflow type ${JSON.stringify(appHistory.eventsByWorkflowType)}`
        : `history during the burst: not read (more than --history-limit ${opts.historyLimit} workflows)`,
    );
    if (twin && rows) {
      rows.push(
        ...historyRows(appHistory, twinHistory, scheduleEvents, 'schedule event', {
          app: appCpu.temporal,
          twin: twinCpu?.temporal ?? null,
        }),
      );
      table = comparison(rows);
      console.log(
        `\n=== app vs twin (${scheduleEvents} events: ${e.reminders} reminders + ${e.escalations} escalations) ===`,
      );
      for (const line of formatComparison(table)) console.log(line);
    }
    const twinComplete = !twin || twin.completed === twin.workflows;
    const out = {
      ...results,
      cpuSecondsPer1000Events: appPer1000,
      history: appHistory ?? null,
      twin: twinJson ? { ...twinJson, history: twinHistory ?? null } : undefined,
      comparison: table,
    };
    const jsonFile =
      opts.json ??
      path.join(
        repoRoot(),
        'bench',
        'results',
        `deadlines-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
      );
    mkdirSync(path.dirname(jsonFile), { recursive: true });
    writeFileSync(jsonFile, JSON.stringify(out, null, 2) + '\n');
    console.log(`results written to ${jsonFile}`);
    ok = complete && twinComplete;
    return ok ? 0 : 1;
  } finally {
    await twinWorker?.stop().catch((err: unknown) => console.error('stopping the twin worker:', err));
    await worker?.stop().catch((err: unknown) => console.error('stopping the worker:', err));
    await sink.close();
    await connection?.close().catch(() => undefined);
    await mongo?.close().catch(() => undefined);
    await globalTeardown();
    if (stackDir) {
      if (opts.keepStack || !ok) console.log(`stack directory kept: ${stackDir}`);
      else rmSync(stackDir, { recursive: true, force: true });
    }
    const logged = existsSync(workerLog) ? readFileSync(workerLog, 'utf8') : '';
    if (logged.trim() === '') rmSync(workerLog, { force: true });
    else {
      console.log(`worker log: ${workerLog}`);
      for (const [what, n] of summariseWorkerLog(logged)) console.log(`  ${n} × ${what}`);
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
