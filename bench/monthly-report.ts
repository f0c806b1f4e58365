/**
 * Supervision reports benchmark (a script, not a timed test):
 *
 *   npm run bench:report -- [--projects 10000] [--json out.json] [--repeat 1] [--seed 1] [--templates 240]
 *                           [--batch 500]
 *
 * "How long does the monthly report take over 10,000 projects?" Starts its own FerretDB (SQLite, free port,
 * temporary directory — the report activity needs only Mongo, no Temporal) and seeds a fresh database:
 *
 *   projects   N documents written with activities/read-model.ts `projectRecordOf(snapshotOf(state))`, and
 *              their report facts (`projectFacts`, domain/supervision.ts `projectFactsOf`) as the sync writes them; each
 *              state produced by the real domain code (bench/synthetic-projects.ts): the five special groups,
 *              the 18 counties, every industry; DRAFT … COMPLETED in plausible shares; construction with monthly
 *              progress reports, payments and funding; deadlines, reminders, escalations and reserve staleness
 *              from the real clock code, so some projects have overdue open tasks;
 *   blockers   the blocker records of those projects (open and closed), as `syncBlocker` writes them;
 *   snapshots  the stage map of the monthly snapshot before each period (what a previous monthly run
 *              leaves behind in `snapshotStages`, read by the activity for conversion rates), taken from each
 *              project's history.
 *
 * Then it measures, each on its own (wall time, this process's peak RSS, FerretDB's CPU time):
 *   (a) the seeding (template driving, copying, insertMany in batches);
 *   (b) `computeSupervisionReport({ kind: 'MONTHLY_DISPATCH', period })` of activities/supervision.ts — the
 *       activity the monthly schedule runs — for the current month;
 *   (c) the same for QUARTERLY_BULLETIN (current quarter) and ANNUAL_ASSESSMENT (current year);
 *   (d) the stored monthly snapshot read back (as GET /reports/:id does) and each of its tables exported
 *       with reports/export.ts `toXlsx` / `toCsv`, with byte sizes;
 *   (e) what the activity reads alone — `ProjectFacts.find({}).lean()` and parsing the facts — and the pure
 *       report functions on its result, so the time of (b) splits into loading from FerretDB and computing; beside
 *       it `Project.find({}).lean()` (the full records, what the reports read before the facts), and the report
 *       functions on those full records, which must give exactly the same reports.
 * Every figure is checked against what was seeded (project and library counts, new projects, conversions,
 * overdue tasks, open blockers, leader gaps, xlsx/csv rows against the JSON tables); any mismatch fails the run.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import ExcelJS from 'exceljs';
import mongoose, { type Connection } from 'mongoose';
import { loadWorkCalendar } from '../activities/deadlines';
import { projectRecordOf } from '../activities/read-model';
import { createSupervisionActivities, monthBefore, parsePeriod } from '../activities/supervision';
import { shanghaiDayOf } from '../calendar';
import { createCalendarModels } from '../db/calendar-models';
import { connectMongo, createModels, type ProjectDoc } from '../db/models';
import {
  createSupervisionModels,
  snapshotStages,
  writeSnapshotStages,
  type SupervisionKind,
} from '../db/supervision-models';
import { parseReportFacts, projectFactsOf } from '../domain/supervision';
import { isTerminal } from '../domain/lifecycle';
import { libraryOf, type Stage } from '../domain/project';
import { readToolPaths, repoRoot, startFerretDb } from '../infra/local-stack';
import { freePort, type ManagedProcess } from '../infra/processes';
import { loadPolicy } from '../policy/load';
import { monthlyDispatch, type DispatchReport } from '../reports/dispatch';
import { toCsv, toTables, toXlsx, type AnyReport } from '../reports/export';
import { periodRange } from '../reports/format';
import { overdueList, type OverdueReport } from '../reports/overdue';
import { dataQuality, type DataQualityReport } from '../reports/quality';
import { rankings, type RankingsReport } from '../reports/rankings';
import { libraryRank, type ProjectRecord } from '../reports/source';
import { portfolioTargets } from '../reports/targets';
import { machineCpu, busyShare, resetPeakRss, sampleProcess } from './proc-stats';
import { SyntheticCity, templateCounts, stageAt } from './synthetic-projects';

// ------------------------------------------------------------------------------------------ options

interface Options {
  projects: number;
  json: string | undefined;
  seed: number;
  templates: number;
  batch: number;
  repeat: number;
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
      json: { type: 'string' },
      seed: { type: 'string' },
      templates: { type: 'string' },
      batch: { type: 'string' },
      repeat: { type: 'string' },
    },
    strict: true,
  });
  const projects = intOption('projects', values.projects, 10_000, 1, 200_000);
  return {
    projects,
    json: values.json,
    seed: intOption('seed', values.seed, 1, 0, 2 ** 31 - 1),
    // A template per 4 projects at most, so small runs stay quick; 240 gives dozens per major stage.
    templates: intOption('templates', values.templates, Math.min(240, Math.ceil(projects / 4)), 1, 5000),
    batch: intOption('batch', values.batch, 500, 1, 10_000),
    // Each report and the load/compute split run this many times; the summary shows the median.
    repeat: intOption('repeat', values.repeat, 1, 1, 20),
  };
}

// ------------------------------------------------------------------------------------------ measuring

interface PhaseStats {
  wallMs: number;
  /** Peak resident set of this process during the phase (VmHWM after a reset), bytes. */
  peakRssBytes: number | undefined;
  /** This process's CPU time (user + system) during the phase, seconds. */
  cpuSeconds: number;
  /** FerretDB's CPU time during the phase, seconds. */
  ferretCpuSeconds: number | undefined;
  /** Share of the whole machine (both cores) that was busy, 0..1. */
  machineBusy: number | undefined;
}

