import { projectFactsOf, REPORT_FACTS_VERSION } from '../domain/supervision';
import type { Models } from './models';

/**
 * Makes the read model ready for this release before the worker writes to it: the indexes MongoDB lists inboxes
 * by (the models do not build indexes on their own), the pre-0.5 inbox documents moved to `inboxItems`, and the
 * report facts of projects recorded before they existed. Idempotent; run at worker start, before the worker
 * takes tasks.
 */
export async function prepareReadModel(
  models: Models,
): Promise<{ migratedInboxItems: number; backfilledReportFacts: number }> {
  await models.InboxItem.createIndexes();
  const migratedInboxItems = await migrateLegacyInboxes(models);
  // The backfill reads every project record (FerretDB decodes each in full; so would counting them): once per shape.
  const done = await models.ReadModelMigration.findById(REPORT_FACTS_MIGRATION).lean();
  let backfilledReportFacts = 0;
  if (done?.version !== REPORT_FACTS_VERSION) {
    backfilledReportFacts = await backfillReportFacts(models);
    await models.ReadModelMigration.updateOne(
      { _id: REPORT_FACTS_MIGRATION },
      { $set: { version: REPORT_FACTS_VERSION, at: new Date(), written: backfilledReportFacts } },
      { upsert: true },
    );
  }
  return { migratedInboxItems, backfilledReportFacts };
}

const REPORT_FACTS_MIGRATION = 'projectFacts';

/**
 * Writes the report facts (`projectFacts`) of every project record that has none, or has them in an older shape
 * or at an older seq. A missing one is only inserted, never over facts a sync wrote meanwhile; an outdated one is
 * overwritten (a sync racing it rewrites them at its next transition). Returns how many were written.
 */
export async function backfillReportFacts(models: Models): Promise<number> {
  const known = new Map((await models.ProjectFacts.find({}, { seq: 1, v: 1 }).lean()).map((f) => [f._id, f]));
  let written = 0;
  for await (const record of models.Project.find({}).lean().cursor()) {
    const facts = known.get(record._id);
    if (facts && facts.v === REPORT_FACTS_VERSION && facts.seq >= record.seq) continue;
    const doc = projectFactsOf(record);
    await models.ProjectFacts.updateOne({ _id: record._id }, facts ? { $set: doc } : { $setOnInsert: doc }, {
      upsert: true,
    });
    written += 1;
  }
  return written;
}

/**
 * Moves each organisation's pre-0.5 inbox document (its open tasks keyed by task id) to one `inboxItems` document
 * per task, then removes it. An entry is moved only while its task is still open in `tasks`, and never over an
 * entry the new code has already written (that one is newer).
 */
export async function migrateLegacyInboxes(models: Models): Promise<number> {
  let moved = 0;
  for (const legacy of await models.Inbox.find({}).lean()) {
    for (const [taskId, entry] of Object.entries(legacy.open ?? {})) {
      const task = await models.Task.findById(taskId, { status: 1 }).lean();
      if (task && task.status !== 'OPEN') continue;
      const { taskId: _taskId, ...fields } = entry as { taskId?: string } & Record<string, unknown>;
      const res = await models.InboxItem.updateOne(
        { _id: taskId },
        { $setOnInsert: { ...fields, org: legacy._id } },
        { upsert: true },
      );
      moved += res.upsertedCount;
    }
    await models.Inbox.deleteOne({ _id: legacy._id });
  }
  return moved;
}
