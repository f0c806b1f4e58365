/**
 * Idle-projects benchmark (a script, not a timed test):
 *
 *   npm run bench:idle -- [--projects 10000] [--submitted 1000] [--concurrency 16] [--reads 500]
 *                         [--no-twin] [--json out.json]
 *
 * A city's pipeline is mostly waiting: thousands of live project workflows, each parked on its next decision or
 * deadline. This starts its own real stack (Temporal dev server + FerretDB on free ports, as the jest global setup
 * does), the real worker in a process of its own (bench/worker-process.ts, so its memory is its own) and the real
 * API (api/app.ts) on 127.0.0.1. It starts --projects project workflows with the DEFAULT policy (deadlines are
 * working days away: nothing fires during the run), submits --submitted of them (each opens five screening tasks
 * in five departments' inboxes) and waits until the read model holds every one. Then, with the workers idle, it
 * measures the worker's RSS and, one request at a time, `GET /projects/:id` of random projects and
 * `GET /tasks` (a screening department's inbox).
 *
 * The twin (bench/twin.ts, nothing of ours): as many workflows whose Update handler sets a field, parked the same
 * way in a worker with the same cache size, each read through an HTTP GET that queries the workflow — what serving
 * a project from its live state instead of the read model would cost.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import globalSetup from '../test/support/global-setup';
import globalTeardown from '../test/support/global-teardown';
import { startTestSystem, type TestSystem } from '../test/support/harness';
import { testApp, token, TEST_JWT_SECRET } from '../test/support/api';
import { actor, projectDetails } from '../test/support/fixtures';
import { repoRoot } from '../infra/local-stack';
import { allInboxEntries } from '../db/queries';
import { ProjectPortfolioAttr } from '../domain/search-attributes';
import { formatSummary, summarize, type LatencySummary } from './api-stats';
import { sampleProcess } from './proc-stats';
import { lanes, startTwinApi, startTwinWorker } from './twin';
import { setTwinField } from './twin-workflows';
import { WorkerChild } from './worker-control';

interface Options {
  projects: number;
  submitted: number;
  concurrency: number;
  reads: number;
  twin: boolean;
  json: string | undefined;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      projects: { type: 'string' },
      submitted: { type: 'string' },
      concurrency: { type: 'string' },
      reads: { type: 'string' },
      'no-twin': { type: 'boolean' },
      json: { type: 'string' },
    },
    strict: true,
  });
  const int = (name: string, raw: string | undefined, def: number, min: number, max: number) => {
    const v = raw === undefined ? def : Number(raw);
    if (!Number.isInteger(v) || v < min || v > max)
      throw new Error(`--${name} must be an integer in ${min}..${max}`);
    return v;
  };
  const projects = int('projects', values.projects, 10_000, 1, 200_000);
  return {
    projects,
    submitted: int('submitted', values.submitted, Math.min(1000, projects), 0, projects),
    concurrency: int('concurrency', values.concurrency, 16, 1, 256),
    reads: int('reads', values.reads, 500, 1, 100_000),
    twin: !values['no-twin'],
    json: values.json,
  };
}

const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mib = (bytes: number | undefined) =>
  bytes === undefined || Number.isNaN(bytes) ? '?' : `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** twin.ts `lanes`, printing progress every tenth of `n`. */
function lanesWithProgress(n: number, concurrency: number, label: string, fn: (i: number) => Promise<void>) {
  let done = 0;
  const every = Math.max(1, Math.round(n / 10));
  return lanes(n, concurrency, async (i) => {
    await fn(i);
    if (++done % every === 0) console.log(`  ${label} ${done}/${n}`);
  });
}

