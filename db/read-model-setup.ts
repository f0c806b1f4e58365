import { projectFactsOf, REPORT_FACTS_VERSION } from '../domain/supervision';
import type { Models, ProjectFactsDoc } from './models';

/**
 * Makes the read model ready for this release before the worker writes to it: the indexes MongoDB lists inboxes
 * by (the models do not build indexes on their own), the inbox entries of earlier releases moved to their organisation's
 * inbox collection, and the
 * report facts of projects recorded before they existed. Idempotent; run at worker start, before the worker
 * takes tasks.
 */
export async function prepareReadModel(
  models: Models,
): Promise<{ migratedInboxItems: number; backfilledReportFacts: number }> {
  // The 0.5–1.1 entries first: they are newer than any pre-0.5 copy of the same task.
  const migratedInboxItems =
    (await moveInboxItemsToOrgInboxes(models)) + (await migrateLegacyInboxes(models));
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
 * or at an older seq, never leaving older facts over newer ones a sync wrote meanwhile (see writeFactsUnlessNewer).
 * Returns how many it wrote.
 */
export async function backfillReportFacts(models: Models): Promise<number> {
  const known = new Map((await models.ProjectFacts.find({}, { seq: 1, v: 1 }).lean()).map((f) => [f._id, f]));
  let written = 0;
  for await (const record of models.Project.find({}).lean().cursor()) {
    const facts = known.get(record._id);
    if (facts && facts.v === REPORT_FACTS_VERSION && facts.seq >= record.seq) continue;
    if (await writeFactsUnlessNewer(models, record._id, projectFactsOf(record))) written += 1;
  }
  return written;
}

type FactsFields = Omit<ProjectFactsDoc, '_id'>;

/** Facts of this version at a later seq: what a sync wrote after the record they are compared with. */
function newerFacts(stored: FactsFields, than: FactsFields): boolean {
  return stored.v === REPORT_FACTS_VERSION && stored.seq > than.seq;
}

/**
 * Writes one project's facts, derived from a record read a while ago: a sync may have written newer facts since.
 * The write is keyed by `_id` alone and returns what it replaced; newer facts it replaced are put back (again by
 * a write that returns what it replaced, should yet newer ones have come meanwhile). A filter on `seq` would
 * make each write decode the whole collection on FerretDB, which evaluates any filter but `_id` equality in Go
 * (~100 ms a write at 2,000 projects). On MongoDB the swap is atomic; FerretDB 1.24 reads and then writes the
 * document, so a sync landing between the two goes unseen, as it would under a filtered update there.
 * True when `doc` stays written.
 */
async function writeFactsUnlessNewer(models: Models, projectId: string, doc: FactsFields): Promise<boolean> {
  let write = doc;
  for (;;) {
    const replaced = await models.ProjectFacts.findOneAndUpdate(
      { _id: projectId },
      { $set: write },
      { upsert: true, returnDocument: 'before' },
    ).lean();
    if (!replaced || !newerFacts(replaced, write)) return write === doc;
    write = { seq: replaced.seq, v: replaced.v, facts: replaced.facts };
  }
}

/**
 * Moves the 0.5–1.1 inbox (`inboxItems`: every organisation's open tasks in one collection, which FerretDB scans
 * whole to list one organisation's) to each organisation's own collection, entry by entry: copied unless the new
 * code has already written it (that one is newer), then removed. A worker stopped half-way moves the rest next
 * start. Returns how many it copied.
 */
export async function moveInboxItemsToOrgInboxes(models: Models): Promise<number> {
  let moved = 0;
  for (const { _id, org, ...entry } of await models.InboxItem.find({}).lean()) {
    const res = await models.inboxOf(org).updateOne({ _id }, { $setOnInsert: entry }, { upsert: true });
    moved += res.upsertedCount;
    await models.Task.updateOne({ _id }, { $addToSet: { listedIn: org } });
    await models.InboxItem.deleteOne({ _id });
  }
  return moved;
}

/**
 * Moves each organisation's pre-0.5 inbox document (its open tasks keyed by task id) to one document per task in
 * its inbox collection, then removes it. An entry is moved only while its task is still open in `tasks`, and never
 * over an entry the new code has already written (that one is newer).
 */
export async function migrateLegacyInboxes(models: Models): Promise<number> {
  let moved = 0;
  for (const legacy of await models.Inbox.find({}).lean()) {
    for (const [taskId, entry] of Object.entries(legacy.open ?? {})) {
      const task = await models.Task.findById(taskId, { status: 1 }).lean();
      if (task && task.status !== 'OPEN') continue;
      const { taskId: _taskId, ...fields } = entry as { taskId?: string } & Record<string, unknown>;
      const res = await models
        .inboxOf(legacy._id)
        .updateOne({ _id: taskId }, { $setOnInsert: fields }, { upsert: true });
      moved += res.upsertedCount;
    }
    await models.Inbox.deleteOne({ _id: legacy._id });
  }
  return moved;
}
