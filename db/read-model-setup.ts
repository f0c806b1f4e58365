import type { Models } from './models';

/**
 * Makes the read model ready for this release before the worker writes to it: the indexes MongoDB lists inboxes
 * by (the models do not build indexes on their own), and the pre-0.5 inbox documents moved to `inboxItems`.
 * Idempotent; run at worker start, before the worker takes tasks.
 */
export async function prepareReadModel(models: Models): Promise<{ migratedInboxItems: number }> {
  await models.InboxItem.createIndexes();
  return { migratedInboxItems: await migrateLegacyInboxes(models) };
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
