/**
 * The consistency checker (issue 14 §1): for every project, the workflow's own state (by query) against the read
 * model — record, stage and seq, open tasks with their deadlines and levels, the trail's sequence, the inbox — and
 * the outbox against the final notification records. Each difference is one line; none means consistent.
 * Run after a fault has been recovered from: a write still in flight shows as a difference.
 */
import type { Client } from '@temporalio/client';
import type { Models } from '../db/models';
import type { NotificationModels } from '../db/notification-models';
import { allInboxEntries, auditTrailOf } from '../db/queries';
import { PROJECT_WORKFLOW_TYPE, getProjectQuery, type ProjectView } from '../workflows/messages';
import { projectWorkflowId } from '../domain/project';

export interface Difference {
  projectId: string | null;
  what: string;
  workflow?: unknown;
  readModel?: unknown;
}

export interface ConsistencyReport {
  projects: number;
  differences: Difference[];
}

const PROJECT_ID = /^project-(.+)$/;

/** Project ids Temporal knows (on `taskQueue` when given), running or closed. */
async function workflowProjects(client: Client, taskQueue?: string): Promise<Set<string>> {
  const query = `WorkflowType = '${PROJECT_WORKFLOW_TYPE}'${taskQueue ? ` AND TaskQueue = '${taskQueue}'` : ''}`;
  const ids = new Set<string>();
  for await (const wf of client.workflow.list({ query })) {
    const m = PROJECT_ID.exec(wf.workflowId);
    if (m?.[1]) ids.add(m[1]);
  }
  return ids;
}

const dueOf = (v: unknown): number | null => {
  if (v === null || v === undefined) return null;
  const t = typeof v === 'number' ? v : new Date(v as string).getTime();
  return Number.isFinite(t) ? t : null;
};

export async function checkConsistency(opts: {
  client: Client;
  models: Models;
  notifications: Pick<NotificationModels, 'Notification' | 'NotificationOutbox'>;
  taskQueue?: string;
}): Promise<ConsistencyReport> {
  const { client, models, notifications } = opts;
  const differences: Difference[] = [];
  const fromTemporal = await workflowProjects(client, opts.taskQueue);
  const records = await models.Project.find({}, { _id: 1 }).lean();
  const fromReadModel = new Set(records.map((r) => r._id));
  for (const id of fromReadModel)
    if (!fromTemporal.has(id))
      differences.push({ projectId: id, what: 'read-model record without a workflow' });

  // Every inbox entry, by project: one read of each organisation's inbox.
  const inboxByProject = new Map<string, Awaited<ReturnType<typeof allInboxEntries>>>();
  for (const entry of await allInboxEntries(models))
    inboxByProject.set(entry.projectId, [...(inboxByProject.get(entry.projectId) ?? []), entry]);

  for (const projectId of [...fromTemporal].sort()) {
    let view: ProjectView;
    try {
      view = await client.workflow.getHandle(projectWorkflowId(projectId)).query(getProjectQuery);
    } catch (err) {
      differences.push({ projectId, what: `workflow cannot be queried: ${(err as Error).message}` });
      continue;
    }
    const record = await models.Project.findById(projectId).lean();
    if (!record) {
      differences.push({ projectId, what: 'workflow without a read-model record' });
      continue;
    }
    const diff = (what: string, workflow: unknown, readModel: unknown) =>
      differences.push({ projectId, what, workflow, readModel });
    if (record.stage !== view.stage) diff('stage', view.stage, record.stage);
    if (record.seq !== view.seq) diff('seq (last transition)', view.seq, record.seq);

    // Open tasks, their deadlines and escalation levels.
    const open = view.tasks.filter((t) => t.status === 'OPEN');
    const recordTasks = new Map(
      (record.openTasks as { id: string; deadline?: { dueAt?: number }; escalationLevel?: number }[]).map(
        (t) => [t.id, t],
      ),
    );
    for (const t of open) {
      const r = recordTasks.get(t.id);
      if (!r) {
        diff(`open task ${t.id} missing from the record`, 'OPEN', undefined);
        continue;
      }
      if (dueOf(r.deadline?.dueAt) !== dueOf(t.deadline?.dueAt))
        diff(`deadline of ${t.id}`, t.deadline?.dueAt ?? null, r.deadline?.dueAt ?? null);
      if ((r.escalationLevel ?? 0) !== t.escalationLevel)
        diff(`escalation level of ${t.id}`, t.escalationLevel, r.escalationLevel ?? 0);
      recordTasks.delete(t.id);
    }
    for (const id of recordTasks.keys())
      diff(`task ${id} open in the record, not in the workflow`, undefined, 'OPEN');

    // The trail: 1..seq without gaps or repeats.
    const trail = (await auditTrailOf(models, projectId)).map((e) => e.seq);
    const missing: number[] = [];
    const seen = new Set(trail);
    for (let s = 1; s <= view.seq; s++) if (!seen.has(s)) missing.push(s);
    if (missing.length) diff('trail entries missing (seq)', missing.slice(0, 20), trail.length);
    if (trail.length !== seen.size) diff('trail entries repeated', trail.length, seen.size);
    const beyond = trail.filter((s) => s > view.seq);
    if (beyond.length) diff('trail entries beyond the workflow’s seq', view.seq, beyond.slice(0, 20));

    // The inbox: every open task once, with its deadline and level, and nothing else of this project.
    const inbox = new Map((inboxByProject.get(projectId) ?? []).map((i) => [i._id, i] as const));
    for (const t of open) {
      const i = inbox.get(t.id);
      if (!i) {
        diff(`inbox entry for ${t.id} (${t.assigneeOrg}) missing`, 'OPEN', undefined);
        continue;
      }
      if (i.org !== t.assigneeOrg) diff(`inbox organisation of ${t.id}`, t.assigneeOrg, i.org);
      if (dueOf(i.dueAt) !== dueOf(t.deadline?.dueAt))
        diff(`inbox deadline of ${t.id}`, t.deadline?.dueAt ?? null, i.dueAt);
      if (i.escalationLevel !== t.escalationLevel)
        diff(`inbox escalation level of ${t.id}`, t.escalationLevel, i.escalationLevel);
      inbox.delete(t.id);
    }
    for (const [id, i] of inbox)
      diff(`inbox entry ${id} (${i.org}) for a task that is not open`, undefined, 'listed');
  }

  // The outbox against final records: a notification final and still queued would be sent again.
  for (const doc of await notifications.NotificationOutbox.find({}, { _id: 1 }).lean()) {
    const final = await notifications.Notification.findById(doc._id, { status: 1 }).lean();
    if (final)
      differences.push({
        projectId: null,
        what: `notification ${doc._id} is final (${final.status}) and still in the outbox`,
      });
  }
  return { projects: fromTemporal.size, differences };
}

export function formatDifference(d: Difference): string {
  const parts = [d.projectId ?? '(notifications)', d.what];
  if ('workflow' in d || 'readModel' in d)
    parts.push(`workflow=${JSON.stringify(d.workflow)} readModel=${JSON.stringify(d.readModel)}`);
  return parts.join(': ');
}