/** `reads` GETs one at a time (an idle system: what one user waits), latency of each. */
async function timeReads(reads: number, get: (i: number) => Promise<Response>): Promise<LatencySummary> {
  const ms: number[] = [];
  for (let i = 0; i < reads; i++) {
    const t0 = performance.now();
    const res = await get(i);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`GET answered ${res.status}`);
    ms.push(performance.now() - t0);
  }
  return summarize(ms)!;
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  Runtime.install({ logger: new DefaultLogger('WARN') });
  console.log(
    `idle projects: ${o.projects} project workflows, ${o.submitted} submitted (5 inbox entries each), ` +
      `${o.reads} project reads and ${Math.max(1, Math.round(o.reads / 5))} inbox reads; ${os.cpus().length} CPUs, node ${process.version}`,
  );
  const started = Date.now();
  await globalSetup();
  let sys: TestSystem | undefined;
  let worker: WorkerChild | undefined;
  let server: Server | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    sys = await startTestSystem();
    // The worker runs in a process of its own: its memory is what this benchmark reports.
    await sys.stopWorker();
    worker = await WorkerChild.start(
      {
        BENCH_TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!,
        BENCH_MONGO_URI: sys.mongoUri,
        BENCH_WORKFLOW_BUNDLE: process.env.TEST_WORKFLOW_BUNDLE!,
        BENCH_TASK_QUEUE: sys.taskQueue,
      },
      path.join(os.tmpdir(), `bench-idle-worker-${process.pid}.log`),
    );
    const idleRss = sampleProcess(worker.pid)?.rssBytes;
    console.log(`stack up in ${sec(Date.now() - started)}; worker pid ${worker.pid}, RSS ${mib(idleRss)}`);

    const app = testApp(sys);
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1`;

    // ---- the projects: started (DRAFT, waiting to be submitted), some submitted (waiting for five decisions)
    const tag = randomUUID().slice(0, 6);
    const ids = Array.from({ length: o.projects }, (_, i) => `I${tag}${String(i).padStart(6, '0')}`);
    const details = projectDetails();
    const owner = actor(details.ownerOrg, 'applicant');
    const t0 = Date.now();
    await lanesWithProgress(o.projects, o.concurrency, 'started', async (i) => {
      await sys!.projects.start(ids[i]!, { ...details, name: `闲置项目 ${i}` }, owner);
    });
    // The starts return before the workflows' first tasks run: let the worker catch up before submitting.
    const settled = async (what: string, count: () => Promise<number>, expected: number) => {
      for (let last = -1; ;) {
        const n = await count();
        if (n >= expected) return;
        if (n !== last) console.log(`  ${what}: ${n}/${expected}`);
        last = n;
        await new Promise((r) => setTimeout(r, 5_000));
      }
    };
    await settled('in the read model', () => sys!.models.Project.estimatedDocumentCount(), o.projects);
    await lanesWithProgress(o.submitted, o.concurrency, 'submitted', async (i) => {
      await sys!.projects.act(ids[i]!, `idle-submit-${i}`, owner, { type: 'submit' }, { timeoutMs: 120_000 });
    });
    await settled('inbox entries', async () => (await allInboxEntries(sys!.models)).length, o.submitted * 5);
    const creationMs = Date.now() - t0;
    console.log(`${o.projects} projects live and in the read model after ${sec(creationMs)}`);

    // ---- idle: let the worker settle, then its memory and the reads
    await new Promise((r) => setTimeout(r, 10_000));
    const rss = sampleProcess(worker.pid);
    const supervisor = await token('bench-supervisor', 'city-supervision', 'supervisor');
    const reviewer = await token('bench-reviewer', 'ndrc', 'reviewer');
    const auth = (t: string) => ({ headers: { authorization: `Bearer ${t}` } });
    const getProject = await timeReads(o.reads, (i) =>
      fetch(`${base}/projects/${ids[(i * 7919) % o.projects]}`, auth(supervisor)),
    );
    const inboxReads = Math.max(1, Math.round(o.reads / 5));
    const getInbox = await timeReads(inboxReads, () => fetch(`${base}/tasks`, auth(reviewer)));
    const inboxSize = ((await (await fetch(`${base}/tasks`, auth(reviewer))).json()) as { tasks: unknown[] })
      .tasks.length;
    console.log(
      `worker RSS idle with ${o.projects} live projects: ${mib(rss?.rssBytes)} (peak ${mib(rss?.peakRssBytes)})`,
    );
    console.log(formatSummary('GET /projects/:id', getProject));
    console.log(formatSummary(`GET /tasks (inbox of ${inboxSize})`, getInbox));

    // ---- the twin: as many parked workflows, each read through a query behind the same JWT check
    let twin: { creationSeconds: number; get: LatencySummary; inbox: LatencySummary } | undefined;
    if (o.twin) {
      const twinWorker = await startTwinWorker(process.env.TEST_TEMPORAL_ADDRESS!);
      cleanups.push(() => twinWorker.stop());
      const client = new Client({ connection: sys.connection, namespace: 'default' });
      const twinApi = await startTwinApi(client, TEST_JWT_SECRET);
      cleanups.push(() => twinApi.close());
      const tt0 = Date.now();
      // The first --submitted carry one department's tag and a memo: that department's inbox on plain Temporal.
      const inboxTag = `twin-inbox-${tag.replace(/[^A-Za-z0-9-]/g, '')}`;
      await lanesWithProgress(o.projects, o.concurrency, 'twin started', async (i) => {
        const handle = await client.workflow.start('twinField', {
          taskQueue: twinWorker.taskQueue,
          workflowId: `twin-idle-${tag}-${i}`,
          ...(i < o.submitted
            ? {
                typedSearchAttributes: [{ key: ProjectPortfolioAttr, value: inboxTag }],
                memo: { projectName: `闲置项目 ${i}`, title: '部门初审', dueAt: new Date().toISOString() },
              }
            : {}),
        });
        await handle.executeUpdate(setTwinField, { args: [{ key: 'name', value: `闲置项目 ${i}` }] });
      });
      const creationSeconds = (Date.now() - tt0) / 1000;
      await new Promise((r) => setTimeout(r, 10_000));
      const get = await timeReads(o.reads, (i) =>
        fetch(`${twinApi.base}/twin-idle-${tag}-${(i * 7919) % o.projects}`, auth(supervisor)),
      );
      console.log(formatSummary('twin GET (a query of a parked workflow)', get));
      const listQuery = `ProjectPortfolio = '${inboxTag}'`;
      await settled(
        'twin inbox in visibility',
        async () => (await client.workflow.count(listQuery)).count,
        o.submitted,
      );
      const list = await timeReads(inboxReads, () =>
        fetch(`${twinApi.listBase}/${inboxTag}`, auth(supervisor)),
      );
      console.log(formatSummary(`twin inbox (a visibility list of ${o.submitted} with memos)`, list));
      twin = { creationSeconds, get, inbox: list };
    }

    const result = {
      at: new Date().toISOString(),
      options: o,
      machine: { cpus: os.cpus().length, node: process.version },
      creationSeconds: creationMs / 1000,
      workerRssMiB: rss ? Math.round(rss.rssBytes / 2 ** 20) : null,
      workerPeakRssMiB: rss ? Math.round(rss.peakRssBytes / 2 ** 20) : null,
      workerReportedPeakHeapMiB: Math.round(worker.reported.heapUsed / 2 ** 20),
      getProject,
      inbox: { entries: inboxSize, get: getInbox },
      twin,
      ratio: twin
        ? {
            getProjectP99: +(getProject.p99 / twin.get.p99).toFixed(2),
            inboxP99: +(getInbox.p99 / twin.inbox.p99).toFixed(2),
          }
        : undefined,
    };
    const out =
      o.json ?? path.join(repoRoot(), 'bench', 'results', `idle-${result.at.replace(/[:.]/g, '-')}.json`);
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(result, null, 2));
    console.log(`results written to ${out}`);
    console.log('SUMMARY ' + JSON.stringify(result));
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    if (server) await new Promise((r) => server!.close(r));
    await worker?.stop(10_000);
    await sys?.close();
    await globalTeardown();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
