import {
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { ACTION_TYPES, type ActionRequest } from '../domain/actions';
import { blockerWorkflowId } from '../domain/blockers';
import {
  applyAction,
  applyBlockerChange,
  createInitialState,
  isTerminal,
  validateAction,
} from '../domain/lifecycle';
import { ProjectNextDeadlineAttr, ProjectOverdueAttr, ProjectStageAttr } from '../domain/search-attributes';
import { snapshotOf, type ActionResult, type ProjectSnapshot, type ProjectState } from '../domain/state';
import { awaitsNewDeadline, fireDue, nextDeadline, nextWakeAt } from '../domain/time';
import { REPORTING_STAGES, openDueReports, startReportObligation } from '../domain/monthly-reports';
import { blockerChangedSignal, actionUpdates, getProjectQuery, type ProjectLifecycleInput } from './messages';
import { projectBlocker } from './project-blocker';
import {
  asFailure,
  hasUnsynced,
  needsScheduling,
  pendingNotifications,
  queueNotifications,
  scheduleDeadlines,
  writeWakeup,
} from './task-clock';

/** One project's whole life: DRAFT → … → COMPLETED (or REJECTED / REMOVED / WITHDRAWN). */
export async function projectLifecycle(input: ProjectLifecycleInput): Promise<ProjectSnapshot> {
  const { policy } = input;
  const s: ProjectState =
    input.state ??
    createInitialState(input.projectId, input.details, policy, input.createdBy, Date.now(), input.onboarding);

  // From 1.1 an action is answered once the read model shows it (read your writes without polling Mongo).
  const answerWhenRecorded = patched(ANSWER_WHEN_RECORDED);
  // From 1.2 a write that an action's Update waits for is a local activity (task-clock.ts): the action is answered
  // in one workflow task. A wakeup nobody waits for (a timer) keeps the activity, so the clocks never wait for
  // Mongo. A run started earlier keeps the activity for every write.
  const writeLocally = patched(WAKEUP_WRITE_LOCAL);
  // Nothing unwritten at the start of a run: everything up to its seq is in the read model already.
  const write: WakeupWriteState = {
    running: false,
    failure: undefined,
    writtenSeq: unwritten(s) ? -1 : s.seq,
    awaited: 0,
  };
  for (const type of ACTION_TYPES) {
    setHandler(
      actionUpdates[type],
      async (req: ActionRequest) => {
        const result = asFailure(() => applyAction(s, policy, req, Date.now()));
        // A raised blocker is answered once its workflow runs, so the caller can act on it straight away.
        const raised = result.blockerId;
        if (raised) await condition(() => s.blockers?.find((b) => b.id === raised)?.started === true);
        if (!answerWhenRecorded) return result;
        return (await recorded(s, write, result)) ? { ...result, recorded: true } : result;
      },
      {
        validator: (req: ActionRequest) => asFailure(() => validateAction(s, policy, req, Date.now())),
      },
    );
  }
  setHandler(getProjectQuery, () => ({ ...snapshotOf(s), tasks: s.tasks }));
  setHandler(blockerChangedSignal, (change) => {
    applyBlockerChange(s, change);
  });

  // A project already in 前期 or 实施 when it was onboarded owes its monthly report from now on.
  if (!s.reportObligation && REPORTING_STAGES.includes(s.stage)) startReportObligation(s, policy, Date.now());
  const indexed = { stage: '', overdue: false, nextDeadline: -1 };
  // An Update waiting for its record must not keep the loop from writing it: the loop writes, then waits again.
  const settled = () => !write.running && (allHandlersFinished() || (answerWhenRecorded && unwritten(s)));
  for (;;) {
    const wake = () =>
      (unwritten(s) && !write.running) ||
      write.failure !== undefined ||
      isTerminal(s.stage) ||
      continueAsNewDue(input) ||
      unstartedBlockers(s) > 0 ||
      needsScheduling(s);
    const wakeAt = nextWakeAt(s, policy, Date.now(), true);
    if (wakeAt === undefined) await condition(wake);
    else await condition(wake, Math.max(1, wakeAt - Date.now()));

    if (write.failure !== undefined) throw write.failure; // only a non-retryable failure ends up here
    await startBlockers(s, input);
    if (!isTerminal(s.stage)) {
      openDueReports(s, policy, Date.now());
      await scheduleDeadlines(s, policy);
      queueNotifications(s, fireDue(s, policy, Date.now()));
    }
    if (unwritten(s) && !write.running) writeBesideLoop(s, write, writeLocally && write.awaited > 0);
    if (indexed.stage !== s.stage) {
      upsertSearchAttributes([{ key: ProjectStageAttr, value: s.stage }]);
      indexed.stage = s.stage;
    }
    indexTime(s, indexed);
    if (isTerminal(s.stage)) {
      await condition(settled);
      if (unwritten(s)) continue; // a late handler changed state: persist it first
      return snapshotOf(s);
    }
    if (continueAsNewDue(input)) {
      await condition(settled);
      if (answerWhenRecorded && unwritten(s)) continue;
      // What is unwritten travels in the state; the next run writes it first.
      log.info('continuing as new', { historyLength: workflowInfo().historyLength, seq: s.seq });
      return await continueAsNew<typeof projectLifecycle>({ ...input, state: s });
    }
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

function continueAsNewDue(input: ProjectLifecycleInput): boolean {
  const info = workflowInfo();
  if (input.continueAsNewAtHistoryLength !== undefined)
    return info.historyLength >= input.continueAsNewAtHistoryLength;
  return info.continueAsNewSuggested;
}

/** Something a reader would see, or a notification, is not written yet. */
function unwritten(s: ProjectState): boolean {
  return hasUnsynced(s) || pendingNotifications(s) > 0;
}

interface WakeupWriteState {
  running: boolean;
  /** A write that failed for good (its retries never give up on Mongo being down); the loop rethrows it. */
  failure: Error | undefined;
  /** The read model shows every transition up to this seq. */
  writtenSeq: number;
  /** Updates waiting for their write to land (`recorded`). */
  awaited: number;
}

const ANSWER_WHEN_RECORDED = 'answer-actions-when-recorded';
const WAKEUP_WRITE_LOCAL = 'wakeup-write-as-local-activity';

/**
 * Waits until the read model shows `result`: the write covering its seq has landed and, if the action moved its
 * task's deadline, a write after the new deadline was computed. Adds nothing to the history: the writes happen
 * anyway, the Update just completes in the workflow task that sees the last one done.
 */
async function recorded(s: ProjectState, write: WakeupWriteState, result: ActionResult): Promise<boolean> {
  write.awaited += 1;
  try {
    const task = result.taskId === undefined ? undefined : s.tasks.find((t) => t.id === result.taskId);
    let target = result.seq;
    if (task && awaitsNewDeadline(task)) {
      await condition(() => !awaitsNewDeadline(task) || write.failure !== undefined);
      target = Math.max(target, s.seq);
    }
    await condition(() => write.writtenSeq >= target || write.failure !== undefined);
    return write.failure === undefined;
  } finally {
    write.awaited -= 1;
  }
}

/**
 * Starts the one write of this wakeup (the read model and the outbox, in one activity) and returns at once: the
 * clocks, Updates and blockers never wait for Mongo. What changes meanwhile goes into the next write. As a local
 * activity (from 1.2, when an Update waits for it) the workflow task stays open until the write is done, so what
 * arrives meanwhile is taken in the next workflow task and goes into the next write all the same.
 */
function writeBesideLoop(s: ProjectState, write: WakeupWriteState, locally: boolean): void {
  write.running = true;
  const seq = s.seq;
  writeWakeup(s, (sync) => ({ projectId: s.projectId, seq, snapshot: snapshotOf(s), ...sync }), locally).then(
    () => {
      write.running = false;
      write.writtenSeq = Math.max(write.writtenSeq, seq);
    },
    (err: unknown) => {
      write.running = false;
      write.failure = err instanceof Error ? err : new Error(String(err));
    },
  );
}

function unstartedBlockers(s: ProjectState): number {
  return s.blockers?.filter((b) => !b.started).length ?? 0;
}

/**
 * Starts the child workflow of each newly raised blocker. It outlives the project's run (continue-as-new, or
 * completion while a blocker is still open) and reports back by signal.
 */
async function startBlockers(s: ProjectState, input: ProjectLifecycleInput): Promise<void> {
  for (const b of s.blockers ?? []) {
    if (b.started) continue;
    await startChild(projectBlocker, {
      workflowId: blockerWorkflowId(b.id),
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      args: [
        {
          start: { projectId: s.projectId, projectStage: s.stage, details: s.details, summary: { ...b } },
          policy: input.policy,
        },
      ],
    });
    b.started = true;
  }
}
