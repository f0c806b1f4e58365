import { KeyedLock } from '../db/keyed-lock';
import type { Models } from '../db/models';
import { libraryOf } from '../domain/project';
import type { ReadModelSync, Task } from '../domain/state';

export interface ReadModelDeps {
  models: Models;
}

export function transitionId(projectId: string, seq: number): string {
  return `${projectId}:${seq}`;
}

function inboxEntry(t: Task, projectId: string, projectName: string) {
  return {
    taskId: t.id,
    projectId,
    projectName,
    kind: t.kind,
    title: t.title,
    stage: t.stage,
    tier: t.tier ?? null,
    dueAt: t.deadline ? new Date(t.deadline.dueAt) : null,
    escalationLevel: t.escalationLevel,
    openedAt: new Date(t.openedAt),
  };
}

/**
 * Projects one batch of workflow transitions into Mongo. Every write is an idempotent upsert keyed by a
 * transition id or an entity id, and the project record only moves forward in `seq`, so a retried or
 * replayed activity never duplicates or regresses anything.
 */
export function createReadModelActivities({ models }: ReadModelDeps) {
  const inboxLock = new KeyedLock();
  const projectLock = new KeyedLock();
  return {
    async syncReadModel(sync: ReadModelSync): Promise<void> {
      const { projectId, snapshot } = sync;
      const now = new Date();
      // The audit trail is one document per project, keyed by seq: a retried sync rewrites the same entries.
      // (A flat collection with one document per event made every write slower as the city's history grew:
      // FerretDB on SQLite scans the whole table for each `_id`, see BENCHMARKS.md.)
      const eventLogSet: Record<string, unknown> = {};
      for (const e of sync.events) {
        eventLogSet[`events.${e.seq}`] = {
          projectId,
          seq: e.seq,
          type: e.type,
          at: new Date(e.at),
          actor: e.actor,
          stageBefore: e.stageBefore,
          stageAfter: e.stageAfter,
          requestId: e.requestId,
          data: e.data,
          transitionId: transitionId(projectId, e.seq),
        };
      }
      if (sync.events.length > 0) {
        await models.EventLog.updateOne({ _id: projectId }, { $set: eventLogSet }, { upsert: true });
      }
      for (const t of sync.tasks) {
        await models.Task.updateOne(
          { _id: t.id },
          {
            $set: {
              projectId,
              seq: sync.seq,
              assigneeOrg: t.assigneeOrg,
              status: t.status,
              task: t,
              updatedAt: now,
            },
          },
          { upsert: true },
        );
        const inboxUpdate =
          t.status === 'OPEN'
            ? { $set: { [`open.${t.id}`]: inboxEntry(t, projectId, snapshot.details.name) } }
            : { $unset: { [`open.${t.id}`]: '' } };
        // An organisation's inbox is shared by all its projects: one writer at a time (see KeyedLock).
        await inboxLock.run(t.assigneeOrg, () =>
          upsertWithRetry(() =>
            models.Inbox.updateOne({ _id: t.assigneeOrg }, inboxUpdate, { upsert: true }),
          ),
        );
      }
      // details and open tasks are top-level fields; `state` holds the rest once (smaller documents scan faster).
      const { openTasks, details, ...state } = snapshot;
      const record = {
        seq: sync.seq,
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
      // Insert if absent, else overwrite only when this sync is newer (a late retry must not regress it).
      // The workflow sends one sync at a time; the lock covers an abandoned attempt still running here. Both
      // filters are `_id` alone: FerretDB evaluates any other filter by decoding every document in Go.
      await projectLock.run(projectId, async () => {
        const existing = await models.Project.findById(projectId, { seq: 1 }).lean();
        if (!existing) {
          try {
            await models.Project.create({ _id: projectId, ...record });
            return;
          } catch (err) {
            if (!isDuplicateKey(err)) throw err;
          }
        } else if (existing.seq >= sync.seq) return;
        await models.Project.updateOne({ _id: projectId }, { $set: record });
      });
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

function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === 11000;
}
