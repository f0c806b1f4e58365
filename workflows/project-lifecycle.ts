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
  type ActionRules,
  createInitialState,
  isTerminal,
  validateAction,
} from '../domain/lifecycle';
import { ProjectNextDeadlineAttr, ProjectOverdueAttr, ProjectStageAttr } from '../domain/search-attributes';
import { snapshotOf, type ProjectSnapshot, type ProjectState } from '../domain/state';
import { fireDue, nextDeadline, nextWakeAt } from '../domain/time';
import { REPORTING_STAGES, openDueReports, startReportObligation } from '../domain/monthly-reports';
import { blockerChangedSignal, actionUpdates, getProjectQuery, type ProjectLifecycleInput } from './messages';
import { projectBlocker } from './project-blocker';
import {
  asFailure,
  clockRulesOfRun,
  enqueueQueued,
  flushOutbox,
  hasUnsynced,
  needsScheduling,
  pendingNotifications,
  queueNotifications,
  scheduleDeadlines,
  syncReadModel,
} from './task-clock';

/** Deadlines, reminders and escalation; runs recorded before it replay without them. */
export const TASK_DEADLINES_PATCH = 'task-deadlines-v1';
/** A removed project's portfolio is asked for a replacement project. */
export const REPLACEMENT_REQUEST_PATCH = 'replacement-request-v1';
/**
 * The read model is written beside the loop: clocks, notifications and blockers never wait for Mongo. One sync
 * runs at a time; what changes meanwhile goes into the next one.
 */
export const SYNC_BESIDE_LOOP_PATCH = 'read-model-sync-beside-loop';
/** Projects in 前期 and 实施 owe a monthly report: a task opens each month (domain/monthly-reports.ts). */
export const MONTHLY_REPORT_PATCH = 'monthly-report-obligation';
/** The start gate as the seed states it: permit AND funds (or contract AND funds), checked by another organisation. */
export const SEED_START_GATE_PATCH = 'seed-start-gate';
/** Tiers 2 and 3 produce the 建议清单, the 重点项目库 and the fund allocation (domain/stages/review-outputs.ts). */
export const SEED_REVIEW_TIERS_PATCH = 'seed-review-tiers';

/** One project's whole life: DRAFT → … → COMPLETED (or REJECTED / REMOVED / WITHDRAWN). */
export async function projectLifecycle(input: ProjectLifecycleInput): Promise<ProjectSnapshot> {
  const { policy } = input;
  const s: ProjectState =
    input.state ??
    createInitialState(input.projectId, input.details, policy, input.createdBy, Date.now(), input.onboarding);

  // Runs started before the seed's start gate keep the old one (patched once, at the start of each run).
  const rules: ActionRules = {
    legacyStartGate: !patched(SEED_START_GATE_PATCH),
    legacyReviewTiers: !patched(SEED_REVIEW_TIERS_PATCH),
  };
  for (const type of ACTION_TYPES) {
    setHandler(
      actionUpdates[type],
      async (req: ActionRequest) => {
        const result = asFailure(() => applyAction(s, policy, req, Date.now(), rules));
        // A raised blocker is answered once its workflow runs, so the caller can act on it straight away.
        const raised = result.blockerId;
        if (raised) await condition(() => s.blockers?.find((b) => b.id === raised)?.started === true);
        return result;
      },
      {
        validator: (req: ActionRequest) => asFailure(() => validateAction(s, policy, req, Date.now(), rules)),
      },
    );
  }
  setHandler(getProjectQuery, () => ({ ...snapshotOf(s), tasks: s.tasks }));
  setHandler(blockerChangedSignal, (change) => {
    applyBlockerChange(s, change);
  });

  const timed = patched(TASK_DEADLINES_PATCH);
  const reportsOwed = timed && patched(MONTHLY_REPORT_PATCH);
  // A project already in 前期 or 实施 when the obligation came in (its first run under this code) owes from now on.
  if (reportsOwed && !s.reportObligation && REPORTING_STAGES.includes(s.stage))
    startReportObligation(s, policy, Date.now());
  const clockRules = clockRulesOfRun();
  const indexed = { stage: '', overdue: false, nextDeadline: -1 };
  const sync: ReadModelSyncState = { running: false, failure: undefined };
  for (;;) {
    const wake = () =>
      (hasUnsynced(s) && !sync.running) ||
      sync.failure !== undefined ||
      isTerminal(s.stage) ||
      continueAsNewDue(input) ||
      unstartedBlockers(s) > 0 ||
      (timed && (needsScheduling(s) || pendingNotifications(s) > 0));
    const wakeAt = timed ? nextWakeAt(s, policy, Date.now(), reportsOwed) : undefined;
    if (wakeAt === undefined) await condition(wake);
    else await condition(wake, Math.max(1, wakeAt - Date.now()));

    if (sync.failure !== undefined) throw sync.failure; // as the awaited sync did: only a non-retryable failure
    await startBlockers(s, input);
    if (timed && !isTerminal(s.stage)) {
      if (reportsOwed) openDueReports(s, policy, Date.now());
      await scheduleDeadlines(s, policy, clockRules);
      queueNotifications(s, fireDue(s, policy, Date.now(), clockRules));
    }
    // Runs that removed a project before this release asked for no replacement: replay them unchanged.
    if (timed)
      await enqueueQueued(s, (n) => n.key.endsWith(':replacement') && !patched(REPLACEMENT_REQUEST_PATCH));
    if (hasUnsynced(s) && !sync.running) {
      if (patched(SYNC_BESIDE_LOOP_PATCH)) syncBesideLoop(s, sync);
      else await flushReadModel(s);
    }
    if (indexed.stage !== s.stage) {
      upsertSearchAttributes([{ key: ProjectStageAttr, value: s.stage }]);
      indexed.stage = s.stage;
    }
    if (timed) indexTime(s, indexed);
    if (isTerminal(s.stage)) {
      await condition(() => allHandlersFinished() && !sync.running);
      if (hasUnsynced(s) || (timed && pendingNotifications(s) > 0)) continue; // a late handler changed state: persist it first
      return snapshotOf(s);
    }
    if (continueAsNewDue(input)) {
      await condition(() => allHandlersFinished() && !sync.running);
      // The unsynced outbox travels in the state; the next run writes it first.
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

/** Writes what changed to Mongo. */
function flushReadModel(s: ProjectState): Promise<void> {
  return flushOutbox(s, (changes) =>
    syncReadModel({ projectId: s.projectId, seq: s.seq, snapshot: snapshotOf(s), ...changes }),
  );
}

interface ReadModelSyncState {
  running: boolean;
  /** A sync that failed for good (its retries never give up on Mongo being down); the loop rethrows it. */
  failure: Error | undefined;
}

/** Starts a sync of what is unsynced now and returns at once; the loop wakes again when it ends. */
function syncBesideLoop(s: ProjectState, sync: ReadModelSyncState): void {
  sync.running = true;
  flushReadModel(s).then(
    () => {
      sync.running = false;
    },
    (err: unknown) => {
      sync.running = false;
      sync.failure = err instanceof Error ? err : new Error(String(err));
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