class Meter {
  /** Peak RSS over all phases: resetting VmHWM per phase also resets getrusage's maxRSS, so it is kept here. */
  peakRssBytes = 0;
  constructor(private readonly ferretPid: number | undefined) {}

  async measure<T>(fn: () => Promise<T> | T): Promise<{ value: T; stats: PhaseStats }> {
    resetPeakRss(process.pid);
    const ferretBefore = this.ferretPid === undefined ? undefined : sampleProcess(this.ferretPid);
    const cpuBefore = machineCpu();
    const ownBefore = process.cpuUsage();
    const t0 = performance.now();
    const value = await fn();
    const wallMs = performance.now() - t0;
    const own = process.cpuUsage(ownBefore);
    const ferretAfter = this.ferretPid === undefined ? undefined : sampleProcess(this.ferretPid);
    const peakRssBytes = sampleProcess(process.pid)?.peakRssBytes;
    this.peakRssBytes = Math.max(this.peakRssBytes, peakRssBytes ?? 0);
    return {
      value,
      stats: {
        wallMs,
        peakRssBytes,
        cpuSeconds: (own.user + own.system) / 1e6,
        ferretCpuSeconds:
          ferretBefore && ferretAfter ? ferretAfter.cpuSeconds - ferretBefore.cpuSeconds : undefined,
        machineBusy: busyShare(cpuBefore, machineCpu()),
      },
    };
  }
}

/** The run with the median wall time (the lower one of an even count). */
function median(runs: PhaseStats[]): PhaseStats {
  const sorted = [...runs].sort((a, b) => a.wallMs - b.wallMs);
  const m = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!m) throw new Error('no runs');
  return m;
}

/** "(3 runs 4.10–5.02 s)" when a phase ran more than once. */
function spread(runs: PhaseStats[]): string {
  if (runs.length < 2) return '';
  const ms = runs.map((r) => r.wallMs);
  return `(${runs.length} runs ${(Math.min(...ms) / 1000).toFixed(2)}–${(Math.max(...ms) / 1000).toFixed(2)} s)`;
}

/**
 * How the monthly report's time splits. Wall times move with the machine's load (other benchmarks share the two
 * cores), so the split is given in CPU seconds too: FerretDB serving the read, this process decoding and computing.
 */
function splitLines(
  report: PhaseStats,
  load: PhaseStats,
  computeCpuSeconds: number,
  repeat: number,
  loadAvg: number[],
): string[] {
  const total = report.cpuSeconds + (report.ferretCpuSeconds ?? 0);
  const reading = load.cpuSeconds + (load.ferretCpuSeconds ?? 0);
  const pure = computeCpuSeconds;
  const pct = (x: number) => `${((100 * x) / total).toFixed(0)} %`;
  const rest = total - reading - pure;
  const cpu = (st: PhaseStats) =>
    `FerretDB ${(st.ferretCpuSeconds ?? NaN).toFixed(1)} s + this process ${st.cpuSeconds.toFixed(1)} s`;
  return [
    `monthly report: ${secs(report.wallMs)} wall; CPU ${cpu(report)}` +
      (repeat > 1 ? ` (medians of ${repeat} runs)` : ' (one run each; --repeat for medians)'),
    `  ProjectFacts.find({}).lean() and parsing alone: ${secs(load.wallMs)} wall; CPU ${cpu(load)}`,
    `  of the report's ${total.toFixed(1)} CPU seconds: reading the projects' facts ${pct(Math.min(reading, total))}, ` +
      `the pure report functions ${pure.toFixed(2)} s (${pct(pure)}), the rest (calendar, blockers, previous ` +
      `stages, snapshot write) ` +
      // Separate runs differ by a few % in CPU too; a negative remainder is that noise, not a measurement.
      (rest >= 0 ? pct(rest) : `within the noise (the separate read took ${pct(-rest)} more)`) +
      `; load average at start ${loadAvg.map((l) => l.toFixed(2)).join(' ')}`,
  ];
}

