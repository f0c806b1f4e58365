/**
 * The workflow side of task clocks, shared by the project and blocker workflows: scheduling deadlines through
 * the calendar activity, firing what is due, handing notifications to the outbox, and typed refusals.
 */
import { ActivityFailure, ApplicationFailure, patched, proxyActivities } from '@temporalio/workflow';
import type { createDeadlineActivities } from '../activities/deadlines';
import type { createReadModelActivities } from '../activities/read-model';
import type { NotificationActivities } from '../activities/notifications';
import { DomainError } from '../domain/errors';
import { recordEvent } from '../domain/events';
import type { NotificationIntent, ProjectEvent, Task, TaskLedger } from '../domain/state';
import type { Policy } from '../policy/schema';
import { applySchedules, fireTaskClocks, scheduleRequests, type ClockRules } from '../domain/time';

/**
 * Escalations reach the people the seed names: the unit's head and the 包联领导 from the people directory, and a
 * ladder that starts above the assignee's own rung (domain/time.ts `ladderFor`). Runs started before it keep
 * the old ladder and recipients (ClockRules.legacyEscalation), decided once at the start of each run.
 */
export const ESCALATION_DIRECTORY_PATCH = 'escalation-directory-ladder';

/** The clock rules of this run; call once, at the start of the run, so the answer is the same all run long. */
export function clockRulesOfRun(): ClockRules {
  return { legacyEscalation: !patched(ESCALATION_DIRECTORY_PATCH) };
}

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
const { enqueueNotifications, enqueueNotificationBatch } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '3 minutes',
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
export async function scheduleDeadlines(s: TaskLedger, policy: Policy, rules: ClockRules): Promise<void> {
  const requests = scheduleRequests(s, policy);
  if (requests.length > 0)
    queueNotifications(
      s,
      applySchedules(s, policy, await scheduleTaskDeadlines(requests), Date.now(), rules),
    );
}

/** Reminders and escalations of the ledger's tasks due now. */
export function fireClocks(s: TaskLedger, policy: Policy, rules: ClockRules): void {
  queueNotifications(s, fireTaskClocks(s, policy, Date.now(), rules));
}

/** Runs from this version on hand all queued notifications to the outbox in one activity. */
export const BATCHED_ENQUEUE_PATCH = 'batched-notification-enqueue';

/**
 * Hands queued notifications to the durable outbox, oldest first; keys make a retry harmless.
 * `skip` drops a notification without sending it (a release that did not send it must replay unchanged).
 */
export async function enqueueQueued(
  s: TaskLedger,
  skip: (n: NotificationIntent) => boolean = () => false,
): Promise<void> {
  const queue = s.outbox.notifications ?? [];
  if (queue.length === 0) return;
  if (!patched(BATCHED_ENQUEUE_PATCH)) return enqueueOneByOne(s, queue, skip);
  // A burst of deadlines queues several notifications at once: one activity for all of them (in chunks) keeps
  // the workflow's history and Temporal's work small.
  while (queue.length > 0) {
    const taken = queue.slice(0, MAX_ENQUEUE_BATCH);
    const batch = taken.filter((n) => !skip(n));
    if (batch.length > 0) {
      try {
        const { refused } = await enqueueNotificationBatch({ notifications: batch.map(enqueueInputOf) });
        for (const r of refused) notificationRefused(s, r.notificationKey, r.reason);
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        for (const n of batch) notificationRefused(s, n.key, err.cause?.message ?? err.message);
      }
    }
    queue.splice(0, taken.length);
  }
}

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

/** Runs started before BATCHED_ENQUEUE_PATCH: one activity per notification. */
async function enqueueOneByOne(
  s: TaskLedger,
  queue: NotificationIntent[],
  skip: (n: NotificationIntent) => boolean,
): Promise<void> {
  while (queue.length > 0) {
    const n = queue[0]!;
    if (skip(n)) {
      queue.shift();
      continue;
    }
    try {
      await enqueueNotifications(enqueueInputOf(n));
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      notificationRefused(s, n.key, err.cause?.message ?? err.message);
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
