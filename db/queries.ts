import { INBOX_COLLECTION_PREFIX, type EventLogDoc, type InboxEntryDoc, type Models } from './models';

/** An inbox entry as the API lists it: the stored entry, named by its task id. */
export type InboxItem = Omit<InboxEntryDoc, '_id'> & { taskId: string };

/** One organisation's open tasks, earliest deadline first (tasks without a deadline last): its own collection. */
export async function inboxOf(models: Models, org: string): Promise<InboxItem[]> {
  const docs = await models.inboxOf(org).find({}).lean();
  const items: InboxItem[] = docs.map(({ _id, ...entry }) => ({ taskId: _id, ...entry }));
  const due = (i: InboxItem) => (i.dueAt ? new Date(i.dueAt).getTime() : Number.MAX_SAFE_INTEGER);
  return items.sort(
    (a, b) => due(a) - due(b) || new Date(a.openedAt).getTime() - new Date(b.openedAt).getTime(),
  );
}

/** One entry of a project's audit trail, as stored in its event log. */
export type AuditEvent = EventLogDoc['events'][string];

/** The organisations that have an inbox collection (one was written to at least once). */
export async function inboxOrgs(models: Models): Promise<string[]> {
  const db = models.Project.db.db;
  if (!db) throw new Error('Mongo connection not open');
  const cols = await db.listCollections({}, { nameOnly: true }).toArray();
  return cols
    .map((c) => c.name)
    .filter((name) => name.startsWith(INBOX_COLLECTION_PREFIX))
    .map((name) => name.slice(INBOX_COLLECTION_PREFIX.length))
    .sort();
}

/** Every organisation's inbox entries with their organisation: for checkers and benchmarks, never a request. */
export async function allInboxEntries(models: Models): Promise<(InboxEntryDoc & { org: string })[]> {
  const perOrg = await Promise.all(
    (await inboxOrgs(models)).map(async (org) =>
      (await models.inboxOf(org).find({}).lean()).map((e) => ({ ...e, org })),
    ),
  );
  return perOrg.flat();
}

/** One project's audit trail in order: one `_id` lookup. */
export async function auditTrailOf(models: Models, projectId: string): Promise<AuditEvent[]> {
  const doc = await models.EventLog.findById(projectId).lean();
  return Object.values(doc?.events ?? {}).sort((a, b) => a.seq - b.seq);
}
