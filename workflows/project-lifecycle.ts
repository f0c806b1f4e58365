import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createReadModelActivities } from '../activities/read-model';
import { ACTION_TYPES, type ActionRequest } from '../domain/actions';
import { DomainError } from '../domain/errors';
import { applyAction, createInitialState, isTerminal, validateAction } from '../domain/lifecycle';
import { ProjectStageAttr } from '../domain/search-attributes';
import { snapshotOf, type ProjectSnapshot, type ProjectState } from '../domain/state';
import { actionUpdates, getProjectQuery, type ProjectLifecycleInput } from './messages';

const { syncReadModel } = proxyActivities<ReturnType<typeof createReadModelActivities>>({
  startToCloseTimeout: '30 seconds',
  // Mongo may be down for a while; the project waits (writes are idempotent) rather than failing.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

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

  let indexedStage = '';
  for (;;) {
    await condition(() => hasUnsynced(s) || isTerminal(s.stage) || continueAsNewDue(input));
    if (hasUnsynced(s)) await flushReadModel(s);
    if (indexedStage !== s.stage) {
      upsertSearchAttributes([{ key: ProjectStageAttr, value: s.stage }]);
      indexedStage = s.stage;
    }
    if (isTerminal(s.stage)) {
      await condition(allHandlersFinished);
      if (hasUnsynced(s)) continue; // a late handler changed state: persist it first
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
