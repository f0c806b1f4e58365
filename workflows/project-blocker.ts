import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  BLOCKER_ACTION_TYPES,
  applyBlockerAction,
  blockerSyncOf,
  blockerEscalationLevel,
  createBlockerState,
  unreportedChange,
  validateBlockerAction,
  type BlockerRequest,
  type BlockerState,
} from '../domain/blockers';
import { projectWorkflowId } from '../domain/project';
import { nextClockWakeAt } from '../domain/time';
import {
  blockerChangedSignal,
  blockerUpdates,
  getBlockerQuery,
  type BlockerView,
  type ProjectBlockerInput,
} from './messages';
import {
  asFailure,
  enqueueQueued,
  fireClocks,
  flushOutbox,
  hasUnsynced,
  needsScheduling,
  pendingNotifications,
  scheduleDeadlines,
  syncBlocker,
} from './task-clock';

/**
 * One blocker (堵点), a child of its project's workflow (id `blocker-<blockerId>`): its deadline, reminders and
 * escalation ladder run on the same clock code as the project's tasks; it ends when the raiser confirms the
 * closure (销号). Every change is reported to the project by signal and written to the read model.
 */
export async function projectBlocker(input: ProjectBlockerInput): Promise<BlockerView> {
  const { policy } = input;
  const s: BlockerState = input.state ?? createBlockerState(input.start);

  for (const type of BLOCKER_ACTION_TYPES) {
    setHandler(
      blockerUpdates[type],
      (req: BlockerRequest) => asFailure(() => applyBlockerAction(s, req, Date.now())),
      { validator: (req: BlockerRequest) => asFailure(() => validateBlockerAction(s, req, Date.now())) },
    );
  }
  setHandler(getBlockerQuery, () => viewOf(s));

  for (;;) {
    const closed = () => s.blocker.status === 'CLOSED';
    const wake = () =>
      hasUnsynced(s) ||
      closed() ||
      needsScheduling(s) ||
      pendingNotifications(s) > 0 ||
      unreportedChange(s) !== undefined ||
      workflowInfo().continueAsNewSuggested;
    const wakeAt = nextClockWakeAt(s, Date.now());
    if (wakeAt === undefined) await condition(wake);
    else await condition(wake, Math.max(1, wakeAt - Date.now()));

    if (!closed()) {
      await scheduleDeadlines(s, policy);
      fireClocks(s, policy);
    }
    await enqueueQueued(s);
    await reportToProject(s);
    if (hasUnsynced(s)) await flush(s);
    if (closed()) {
      await condition(allHandlersFinished);
      if (hasUnsynced(s) || pendingNotifications(s) > 0 || unreportedChange(s)) continue;
      return viewOf(s);
    }
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      return await continueAsNew<typeof projectBlocker>({ ...input, state: s });
    }
  }
}

function viewOf(s: BlockerState): BlockerView {
  return {
    projectId: s.projectId,
    blocker: s.blocker,
    tasks: s.tasks,
    escalationLevel: blockerEscalationLevel(s),
    overdue: s.flags.overdue,
    seq: s.seq,
  };
}

/** Tells the project what changed; a project that has ended no longer listens, and that is fine. */
async function reportToProject(s: BlockerState): Promise<void> {
  const change = unreportedChange(s);
  if (!change) return;
  try {
    await getExternalWorkflowHandle(projectWorkflowId(s.projectId)).signal(blockerChangedSignal, change);
  } catch (err) {
    log.warn('the project workflow did not take the blocker change', { error: String(err) });
  }
  s.reported = { status: change.status, escalationLevel: change.escalationLevel, round: change.round };
}

function flush(s: BlockerState): Promise<void> {
  return flushOutbox(s, (changes) => syncBlocker(blockerSyncOf(s, changes)));
}
