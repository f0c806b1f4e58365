/**
 * The workflow side of task clocks, shared by the project and blocker workflows: scheduling deadlines through
 * the calendar activity, firing what is due, handing notifications to the outbox, and typed refusals.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  proxyLocalActivities,
} from '@temporalio/workflow';
import type { createDeadlineActivities } from '../activities/deadlines';
import type { createReadModelActivities } from '../activities/read-model';
import type { NotificationActivities } from '../activities/notifications';
import type { WakeupActivities } from '../activities/wakeup';
import { DomainError } from '../domain/errors';
import { recordEvent } from '../domain/events';
import type { NotificationIntent, ProjectEvent, ReadModelSync, Task, TaskLedger } from '../domain/state';
import type { Policy } from '../policy/schema';
import { applySchedules, fireTaskClocks, scheduleRequests } from '../domain/time';

// Mongo may be down for a while; a workflow waits (writes are idempotent) rather than failing.
export const { syncReadModel, syncBlocker } = proxyActivities<ReturnType<typeof createReadModelActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const { scheduleTaskDeadlines } = proxyActivities<ReturnType<typeof createDeadlineActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// Enqueueing only writes the outbox and starts delivery workflows; delivery itself never blocks the workflow.
// A batch (up to MAX_ENQUEUE_BATCH notifications) gets the longer time a busy Mongo may need for it.
const { enqueueNotificationBatch } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '3 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// A wakeup's one write: the read model and the outbox (at most MAX_WAKEUP_NOTIFICATIONS). Short, as the read
// model's sync was: a write lost with its worker is tried again within half a minute, not after minutes.
const WAKEUP_WRITE_OPTIONS = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
} as const;
const { writeProjectWakeup } = proxyActivities<WakeupActivities>(WAKEUP_WRITE_OPTIONS);
// From 1.2 (see project-lifecycle.ts) the same write as a local activity: it runs inside the wakeup's own
// workflow task, so an action's Update is answered in one workflow task instead of two, and the write's input
// (the snapshot and the changed tasks) never enters the history; only its small result is recorded.
const { writeProjectWakeup: writeProjectWakeupLocally } =
  proxyLocalActivities<WakeupActivities>(WAKEUP_WRITE_OPTIONS);

export function needsScheduling(s: TaskLedger): boolean {
  return s.tasks.some(
    (t) => t.status === 'OPEN' && t.clock?.needsSchedule && !t.clock.pauses.some((p) => p.to === undefined),
  );
}

export function pendingNotifications(s: TaskLedger): number {
  return s.outbox.notifications?.length ?? 0;
}

export function queueNotifications(s: TaskLedger, intents: NotificationIntent[]): void {
  if (intents.length > 0) (s.outbox.notifications ??= []).push(...intents);
}

export function hasUnsynced(s: TaskLedger): boolean {
  return s.outbox.events.length > 0 || s.outbox.taskIds.length > 0;
}

/**
 * Writes what changed to the read model through `write`; entries that arrive while it runs stay for the next
 * flush, and a failed write keeps everything queued.
 */
export async function flushOutbox(
  s: TaskLedger,
  write: (changes: { events: ProjectEvent[]; tasks: Task[] }) => Promise<void>,
): Promise<void> {
  const events = s.outbox.events.slice();
  const taskIds = s.outbox.taskIds;
  s.outbox.taskIds = []; // a task touched again while the activity runs is queued afresh
  try {
    await write({ events, tasks: s.tasks.filter((t) => taskIds.includes(t.id)) });
  } catch (err) {
    s.outbox.taskIds = [...new Set([...taskIds, ...s.outbox.taskIds])];
    throw err;
  }
  s.outbox.events.splice(0, events.length);
}

/** Computes the deadlines the ledger's open tasks lack (an activity: the calendar changes) and applies them. */
export async function scheduleDeadlines(s: TaskLedger, policy: Policy): Promise<void> {
  const requests = scheduleRequests(s, policy);
  if (requests.length > 0)
    queueNotifications(s, applySchedules(s, policy, await scheduleTaskDeadlines(requests), Date.now()));
}

/** Reminders and escalations of the ledger's tasks due now. */
export function fireClocks(s: TaskLedger, policy: Policy): void {
  queueNotifications(s, fireTaskClocks(s, policy, Date.now()));
}

/**
 * Hands queued notifications to the durable outbox, oldest first, in batches; keys make a retry harmless. (The
 * project workflow writes its notifications with its read model instead: see writeWakeup.)
 */
export async function enqueueQueued(s: TaskLedger): Promise<void> {
  const queue = s.outbox.notifications ?? [];
  while (queue.length > 0) {
    const batch = queue.slice(0, MAX_ENQUEUE_BATCH);
    try {
      const { refused } = await enqueueNotificationBatch({ notifications: batch.map(enqueueInputOf) });
      for (const r of refused) notificationRefused(s, r.notificationKey, r.reason);
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      for (const n of batch) notificationRefused(s, n.key, err.cause?.message ?? err.message);
    }
    queue.splice(0, batch.length);
  }
}

/**
 * The one write of a wakeup: what changed in the read model and the notifications queued, in one activity.
 * Entries that arrive while it runs stay for the next write; a failed write keeps everything queued.
 */
export async function writeWakeup(
  s: TaskLedger,
  syncOf: (changes: { events: ProjectEvent[]; tasks: Task[] }) => ReadModelSync,
  locally = false,
): Promise<void> {
  const queue = s.outbox.notifications ?? [];
  const notifications = queue.slice(0, MAX_WAKEUP_NOTIFICATIONS);
  const write = locally ? writeProjectWakeupLocally : writeProjectWakeup;
  await flushOutbox(s, async (changes) => {
    const { refused } = await write({
      sync: syncOf(changes),
      notifications: notifications.map(enqueueInputOf),
    });
    queue.splice(0, notifications.length);
    for (const r of refused) notificationRefused(s, r.notificationKey, r.reason);
  });
}

/** Within the outbox's batch limit (activities/notifications.ts); more wait for the next write. */
const MAX_WAKEUP_NOTIFICATIONS = 100;

const MAX_ENQUEUE_BATCH = 20;

function enqueueInputOf(n: NotificationIntent) {
  return { notificationKey: n.key, recipients: n.recipients, template: n.template, payload: n.payload };
}

// Only a refusal that retrying cannot cure ends here; a notification must never fail the workflow.
function notificationRefused(s: TaskLedger, key: string, reason: string): void {
  recordEvent(s, {
    type: 'NOTIFICATION_REFUSED',
    stageBefore: s.stage,
    at: Date.now(),
    data: { key, reason },
  });
}

/** Domain refusals become typed ApplicationFailures; anything else would wedge the workflow task. */
export function asFailure<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof DomainError) {
      throw ApplicationFailure.create({
        type: err.type,
        message: err.message,
        details: [err.details],
        nonRetryable: true,
      });
    }
    throw ApplicationFailure.create({ type: 'INTERNAL', message: String(err), nonRetryable: true });
  }
}
