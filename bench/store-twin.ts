/**
 * The store twin of `bench:api` (a script part, not a test): the read-model writes one decision costs, made by the
 * MongoDB driver alone — no Temporal, no worker, no code of ours — on the same FerretDB, at the same concurrency.
 *
 * Its documents are copies of the app's own (a decided project's record, facts, task, inbox entry and trail
 * chunk, read after the app's run), so they have the app's sizes and shapes. For each decision it does what
 * `writeProjectWakeup` does for a decision that does not close the screening, in the same order: the trail
 * chunk's new entry, the task (find-and-modify) and the inbox entry's removal side by side; then the record's seq
 * read; then the facts; then the record. What it measures is the floor the read model puts under a decision on
 * this machine's FerretDB, whatever Temporal and our code do.
 */
import type { Db } from 'mongodb';
import type { Models } from '../db/models';
import { trailChunkId } from '../db/models';
import { cpuWindow, summarize, type CpuWindow, type LatencySummary } from './api-stats';
import { lanes } from './twin';

export interface StoreTwinOptions {
  /** The app's models: the templates are read from them. */
  models: Models;
  /** A database of its own on the same FerretDB (dropped after). */
  db: Db;
  /** A project the app decided: its documents are the templates. */
  templateProjectId: string;
  projects: number;
  decisions: number;
  concurrency: number;
  pids: Record<string, number | undefined>;
}

export interface StoreTwinResult {
  count: number;
  wallSeconds: number;
  throughputPerSecond: number;
  write: LatencySummary | undefined;
  cpu: CpuWindow;
  shape: string;
}

export async function runStoreTwin(o: StoreTwinOptions): Promise<StoreTwinResult> {
  const id = o.templateProjectId;
  const [record, facts, tasks, chunk] = await Promise.all([
    o.models.Project.findById(id).lean(),
    o.models.ProjectFacts.findById(id).lean(),
    o.models.Task.find({ projectId: id }).lean(),
    o.models.TrailChunk.findById(trailChunkId(id, 0)).lean(),
  ]);
  const task = tasks[0];
  const event = Object.values(chunk?.events ?? {})[0];
  if (!record || !facts || !task || !event) throw new Error(`store twin: no documents of ${id} to copy`);
  const { _id: _r, ...recordFields } = record;
  const { _id: _f, ...factsFields } = facts;
  const { _id: _t, ...taskFields } = task;
  const inboxEntry = {
    projectId: id,
    projectName: typeof record.details.name === 'string' ? record.details.name : '',
    kind: 'REVIEW',
    title: '部门初审',
    stage: record.stage,
    tier: 1,
    dueAt: new Date(),
    escalationLevel: 0,
    openedAt: new Date(),
  };
  const col = {
    projects: o.db.collection<{ _id: string; seq: number }>('projects'),
    facts: o.db.collection<{ _id: string }>('projectFacts'),
    tasks: o.db.collection<{ _id: string }>('tasks'),
    inbox: o.db.collection<{ _id: string }>('inbox.twin'),
    trail: o.db.collection<{ _id: string }>('trailChunks'),
  };
  const pid = (p: number) => `S${p}`;
  const tid = (i: number) => `S${i % o.projects}~T${Math.floor(i / o.projects)}`;
  // Set-up (not timed): the projects as the app holds them before the decisions, with one open task per decision.
  for (let p = 0; p < o.projects; p += 50) {
    const ps = Array.from({ length: Math.min(50, o.projects - p) }, (_, k) => p + k);
    await col.projects.insertMany(ps.map((q) => ({ ...recordFields, _id: pid(q), seq: 1 })));
    await col.facts.insertMany(ps.map((q) => ({ ...factsFields, _id: pid(q) })));
    await col.trail.insertMany(ps.map((q) => ({ _id: trailChunkId(pid(q), 0), events: { 1: event } })));
  }
  for (let i = 0; i < o.decisions; i += 50) {
    const is = Array.from({ length: Math.min(50, o.decisions - i) }, (_, k) => i + k);
    await col.tasks.insertMany(is.map((k) => ({ ...taskFields, _id: tid(k) })));
    await col.inbox.insertMany(is.map((k) => ({ ...inboxEntry, _id: tid(k) })));
  }
  // The dev stack's index helper gives new tables their `_id` index within a second (infra/local-stack.ts): let it.
  await new Promise((resolve) => setTimeout(resolve, 4_000));
  const seqOf = new Map<number, number>();
  const latencies: number[] = [];
  const endCpu = cpuWindow(o.pids);
  const t0 = performance.now();
  await lanes(o.decisions, o.concurrency, async (i) => {
    const p = i % o.projects;
    const seq = (seqOf.get(p) ?? 1) + 1;
    seqOf.set(p, seq);
    const start = performance.now();
    await Promise.all([
      col.trail.updateOne(
        { _id: trailChunkId(pid(p), 0) },
        { $set: { [`events.${seq}`]: { ...event, seq, at: new Date() } } },
        { upsert: true },
      ),
      col.tasks.findOneAndUpdate(
        { _id: tid(i) },
        { $set: { ...taskFields, status: 'DONE', seq, updatedAt: new Date() } },
        { upsert: true, returnDocument: 'before' },
      ),
      col.inbox.deleteOne({ _id: tid(i) }),
    ]);
    const stored = await col.projects.findOne({ _id: pid(p) }, { projection: { seq: 1 } });
    if (!stored || stored.seq < seq) {
      await col.facts.updateOne({ _id: pid(p) }, { $set: { ...factsFields, seq } }, { upsert: true });
      await col.projects.updateOne(
        { _id: pid(p) },
        { $set: { ...recordFields, seq, updatedAt: new Date() } },
      );
    }
    latencies.push(performance.now() - start);
  });
  const wallSeconds = Math.round((performance.now() - t0) / 10) / 100;
  const cpu = endCpu();
  await o.db.dropDatabase();
  return {
    count: o.decisions,
    wallSeconds,
    throughputPerSecond: Math.round((o.decisions / wallSeconds) * 10) / 10,
    write: summarize(latencies),
    cpu,
    shape:
      "a decision's read-model writes (trail chunk entry, task find-and-modify and inbox removal side by side; " +
      "record seq read; facts; record), with copies of the app's documents, by the driver alone",
  };
}
