import type { EventLogDoc, Models } from './models';

export interface InboxItem {
  taskId: string;
  projectId: string;
  projectName: string;
  kind: string;
  title: string;
  stage: string;
  tier: number | null;
  dueAt: Date | null;
  escalationLevel: number;
  openedAt: Date;
  /** Set on blocker tasks: the blocker to act on (resolve, confirm, reopen). */
  blockerId?: string;
}

/** One organisation's open tasks, earliest deadline first (tasks without a deadline last): one `_id` lookup. */
export async function inboxOf(models: Models, org: string): Promise<InboxItem[]> {
  const doc = await models.Inbox.findById(org).lean();
  const items = Object.values(doc?.open ?? {}) as unknown as InboxItem[];
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
