import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createReadModelActivities } from '../activities/read-model';
import type { createDeadlineActivities } from '../activities/deadlines';
import type { NotificationActivities } from '../activities/notifications';
import { ACTION_TYPES, type ActionRequest } from '../domain/actions';
import { DomainError } from '../domain/errors';
import {
  applyAction,
  createInitialState,
  isTerminal,
  recordEvent,
  validateAction,
} from '../domain/lifecycle';
import { ProjectNextDeadlineAttr, ProjectOverdueAttr, ProjectStageAttr } from '../domain/search-attributes';
import {
  snapshotOf,
  type NotificationIntent,
  type ProjectSnapshot,
  type ProjectState,
} from '../domain/state';
import { applySchedules, fireDue, nextDeadline, nextWakeAt, scheduleRequests } from '../domain/time';
import { actionUpdates, getProjectQuery, type ProjectLifecycleInput } from './messages';

const { syncReadModel } = proxyActivities<ReturnType<typeof createReadModelActivities>>({
  startToCloseTimeout: '30 seconds',
  // Mongo may be down for a while; the project waits (writes are idempotent) rather than failing.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const { scheduleTaskDeadlines } = proxyActivities<ReturnType<typeof createDeadlineActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// Enqueueing only writes the outbox and starts delivery workflows; delivery itself never blocks the project.
const { enqueueNotifications } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Deadlines, reminders and escalation; runs recorded before it replay without them. */
export const TASK_DEADLINES_PATCH = 'task-deadlines-v1';
/** A removed project's portfolio is asked for a replacement project. */
export const REPLACEMENT_REQUEST_PATCH = 'replacement-request-v1';

/** One project's whole life: DRAFT → … → COMPLETED (or REJECTED / REMOVED / WITHDRAWN). */
export async function projectLifecycle(input: ProjectLifecycleInput): Promise<ProjectSnapshot> {
  const { policy } = input;
  const s: ProjectState =
    input.state ?? createInitialState(input.projectId, input.details, policy, input.createdBy, Date.now());

  for (const type of ACTION_TYPES) {
    setHandler(
      actionUpdates[type],
      (req: ActionRequest) => asFailure(() => applyAction(s, policy, req, Date.now())),
      {
        validator: (req: ActionRequest) => asFailure(() => validateAction(s, policy, req, Date.now())),
      },
    );
  }
  setHandler(getProjectQuery, () => ({ ...snapshotOf(s), tasks: s.tasks }));

  const timed = patched(TASK_DEADLINES_PATCH);
  const indexed = { stage: '', overdue: false, nextDeadline: -1 };
  for (;;) {
    const wake = () =>
      hasUnsynced(s) ||
      isTerminal(s.stage) ||
      continueAsNewDue(input) ||
      (timed && (needsScheduling(s) || pendingNotifications(s) > 0));
    const wakeAt = timed ? nextWakeAt(s, policy, Date.now()) : undefined;
    if (wakeAt === undefined) await condition(wake);
    else await condition(wake, Math.max(1, wakeAt - Date.now()));

    if (timed && !isTerminal(s.stage)) {
      const requests = scheduleRequests(s, policy);
      if (requests.length > 0)
        queueNotifications(s, applySchedules(s, policy, await scheduleTaskDeadlines(requests), Date.now()));
      queueNotifications(s, fireDue(s, policy, Date.now()));
    }
    if (timed) await enqueueQueued(s);
    if (hasUnsynced(s)) await flushReadModel(s);
    if (indexed.stage !== s.stage) {
      upsertSearchAttributes([{ key: ProjectStageAttr, value: s.stage }]);
      indexed.stage = s.stage;
    }
    if (timed) indexTime(s, indexed);
    if (isTerminal(s.stage)) {
      await condition(allHandlersFinished);
      if (hasUnsynced(s) || (timed && pendingNotifications(s) > 0)) continue; // a late handler changed state: persist it first
      return snapshotOf(s);
    }
    if (continueAsNewDue(input)) {
      await condition(allHandlersFinished);
      // The unsynced outbox travels in the state; the next run writes it first.
      log.info('continuing as new', { historyLength: workflowInfo().historyLength, seq: s.seq });
      return await continueAsNew<typeof projectLifecycle>({ ...input, state: s });
    }
  }
}

function needsScheduling(s: ProjectState): boolean {
  return s.tasks.some(
    (t) => t.status === 'OPEN' && t.clock?.needsSchedule && !t.clock.pauses.some((p) => p.to === undefined),
  );
}

function pendingNotifications(s: ProjectState): number {
  return s.outbox.notifications?.length ?? 0;
}

function queueNotifications(s: ProjectState, intents: NotificationIntent[]): void {
  if (intents.length > 0) (s.outbox.notifications ??= []).push(...intents);
}

/** Hands queued notifications to the durable outbox, oldest first; keys make a retry harmless. */
async function enqueueQueued(s: ProjectState): Promise<void> {
  const queue = s.outbox.notifications ?? [];
  while (queue.length > 0) {
    const n = queue[0]!;
    // Runs that removed a project before this release asked for no replacement: replay them unchanged.
    if (n.key.endsWith(':replacement') && !patched(REPLACEMENT_REQUEST_PATCH)) {
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
      // Only a refusal that retrying cannot cure ends here; a notification must never fail the project.
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

/** Keeps the Web UI's overdue flag and next deadline current. */
function indexTime(s: ProjectState, indexed: { overdue: boolean; nextDeadline: number }): void {
  const next = nextDeadline(s) ?? 0;
  if (indexed.overdue === s.flags.overdue && indexed.nextDeadline === next) return;
  upsertSearchAttributes([
    { key: ProjectOverdueAttr, value: s.flags.overdue },
    { key: ProjectNextDeadlineAttr, value: next > 0 ? new Date(next) : null },
  ]);
  indexed.overdue = s.flags.overdue;
  indexed.nextDeadline = next;
}

function hasUnsynced(s: ProjectState): boolean {
  return s.outbox.events.length > 0 || s.outbox.taskIds.length > 0;
}

function continueAsNewDue(input: ProjectLifecycleInput): boolean {
  const info = workflowInfo();
  if (input.continueAsNewAtHistoryLength !== undefined)
    return info.historyLength >= input.continueAsNewAtHistoryLength;
  return info.continueAsNewSuggested;
}

/** Writes what changed to Mongo; entries that arrive while the activity runs stay for the next flush. */
async function flushReadModel(s: ProjectState): Promise<void> {
  const events = s.outbox.events.slice();
  const taskIds = s.outbox.taskIds;
  s.outbox.taskIds = []; // a task touched again while the activity runs is queued afresh
  try {
    await syncReadModel({
      projectId: s.projectId,
      seq: s.seq,
      snapshot: snapshotOf(s),
      events,
      tasks: s.tasks.filter((t) => taskIds.includes(t.id)),
    });
  } catch (err) {
    s.outbox.taskIds = [...new Set([...taskIds, ...s.outbox.taskIds])];
    throw err;
  }
  s.outbox.events.splice(0, events.length);
}

/** Domain refusals become typed ApplicationFailures; anything else would wedge the workflow task. */
function asFailure<T>(fn: () => T): T {
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
