import type { EventLogDoc, InboxItemDoc, Models } from './models';

/** An inbox entry as the API lists it: the stored entry, named by its task id. */
export type InboxItem = Omit<InboxItemDoc, '_id' | 'org'> & { taskId: string };

/** One organisation's open tasks, earliest deadline first (tasks without a deadline last). */
export async function inboxOf(models: Models, org: string): Promise<InboxItem[]> {
  const docs = await models.InboxItem.find({ org }).lean();
  const items: InboxItem[] = docs.map(({ _id, org: _org, ...entry }) => ({ taskId: _id, ...entry }));
  const due = (i: InboxItem) => (i.dueAt ? new Date(i.dueAt).getTime() : Number.MAX_SAFE_INTEGER);
  return items.sort(
    (a, b) => due(a) - due(b) || new Date(a.openedAt).getTime() - new Date(b.openedAt).getTime(),
  );
}

/** One entry of a project's audit trail, as stored in its event log. */
export type AuditEvent = EventLogDoc['events'][string];

/** One project's audit trail in order: one `_id` lookup. */
export async function auditTrailOf(models: Models, projectId: string): Promise<AuditEvent[]> {
  const doc = await models.EventLog.findById(projectId).lean();
  return Object.values(doc?.events ?? {}).sort((a, b) => a.seq - b.seq);
}
