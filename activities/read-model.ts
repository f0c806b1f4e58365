import { KeyedLock } from '../db/keyed-lock';
import { isDuplicateKey } from '../db/errors';
import { trailChunkId, trailChunkOf, type Models } from '../db/models';
import { libraryOf } from '../domain/project';
import { projectFactsOf } from '../domain/supervision';
import { blockerIdOfTask, type BlockerSync } from '../domain/blockers';
import type { ReadModelSync, Task } from '../domain/state';

export interface ReadModelDeps {
  models: Models;
}

export function transitionId(projectId: string, seq: number): string {
  return `${projectId}:${seq}`;
}

/** A task's entry in its assignee's inbox (`inbox.<org>`, keyed by the task id). */
function inboxEntry(t: Task, projectId: string, projectName: string) {
  return {
    projectId,
    projectName,
    kind: t.kind,
    title: t.title,
    stage: t.stage,
    tier: t.tier ?? null,
    dueAt: t.deadline ? new Date(t.deadline.dueAt) : null,
    escalationLevel: t.escalationLevel,
    openedAt: new Date(t.openedAt),
    ...(t.kind === 'BLOCKER' ? { blockerId: blockerIdOfTask(projectId, t.key) } : {}),
  };
}

/** The `projects` document of a snapshot: what lists, reports and the API read. */
export function projectRecordOf(snapshot: ReadModelSync['snapshot'], seq: number, now: Date) {
  // details and open tasks are top-level fields; `state` holds the rest once (smaller documents scan faster).
  const { openTasks, details, readers, ...state } = snapshot;
  return {
    seq,
    readers: readers ?? [],
    stage: snapshot.stage,
    library: libraryOf(snapshot.stage),
    policyVersion: snapshot.policyVersion,
    details,
    state,
    openTasks,
    flags: { ...snapshot.details.flags, ...snapshot.flags },
    createdAt: new Date(snapshot.createdAt),
    updatedAt: now,
  };
}

/** The `blockers` document of a blocker: what the per-organisation lists and the dispatch report read. */
export function blockerRecordOf(sync: BlockerSync, now: Date) {
  const { blocker: b } = sync;
  return {
    projectId: sync.projectId,
    projectName: sync.projectName,
    seq: sync.seq,
    number: b.number,
    category: b.category,
    level: b.level,
    responsibleOrg: b.responsibleOrg,
    description: b.description,
    raisedBy: b.raisedBy,
    raisedByOrg: b.raisedBy.org,
    raisedAt: new Date(b.raisedAt),
    status: b.status,
    round: b.round,
    escalationLevel: sync.escalationLevel,
    overdue: sync.overdue,
    openTask: sync.openTask ?? null,
    dueAt: sync.openTask?.deadline ? new Date(sync.openTask.deadline.dueAt) : null,
    resolutions: b.resolutions,
    reopenings: b.reopenings,
    closedAt: b.closedAt === undefined ? null : new Date(b.closedAt),
    closedBy: b.closedBy ?? null,
    updatedAt: now,
  };
}

/**
 * Projects one batch of workflow transitions into Mongo. Every write is an idempotent upsert keyed by a
 * transition id or an entity id, and the project record only moves forward in `seq`, so a retried or
 * replayed activity never duplicates or regresses anything.
 */
