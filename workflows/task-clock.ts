/**
 * The workflow side of task clocks, shared by the project and blocker workflows: scheduling deadlines through
 * the calendar activity, firing what is due, handing notifications to the outbox, and typed refusals.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { createDeadlineActivities } from '../activities/deadlines';
import type { createReadModelActivities } from '../activities/read-model';
import type { NotificationActivities } from '../activities/notifications';
import { DomainError } from '../domain/errors';
import { recordEvent } from '../domain/events';
import type { NotificationIntent, ProjectEvent, Task, TaskLedger } from '../domain/state';
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
const { enqueueNotifications } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

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
 * Hands queued notifications to the durable outbox, oldest first; keys make a retry harmless.
 * `skip` drops a notification without sending it (a release that did not send it must replay unchanged).
 */
export async function enqueueQueued(
  s: TaskLedger,
  skip: (n: NotificationIntent) => boolean = () => false,
): Promise<void> {
  const queue = s.outbox.notifications ?? [];
  while (queue.length > 0) {
    const n = queue[0]!;
    if (skip(n)) {
      queue.shift();
      continue;
    }
    try {
      await enqueueNotifications({
        notificationKey: n.key,
        recipients: n.recipients,
        template: n.template,
        payload: n.payload,
      });
    } catch (err) {
      // Only a refusal that retrying cannot cure ends here; a notification must never fail the workflow.
      if (!(err instanceof ActivityFailure)) throw err;
      recordEvent(s, {
        type: 'NOTIFICATION_REFUSED',
        stageBefore: s.stage,
        at: Date.now(),
        data: { key: n.key, reason: err.cause?.message ?? err.message },
      });
    }
    queue.shift();
  }
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