/** Accumulates the stats of many small steps (batches) into one phase. */
function addStats(a: PhaseStats | undefined, b: PhaseStats): PhaseStats {
  if (!a) return { ...b };
  const max = (x: number | undefined, y: number | undefined) =>
    x === undefined ? y : y === undefined ? x : Math.max(x, y);
  return {
    wallMs: a.wallMs + b.wallMs,
    peakRssBytes: max(a.peakRssBytes, b.peakRssBytes),
    cpuSeconds: a.cpuSeconds + b.cpuSeconds,
    ferretCpuSeconds:
      a.ferretCpuSeconds === undefined || b.ferretCpuSeconds === undefined
        ? undefined
        : a.ferretCpuSeconds + b.ferretCpuSeconds,
    machineBusy: undefined, // not meaningful summed over steps with gaps between them
  };
}

const failures: string[] = [];
/** A benchmark that silently measures nothing is worthless: every check that fails is reported and fails the run. */
function check(ok: boolean, what: string): void {
  if (!ok) failures.push(what);
}
function checkEqual(actual: unknown, expected: unknown, what: string): void {
  check(
    JSON.stringify(actual) === JSON.stringify(expected),
    `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
  );
}

const mib = (b: number | undefined) => (b === undefined ? '—' : `${(b / 1048576).toFixed(0)} MiB`);
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const kib = (b: number) =>
  b >= 1048576 ? `${(b / 1048576).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`;

// ------------------------------------------------------------------------------------------ the stack

interface Stack {
  dir: string;
  ferret: ManagedProcess;
  conn: Connection;
}

const stack: Partial<Stack> = {};

async function startStack(): Promise<Stack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pp-bench-report-'));
  stack.dir = dir;
  const tools = readToolPaths(path.join(repoRoot(), 'data', 'tools.json'), {
    temporal: process.env.TEMPORAL_CLI_PATH,
    ferretdb: process.env.FERRETDB_PATH,
    ferretdbIdIndex: process.env.FERRETDB_ID_INDEX_PATH,
  });
  const port = await freePort();
  const ferret = await startFerretDb({
    binary: tools.ferretdb,
    idIndexer: tools.ferretdbIdIndex,
    host: '127.0.0.1',
    port,
    dataDir: path.join(dir, 'ferretdb'),
    output: { logFile: path.join(dir, 'ferretdb.log') },
  });
  stack.ferret = ferret;
  if (stopped) {
    await ferret.stop(); // a signal came while it was starting: the stop already ran without it
    throw new Error('interrupted');
  }
  const conn = await connectMongo(`mongodb://127.0.0.1:${port}/bench_report`);
  stack.conn = conn;
  return { dir, ferret, conn };
}

let stopped: Promise<void> | undefined;
/** Once only: a signal and the end of main() both stop the stack, and both must wait for the same stop. */
function stopStack(): Promise<void> {
  stopped ??= (async () => {
    const { conn, ferret, dir } = stack;
    await conn?.close().catch((err: unknown) => console.error(`closing the connection: ${String(err)}`));
    await ferret?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  })();
  return stopped;
}

function bytesUnder(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? bytesUnder(p) : statSync(p).size;
  }
  return total;
}

// ------------------------------------------------------------------------------------------ main

const TABLES = ['dispatch', 'overdue', 'rankings', 'dataQuality', 'targets'] as const;

async function main(): Promise<number> {
  const opts = options(process.argv.slice(2));
  const loadAvgStart = os.loadavg();
  const cpus = os.cpus();
  console.log(
    `monthly-report: ${opts.projects} projects, ${opts.templates} templates, seed ${opts.seed}; ` +
      `${cpus.length} CPUs (${cpus[0]?.model ?? '?'}), node ${process.version}; ` +
      `load average at start ${loadAvgStart.map((l) => l.toFixed(2)).join(' ')}`,
  );
  const policy = loadPolicy();
  const s = await startStack();
  const meter = new Meter(s.ferret.child.pid);
  const models = createModels(s.conn);
  const calendarModels = createCalendarModels(s.conn);
  const supervisionModels = createSupervisionModels(s.conn);
  const activities = createSupervisionActivities({ models, calendarModels, supervisionModels, policy });

  // The periods a run today would report on: this month, this quarter, this year (Asia/Shanghai).
  const now = Date.now();
  const today = shanghaiDayOf(now);
  const month = today.slice(0, 7);
  const quarter = `${today.slice(0, 4)}-Q${Math.ceil(Number(today.slice(5, 7)) / 3)}`;
  const year = today.slice(0, 4);
  const periods: [SupervisionKind, string][] = [
    ['MONTHLY_DISPATCH', month],
    ['QUARTERLY_BULLETIN', quarter],
    ['ANNUAL_ASSESSMENT', year],
  ];
  const monthRange = periodRange(parsePeriod(month));

  // ---------------------------------------------------------------------------------------- (a) seeding
  console.log(`seeding into FerretDB (${s.dir}) …`);
  const templates = await meter.measure(() => new SyntheticCity(policy, opts.seed, now, opts.templates));
  const city = templates.value;
  const expected = {
    stages: {} as Record<string, number>,
    libraries: { 谋划: 0, 储备: 0, 前期: 0, 实施: 0 } as Record<string, number>,
    newInMonth: 0,
    missingLeader: 0,
    openDueAts: [] as number[],
    blockerSpans: [] as { raisedAt: number; closedAt: number | null }[],
    bytes: 0,
    factsBytes: 0,
  };
  // The previous monthly snapshot of each period holds the stage of every project at the period's start.
  const stagesAtStart = periods.map(
    ([, p]): { snapshotMonth: string; startMs: number; stages: Record<string, Stage> } => ({
      snapshotMonth: monthBefore(p),
      startMs: periodRange(parsePeriod(p)).startMs,
      stages: {},
    }),
  );
  const monthConversion = { converted: 0 };
  let build: PhaseStats | undefined;
  let insert: PhaseStats | undefined;
  let factsInsert: PhaseStats | undefined;
  let blockerInsert: PhaseStats | undefined;
  let blockerCount = 0;
  const seedNow = new Date(now);
  for (let from = 0; from < opts.projects; from += opts.batch) {
    const built = await meter.measure(() => {
      const docs: Record<string, unknown>[] = [];
      const facts: Record<string, unknown>[] = [];
      const blockers: Record<string, unknown>[] = [];
      for (let i = from; i < Math.min(opts.projects, from + opts.batch); i++) {
        const p = city.project(i);
        const doc = { _id: p.variation.id, ...projectRecordOf(p.snapshot, p.template.seq, seedNow) };
        docs.push(doc);
        facts.push({ _id: doc._id, ...projectFactsOf(doc) });
        blockers.push(...p.blockers);
        // What the reports must find, from the seeded data itself.
        const stage = p.snapshot.stage;
        expected.stages[stage] = (expected.stages[stage] ?? 0) + 1;
        const lib = libraryOf(stage);
        if (lib in expected.libraries) expected.libraries[lib]! += 1;
        if (p.snapshot.createdAt >= monthRange.startMs) expected.newInMonth += 1;
        if (!isTerminal(stage) && !p.variation.leader) expected.missingLeader += 1;
        expected.openDueAts.push(...p.template.openDueAts);
        for (const b of p.blockers)
          expected.blockerSpans.push({
            raisedAt: (b.raisedAt as Date).getTime(),
            closedAt: b.closedAt instanceof Date ? b.closedAt.getTime() : null,
          });
        for (const at of stagesAtStart) {
          const st = stageAt(p.template, at.startMs);
          if (st) at.stages[p.variation.id] = st;
        }
        const start = stagesAtStart[0]!.stages[p.variation.id] ?? 'DRAFT'; // created in the month: DRAFT
        const [from_, to] = [libraryRank(start), libraryRank(stage)];
        if (from_ >= 0 && from_ <= 2 && to > from_) monthConversion.converted += 1;
        expected.bytes += JSON.stringify(doc).length;
        expected.factsBytes += (facts[facts.length - 1]!.facts as string).length;
      }
      return { docs, facts, blockers };
    });
    build = addStats(build, built.stats);
    const wrote = await meter.measure(() => models.Project.insertMany(built.value.docs, { ordered: true }));
    insert = addStats(insert, wrote.stats);
    const wroteFacts = await meter.measure(() =>
      models.ProjectFacts.insertMany(built.value.facts, { ordered: true }),
    );
    factsInsert = addStats(factsInsert, wroteFacts.stats);
    if (built.value.blockers.length > 0) {
      const b = await meter.measure(() => models.Blocker.insertMany(built.value.blockers, { ordered: true }));
      blockerInsert = addStats(blockerInsert, b.stats);
      blockerCount += built.value.blockers.length;
    }
    process.stdout.write(`\r  ${Math.min(opts.projects, from + opts.batch)} / ${opts.projects} projects`);
  }
  process.stdout.write('\n');
  for (const at of stagesAtStart) {
    // Only the stage map of the previous snapshot is read (for conversions); the rest marks it as seeded.
    const id = `MONTHLY_DISPATCH:${at.snapshotMonth}`;
    await writeSnapshotStages(supervisionModels, id, at.stages);
    await supervisionModels.ReportSnapshot.updateOne(
      { _id: `MONTHLY_DISPATCH:${at.snapshotMonth}` },
      {
        $setOnInsert: {
          kind: 'MONTHLY_DISPATCH',
          period: at.snapshotMonth,
          policyVersion: policy.version,
          dataAsOf: new Date(at.startMs - 1),
          createdAt: new Date(at.startMs - 1),
          projectCount: Object.keys(at.stages).length,
          report: { seededBy: 'bench/monthly-report.ts' },
        },
      },
      { upsert: true },
    );
  }
  const stored = await models.Project.countDocuments({});
  checkEqual(await models.ProjectFacts.countDocuments({}), opts.projects, 'project facts stored');
  const storedBlockers = await models.Blocker.countDocuments({});
  checkEqual(stored, opts.projects, 'projects stored');
  checkEqual(storedBlockers, blockerCount, 'blockers stored');
  check(blockerCount > 0, 'some blockers were seeded');
  const dbBytes = bytesUnder(path.join(s.dir, 'ferretdb'));
  const liveCount = Object.values(expected.libraries).reduce((a, b) => a + b, 0);
  console.log(
    `  stages ${JSON.stringify(expected.stages)}; ${blockerCount} blockers; ` +
      `${kib(expected.bytes / opts.projects)} per project document (JSON), ` +
      `${kib(expected.factsBytes / opts.projects)} of report facts, FerretDB files ${mib(dbBytes)}`,
  );

  // ---------------------------------------------------------------------------------------- (b), (c) reports
  const reports: {
    kind: SupervisionKind;
    period: string;
    stats: PhaseStats; // the median run
    runs: PhaseStats[];
    snapshotBytes: number;
    stagesBytes: number;
  }[] = [];
  for (const [kind, period] of periods) {
    console.log(`computeSupervisionReport ${kind} ${period} …`);
    // The first run stores the snapshot; a repeat computes everything again and its upsert changes nothing.
    const runs: PhaseStats[] = [];
    let snapshotId = '';
    for (let r = 0; r < opts.repeat; r++) {
      const run = await meter.measure(() => activities.computeSupervisionReport({ kind, period }));
      runs.push(run.stats);
      snapshotId = run.value.snapshotId;
    }
    const snap = await supervisionModels.ReportSnapshot.findById(snapshotId).lean();
    if (!snap) throw new Error(`no snapshot ${snapshotId} after the run`);
    checkEqual(snap.projectCount, opts.projects, `${kind}: projectCount`);
    const parts = await supervisionModels.SnapshotStages.find({ snapshotId }).lean();
    reports.push({
      kind,
      period,
      stats: median(runs),
      runs,
      snapshotBytes: mongoose.mongo.BSON.calculateObjectSize(snap),
      stagesBytes: parts.reduce((a, x) => a + mongoose.mongo.BSON.calculateObjectSize(x), 0),
    });
    const r = snap.report;
    const asOf = snap.dataAsOf.getTime();
    const overdueExpected = expected.openDueAts.filter((d) => d < asOf).length;
    const overdue = r.overdue as OverdueReport;
    checkEqual(
      overdue.rows.length,
      overdueExpected,
      `${kind}: overdue rows (open tasks past their deadline)`,
    );
    const rk = r.rankings as RankingsReport;
    check(
      rk.departments.length > 0 && rk.counties.length > 0,
      `${kind}: rankings have departments and counties`,
    );
    if (kind === 'MONTHLY_DISPATCH') {
      const d = r.dispatch as DispatchReport;
      const excluded = opts.projects - liveCount; // completed, rejected, withdrawn: out of the four libraries
      checkEqual(d.rows.length, 5, 'dispatch: one row per special group');
      checkEqual(
        d.total.totalProjects,
        opts.projects - excluded,
        'dispatch: total projects = N − completed/out',
      );
      checkEqual(d.total.libraries, expected.libraries, 'dispatch: projects per library');
      checkEqual(
        d.rows.reduce((a, x) => a + x.totalProjects, 0),
        d.total.totalProjects,
        'dispatch: rows add up to the total',
      );
      checkEqual(d.total.newProjects, expected.newInMonth, 'dispatch: new projects this month');
      checkEqual(d.total.converted, monthConversion.converted, 'dispatch: converted this month');
      checkEqual(d.total.overdueTasks, overdueExpected, 'dispatch: overdue tasks');
      const openBlockers = expected.blockerSpans.filter(
        (b) => b.raisedAt <= asOf && (b.closedAt === null || b.closedAt > asOf),
      ).length;
      checkEqual(d.total.openBlockers, openBlockers, 'dispatch: open blockers');
      check(openBlockers > 0, 'dispatch: some blockers are open');
      check(overdueExpected > 0, 'dispatch: some tasks are overdue');
      check(r.stages === undefined, 'dispatch: the stage map is not in the snapshot document');
      checkEqual(
        Object.keys((await snapshotStages(supervisionModels, snapshotId)) ?? {}).length,
        opts.projects,
        'dispatch: stages of all projects stored',
      );
      const q = r.dataQuality as DataQualityReport;
      checkEqual(q.missingLeader.length, expected.missingLeader, 'data quality: projects without a leader');
      check(d.warnings.length === 0, `dispatch: no warnings (got ${d.warnings.slice(0, 3).join('; ')})`);
    }
  }

  // ---------------------------------------------------------------------------------------- (e) load vs compute
  console.log(
    'ProjectFacts.find({}).lean() alone, then the report functions on its result; the full records …',
  );
  const splitOnce = async (compare: boolean) => {
    const load = await meter.measure(async () =>
      (await models.ProjectFacts.find({}).lean()).map(parseReportFacts),
    );
    const docs = load.value;
    checkEqual(docs.length, opts.projects, 'ProjectFacts.find: facts loaded');
    const full = await meter.measure(() => models.Project.find({}).lean());
    const records = full.value as unknown as (ProjectDoc & ProjectRecord)[];
    checkEqual(records.length, opts.projects, 'Project.find: documents loaded');
    // The inputs the activity gathers besides the projects (small: calendar, blockers, previous stages).
    const side = await meter.measure(async () => {
      const { calendar } = await loadWorkCalendar(calendarModels);
      const blockers = await models.Blocker.find({}, { projectId: 1, raisedAt: 1, closedAt: 1 }).lean();
      const spans = blockers.map((b) => ({
        projectId: b.projectId,
        openedAt: b.raisedAt,
        closedAt: b.closedAt ?? undefined,
      }));
      // As the activity reads it: the stage map of last month's snapshot.
      const previousId = `MONTHLY_DISPATCH:${monthBefore(month)}`;
      const stagesAtPeriodStart = (await snapshotStages(supervisionModels, previousId)) ?? {};
      return { calendar, spans, stagesAtPeriodStart };
    });
    const { calendar, spans, stagesAtPeriodStart } = side.value;
    const ctx = { organisations: policy.organisations, period: parsePeriod(month), asOf: new Date() };
    const workingDaysBetween = (a: number, b: number) => {
      try {
        return calendar.workingDaysBetween(a, b);
      } catch {
        return Math.max(0, Math.floor((b - a) / 86_400_000));
      }
    };
    const reporting = { reporting: policy.reporting };
    const history = { stagesAtPeriodStart };
    const monthlyReportDueDay = policy.implementation.monthlyReportDueDay;
    const fns = (input: readonly ProjectRecord[]): [string, () => unknown][] => [
      ['monthlyDispatch', () => monthlyDispatch(input, ctx, { ...history, blockers: spans })],
      ['overdueList', () => overdueList(input, ctx, workingDaysBetween)],
      ['rankings', () => rankings(input, ctx, { ...history, ...reporting, monthlyReportDueDay })],
      ['dataQuality', () => dataQuality(input, ctx)],
      ['portfolioTargets', () => portfolioTargets(input, ctx, reporting)],
    ];
    const compute: Record<string, PhaseStats> = {};
    for (const [name, fn] of fns(docs)) compute[name] = (await meter.measure(fn)).stats;
    // The facts are a slice of the records: every report over them must be exactly the report over the records.
    if (compare) {
      const fromRecords = fns(records);
      for (const [name, fn] of fns(docs)) {
        const same = JSON.stringify(fn()) === JSON.stringify(fromRecords.find(([n]) => n === name)![1]());
        check(same, `${name}: the report over the facts differs from the report over the full records`);
      }
    }
    return { load: load.stats, full: full.stats, side: side.stats, compute };
  };
  const splits: Awaited<ReturnType<typeof splitOnce>>[] = [];
  for (let r = 0; r < opts.repeat; r++) splits.push(await splitOnce(r === 0));
  const load = median(splits.map((x) => x.load));
  const fullLoad = median(splits.map((x) => x.full));
  const side = median(splits.map((x) => x.side));
  const compute = Object.fromEntries(
    Object.keys(splits[0]!.compute).map((k) => [k, median(splits.map((x) => x.compute[k]!))]),
  );
  const computeMs = Object.values(compute).reduce((a, x) => a + x.wallMs, 0);
  const computeCpuSeconds = Object.values(compute).reduce((a, x) => a + x.cpuSeconds, 0);

  // ---------------------------------------------------------------------------------------- (d) export
  console.log('exporting the monthly snapshot …');
  const monthlyId = `MONTHLY_DISPATCH:${month}`;
  const read = await meter.measure(() => supervisionModels.ReportSnapshot.findById(monthlyId).lean());
  const snap = read.value;
  if (!snap) throw new Error(`no snapshot ${monthlyId}`);
  const exports: {
    table: string;
    rows: number;
    xlsx: PhaseStats & { bytes: number };
    csv: PhaseStats & { bytes: number };
  }[] = [];
  for (const table of TABLES) {
    const report = snap.report[table] as AnyReport | undefined;
    if (!report) throw new Error(`${monthlyId} has no table ${table}`);
    const tables = toTables(report);
    const xlsx = await meter.measure(() => toXlsx(report));
    const csv = await meter.measure(() => toCsv(report));
    const rows = tables.reduce((a, t) => a + t.rows.length, 0);
    exports.push({
      table,
      rows,
      xlsx: { ...xlsx.stats, bytes: xlsx.value.length },
      csv: { ...csv.stats, bytes: Buffer.byteLength(csv.value) },
    });
    // The workbook opens, has one sheet per table and each sheet a header plus the JSON table's rows.
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.value as unknown as ArrayBuffer);
    checkEqual(
      wb.worksheets.map((w) => w.name),
      tables.map((t) => t.name),
      `${table}.xlsx: sheets`,
    );
    for (const t of tables) {
      const ws = wb.getWorksheet(t.name);
      checkEqual(ws?.rowCount, t.rows.length + 1, `${table}.xlsx: rows of sheet ${t.name}`);
    }
    const blocks = csv.value
      .replace(/^\uFEFF/, '')
      .replace(/\r\n$/, '')
      .split('\r\n\r\n');
    checkEqual(
      blocks.map((b) => b.split('\r\n').length),
      tables.map((t) => t.rows.length + 2),
      `${table}.csv: lines per table (name, header, rows)`,
    );
    if (table === 'dispatch') {
      const d = report as DispatchReport;
      checkEqual(tables[0]?.rows.length, d.rows.length + 1, 'dispatch table: groups plus the total row');
      const total = wb.getWorksheet(tables[0]?.name ?? '')?.getRow(d.rows.length + 2);
      checkEqual(total?.getCell(8).value, d.total.totalProjects, 'dispatch.xlsx: 项目合计 of the total row');
    }
    if (table === 'overdue')
      checkEqual(tables[0]?.rows.length, (report as OverdueReport).rows.length, 'overdue table: rows');
  }
  const processPeakRss = Math.max(meter.peakRssBytes, process.resourceUsage().maxRSS * 1024);
  const ferretEnd = sampleProcess(s.ferret.child.pid ?? -1);

  // ---------------------------------------------------------------------------------------- summary
  const monthly = reports[0]!;
  const cpuText = (x: number | undefined) => (x === undefined ? '—' : `${x.toFixed(1)} s`);
  const row = (what: string, st: PhaseStats, extra = '') =>
    `${what.padEnd(46)} ${secs(st.wallMs).padStart(9)} ${mib(st.peakRssBytes).padStart(9)} ` +
    `${cpuText(st.cpuSeconds).padStart(9)} ${cpuText(st.ferretCpuSeconds).padStart(9)}  ${extra}`;
  const lines = [
    '',
    `${opts.projects} projects (${liveCount} in the four libraries), ${blockerCount} blockers, ` +
      `${expected.openDueAts.filter((d) => d < now).length} overdue open tasks at seeding; load average at start ` +
      loadAvgStart.map((l) => l.toFixed(2)).join(' '),
    `${'phase'.padEnd(46)} ${'wall'.padStart(9)} ${'peak RSS'.padStart(9)} ${'CPU'.padStart(9)} ` +
      `${'FerretDB'.padStart(9)}   (peak RSS and CPU: this process; FerretDB: its CPU)`,
    row(`seed: drive ${city.templates.length} templates (domain)`, templates.stats),
    row(`seed: build ${opts.projects} documents (copies)`, build!),
    row(`seed: Project.insertMany (batches of ${opts.batch})`, insert!, `${kib(expected.bytes)} JSON`),
    row(`seed: ProjectFacts.insertMany`, factsInsert!, `${kib(expected.factsBytes)} of facts`),
    row(
      `seed: Blocker.insertMany`,
      blockerInsert ?? {
        wallMs: 0,
        peakRssBytes: undefined,
        cpuSeconds: 0,
        ferretCpuSeconds: 0,
        machineBusy: 0,
      },
      `${blockerCount} blockers`,
    ),
    ...reports.map((r) =>
      row(
        `report: ${r.kind} ${r.period}`,
        r.stats,
        `snapshot ${kib(r.snapshotBytes)} BSON` +
          (r.stagesBytes > 0 ? ` + stage map ${kib(r.stagesBytes)}` : '') +
          ` ${spread(r.runs)}`,
      ),
    ),
    row('split: ProjectFacts.find({}).lean() + parse', load, spread(splits.map((x) => x.load))),
    row('split: Project.find({}).lean() (full records)', fullLoad, spread(splits.map((x) => x.full))),
    row('split: calendar, blockers, previous stages', side),
    ...Object.entries(compute).map(([k, v]) => row(`split: ${k} (pure)`, v)),
    row('export: read the monthly snapshot', read.stats),
    ...exports.flatMap((e) => [
      row(`export: ${e.table} → .xlsx (${e.rows} rows)`, e.xlsx, kib(e.xlsx.bytes)),
      row(`export: ${e.table} → .csv`, e.csv, kib(e.csv.bytes)),
    ]),
    '',
    ...splitLines(monthly.stats, load, computeCpuSeconds, opts.repeat, loadAvgStart),
    `process peak RSS ${mib(processPeakRss)}; FerretDB RSS now ${mib(ferretEnd?.rssBytes)}, peak ${mib(ferretEnd?.peakRssBytes)}`,
  ];
  console.log(lines.join('\n'));
  const summary = {
    when: new Date(now).toISOString(),
    machine: { cpus: cpus.length, model: cpus[0]?.model, node: process.version, loadAvgStart },
    options: opts,
    periods: Object.fromEntries(periods.map(([k, p]) => [k, p])),
    data: {
      projects: opts.projects,
      live: liveCount,
      stages: expected.stages,
      templates: city.templates.length,
      templatesPerStage: templateCounts(opts.templates),
      blockers: blockerCount,
      projectJsonBytes: expected.bytes,
      factsJsonBytes: expected.factsBytes,
      ferretDbBytes: dbBytes,
    },
    seeding: { templates: templates.stats, build, insert, factsInsert, blockerInsert },
    reports,
    split: { load, fullLoad, side, compute, computeMs, computeCpuSeconds, runs: splits },
    export: { read: read.stats, tables: exports },
    processPeakRssBytes: processPeakRss,
    ferretDb: ferretEnd,
    checks: { failed: failures },
  };
  if (opts.json) writeFileSync(opts.json, JSON.stringify(summary, null, 2) + '\n');
  if (failures.length > 0) {
    console.error(`\n${failures.length} CHECK(S) FAILED — these figures do not measure what they claim:`);
    for (const f of failures) console.error(`  ✗ ${f}`);
    return 1;
  }
  console.log('all checks passed');
  return 0;
}

let signalled: string | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    if (signalled) return;
    signalled = sig;
    console.error(`\n${sig}: stopping FerretDB`);
    void stopStack().finally(() => process.exit(130));
  });

void main()
  .catch((err: unknown) => {
    // After a signal the run fails because its connection was closed under it: that is expected, not news.
    if (!signalled) console.error(err);
    return 1;
  })
  .then(async (code) => {
    await stopStack();
    process.exit(signalled ? 130 : code);
  });