export function createReadModelActivities({ models }: ReadModelDeps) {
  const projectLock = new KeyedLock();

  /**
   * Tasks into `tasks` and their assignee's inbox (open → listed, closed → removed). Each document is its own, so
   * they are written side by side: a submission's five tasks cost one round trip's wait, not ten. A task keeps the
   * organisations whose inbox may list it (`listedIn`): one handed to another unit (a revision's new 责任单位)
   * leaves the old unit's inbox, and a retried write still finds the old unit.
   */
  async function writeTasks(projectId: string, projectName: string, seq: number, tasks: Task[], now: Date) {
    await Promise.all(
      tasks.map(async (t) => {
        const inbox = models.inboxOf(t.assigneeOrg);
        const [before] = await Promise.all([
          models.Task.findOneAndUpdate(
            { _id: t.id },
            {
              $set: { projectId, seq, assigneeOrg: t.assigneeOrg, status: t.status, task: t, updatedAt: now },
              $addToSet: { listedIn: t.assigneeOrg },
            },
            { upsert: true, returnDocument: 'before' }, // FerretDB's findAndModify takes no projection
          ).lean(),
          t.status === 'OPEN'
            ? upsertWithRetry(() =>
                inbox.updateOne(
                  { _id: t.id },
                  { $set: inboxEntry(t, projectId, projectName) },
                  { upsert: true },
                ),
              )
            : inbox.deleteOne({ _id: t.id }),
        ]);
        const formerOrgs = [
          ...new Set([...(before?.listedIn ?? []), before?.assigneeOrg ?? t.assigneeOrg]),
        ].filter((org) => org !== t.assigneeOrg);
        if (formerOrgs.length === 0) return;
        await Promise.all(formerOrgs.map((org) => models.inboxOf(org).deleteOne({ _id: t.id })));
        await models.Task.updateOne({ _id: t.id }, { $pullAll: { listedIn: formerOrgs } });
      }),
    );
  }

  /**
   * A trail's entries into its chunks (`events.<seq>`, usually one chunk per wakeup): a retried sync rewrites the
   * same entries, and no write rewrites more than one chunk's worth however long the trail has grown.
   */
  async function writeTrail(trailId: string, projectId: string, events: ReadModelSync['events']) {
    const byChunk = new Map<number, Record<string, unknown>>();
    for (const e of events) {
      const set = byChunk.get(trailChunkOf(e.seq)) ?? {};
      set[`events.${e.seq}`] = {
        projectId,
        seq: e.seq,
        type: e.type,
        at: new Date(e.at),
        actor: e.actor,
        stageBefore: e.stageBefore,
        stageAfter: e.stageAfter,
        requestId: e.requestId,
        data: e.data,
        transitionId: transitionId(trailId, e.seq),
      };
      byChunk.set(trailChunkOf(e.seq), set);
    }
    await Promise.all(
      [...byChunk].map(([chunk, set]) =>
        upsertWithRetry(() =>
          models.TrailChunk.updateOne({ _id: trailChunkId(trailId, chunk) }, { $set: set }, { upsert: true }),
        ),
      ),
    );
  }

  /** Writes `write` unless the stored document is already at `seq` or later (a late retry must not regress it). */
  async function writeIfNewer(
    storedSeq: () => Promise<number | undefined>,
    id: string,
    seq: number,
    insert: () => Promise<unknown>,
    update: () => Promise<unknown>,
  ) {
    // The workflow sends one sync at a time; the lock covers an abandoned attempt still running here. Both
    // filters are `_id` alone: FerretDB evaluates any other filter by decoding every document in Go.
    await projectLock.run(id, async () => {
      const existing = await storedSeq();
      if (existing === undefined) {
        try {
          await insert();
          return;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
        }
      } else if (existing >= seq) return;
      await update();
    });
  }

  return {
    async syncReadModel(sync: ReadModelSync): Promise<void> {
      const { projectId, snapshot } = sync;
      const now = new Date();
      // The audit trail goes into chunks of a few entries keyed by seq: neither one document per event (a flat
      // collection slowed every write as the city's history grew) nor one per project (rewritten whole, and
      // decoded field by field by FerretDB, on every event); see BENCHMARKS.md.
      await Promise.all([
        writeTrail(projectId, projectId, sync.events),
        writeTasks(projectId, snapshot.details.name, sync.seq, sync.tasks, now),
      ]);
      const record = projectRecordOf(snapshot, sync.seq, now);
      // The reports' slim copy goes first, under the record's seq rule: a record that has caught up vouches for it.
      const facts = () =>
        models.ProjectFacts.updateOne(
          { _id: projectId },
          { $set: projectFactsOf({ _id: projectId, ...record }) },
          { upsert: true },
        );
      await writeIfNewer(
        async () => (await models.Project.findById(projectId, { seq: 1 }).lean())?.seq,
        projectId,
        sync.seq,
        async () => {
          await facts();
          await models.Project.create({ _id: projectId, ...record });
        },
        async () => {
          await facts();
          await models.Project.updateOne({ _id: projectId }, { $set: record });
        },
      );
    },

    /** One blocker's record, trail (under the blocker id) and tasks (the responsible org's, the raiser's inbox). */
    async syncBlocker(sync: BlockerSync): Promise<void> {
      const { blocker: b } = sync;
      const now = new Date();
      await writeTrail(b.id, sync.projectId, sync.events);
      await writeTasks(sync.projectId, sync.projectName, sync.seq, sync.tasks, now);
      const record = blockerRecordOf(sync, now);
      await writeIfNewer(
        async () => (await models.Blocker.findById(b.id, { seq: 1 }).lean())?.seq,
        b.id,
        sync.seq,
        () => models.Blocker.create({ _id: b.id, ...record }),
        () => models.Blocker.updateOne({ _id: b.id }, { $set: record }),
      );
    },
  };
}

/** Two first upserts of one document race to insert it; the loser retries as an update. */
async function upsertWithRetry<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return fn();
  }
}
