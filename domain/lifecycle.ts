/**
 * The project lifecycle as plain functions over ProjectState: deterministic, sandbox-safe and unit-testable.
 * The workflow calls `validateAction` from update validators and `applyAction` from update handlers.
 */
import type { Policy, WorkItem } from '../policy/schema';
import { PROJECT_CODE_PATTERN, type ActionRequest, type ProjectAction } from './actions';
import { holds } from './conditions';
import { DomainError } from './errors';
import { TERMINAL_STAGES, type Actor, type ProjectDetails, type Stage } from './project';
import type { ActionResult, ProjectState, Task, TaskKind } from './state';
import {
  BLOCKER_CATEGORIES,
  BLOCKER_LEVELS,
  BLOCKERS_PER_PROJECT_LIMIT,
  RESPONSIBLE_ORG_KINDS,
  blockerIdOf,
  type BlockerChange,
} from './blockers';
import { recordEvent } from './events';

export { recordEvent };

/** How many processed request ids a project remembers (dedup window, carried across continue-as-new). */
export const PROCESSED_REQUEST_LIMIT = 500;

const PRE_START_LIVE_STAGES: readonly Stage[] = [
  'DRAFT',
  'DEPT_SCREENING',
  'SPECIALIST_REVIEW',
  'COMPREHENSIVE_REVIEW',
  'RESERVE',
  'PRE_CONSTRUCTION',
];

export function createInitialState(
  projectId: string,
  details: ProjectDetails,
  policy: Policy,
  createdBy: Actor,
  now: number,
): ProjectState {
  const s: ProjectState = {
    projectId,
    policyVersion: policy.version,
    details,
    stage: 'DRAFT',
    round: 0,
    createdAt: now,
    createdBy,
    tasks: [],
    reports: [],
    payments: [],
    cumulativePaidYuan: 0,
    lastProgressAt: now,
    flags: { stale: false, overdue: false },
    seq: 0,
    processed: [],
    outbox: { events: [], taskIds: [] },
  };
  recordEvent(s, {
    type: 'PROJECT_CREATED',
    actor: createdBy,
    stageBefore: 'DRAFT',
    at: now,
    data: { policyVersion: policy.version },
  });
  return s;
}

export function isTerminal(stage: Stage): boolean {
  return TERMINAL_STAGES.includes(stage);
}

export function previousResult(s: ProjectState, requestId: string): ActionResult | undefined {
  return s.processed.find((p) => p.requestId === requestId)?.result;
}

/** Throws the DomainError that `applyAction` would throw, without touching the state. */
export function validateAction(s: ProjectState, policy: Policy, req: ActionRequest, now: number): void {
  if (previousResult(s, req.requestId)) return; // a repeat is answered with the first result
  applyAction(JSON.parse(JSON.stringify(s)) as ProjectState, policy, req, now);
}

/** Applies one validated action, records its events, and remembers the result under the request id. */
export function applyAction(s: ProjectState, policy: Policy, req: ActionRequest, now: number): ActionResult {
  const earlier = previousResult(s, req.requestId);
  if (earlier) return earlier;
  checkRequest(req);
  const ctx: Ctx = { s, policy, req, now, stageBefore: s.stage, touchedTask: undefined };
  const message = HANDLERS[req.action.type](ctx, req.action as never);
  const result: ActionResult = {
    projectId: s.projectId,
    stage: s.stage,
    seq: s.seq,
    message,
    taskId: ctx.touchedTask,
    ...(ctx.touchedBlocker ? { blockerId: ctx.touchedBlocker } : {}),
  };
  s.processed.push({ requestId: req.requestId, result });
  if (s.processed.length > PROCESSED_REQUEST_LIMIT)
    s.processed.splice(0, s.processed.length - PROCESSED_REQUEST_LIMIT);
  return result;
}

// ---------------------------------------------------------------------------------------------- handlers

interface Ctx {
  s: ProjectState;
  policy: Policy;
  req: ActionRequest;
  now: number;
  stageBefore: Stage;
  touchedTask: string | undefined;
  touchedBlocker?: string | undefined;
}

type Handlers = {
  [K in ProjectAction['type']]: (ctx: Ctx, a: Extract<ProjectAction, { type: K }>) => string;
};

const HANDLERS: Handlers = {
  submit(ctx) {
    const { s } = ctx;
    requireStage(s, ['DRAFT']);
    requireOrg(ctx, s.details.ownerOrg, 'only the applying unit submits its project');
    s.round += 1;
    setStage(s, 'DEPT_SCREENING');
    for (const org of tier1Departments(ctx.policy, s.details)) {
      openTask(ctx, {
        key: `R${s.round}-T1-${org}`,
        kind: 'REVIEW',
        tier: 1,
        title: `部门初审（${orgName(ctx.policy, org)}）`,
        assigneeOrg: org,
      });
    }
    event(ctx, 'SUBMITTED', { round: s.round });
    return `submitted for department screening (round ${s.round})`;
  },

  decideReview(ctx, a) {
    const { s } = ctx;
    const task = openTaskFor(ctx, a.taskId, ['REVIEW']);
    if (!['PASS', 'REJECT', 'RETURN'].includes(a.decision)) {
      throw new DomainError('INVALID_DATA', 'decision must be PASS, REJECT or RETURN', { field: 'decision' });
    }
    requireText(a.opinion, 'opinion', 2000, a.decision !== 'PASS');
    closeTask(ctx, task, { decision: a.decision, opinion: a.opinion });
    event(ctx, 'REVIEW_DECIDED', {
      taskId: task.id,
      tier: task.tier,
      decision: a.decision,
      opinion: a.opinion,
      org: task.assigneeOrg,
    });
    if (a.decision === 'REJECT') {
      cancelOpenTasks(ctx, `rejected at tier ${task.tier}`);
      setStage(s, 'REJECTED');
      event(ctx, 'REJECTED', { tier: task.tier, by: task.assigneeOrg });
      return `rejected at tier ${task.tier}`;
    }
    if (a.decision === 'RETURN') {
      cancelOpenTasks(ctx, `returned at tier ${task.tier}`);
      setStage(s, 'DRAFT');
      event(ctx, 'RETURNED', { tier: task.tier, by: task.assigneeOrg });
      return `returned to the applicant for revision (tier ${task.tier})`;
    }
    if (task.tier === 1) {
      const pending = s.tasks.filter(
        (t) => t.kind === 'REVIEW' && t.tier === 1 && t.round === s.round && t.status === 'OPEN',
      );
      if (pending.length > 0) return `passed; waiting for ${pending.map((t) => t.assigneeOrg).join(', ')}`;
      setStage(s, 'SPECIALIST_REVIEW');
      openTask(ctx, {
        key: `R${s.round}-T2`,
        kind: 'REVIEW',
        tier: 2,
        title: '专业评审',
        assigneeOrg: s.details.portfolio,
      });
      return 'department screening passed; specialist review opened';
    }
    if (task.tier === 2 && holds(ctx.policy.review.tier3.appliesWhen, s.details)) {
      setStage(s, 'COMPREHENSIVE_REVIEW');
      openTask(ctx, {
        key: `R${s.round}-T3`,
        kind: 'REVIEW',
        tier: 3,
        title: '综合评审',
        assigneeOrg: ctx.policy.leadingGroup,
      });
      return 'specialist review passed; comprehensive review opened';
    }
    openTask(ctx, {
      key: `R${s.round}-PLAN`,
      kind: 'GATE',
      title: '纳入规划或年度计划',
      assigneeOrg: ctx.policy.planInclusionOrg,
    });
    return task.tier === 2
      ? 'specialist review passed; comprehensive review not required; awaiting plan inclusion'
      : 'comprehensive review passed; awaiting plan inclusion';
  },

  recordPlanInclusion(ctx, a) {
    const { s } = ctx;
    const gate = s.tasks.find(
      (t) => t.kind === 'GATE' && t.key === `R${s.round}-PLAN` && t.status === 'OPEN',
    );
    if (!gate)
      throw new DomainError(
        'WRONG_STAGE',
        'plan inclusion is recorded only after the last review tier has passed',
        { stage: s.stage },
      );
    requireOrg(ctx, gate.assigneeOrg, 'plan inclusion is recorded by the planning department');
    requireText(a.planName, 'planName', 200);
    requireText(a.documentNumber, 'documentNumber', 100);
    requireDate(a.date, 'date');
    s.planInclusion = { planName: a.planName, documentNumber: a.documentNumber, date: a.date };
    closeTask(ctx, gate, { result: { ...s.planInclusion } });
    setStage(s, 'RESERVE');
    s.lastProgressAt = ctx.now;
    event(ctx, 'PLAN_INCLUSION_RECORDED', { ...s.planInclusion });
    for (const m of requiredItems(ctx.policy.reserve.matters, s.details)) {
      openTask(ctx, {
        key: `M-${m.key}`,
        kind: 'APPROVAL_MATTER',
        title: m.name,
        assigneeOrg: assigneeOf(m, s.details),
      });
    }
    maybeLeaveReserve(ctx);
    return 'included in the plan; entered the reserve library with its approval matters';
  },

  completeTask(ctx, a) {
    const { s } = ctx;
    const task = openTaskFor(ctx, a.taskId, ['APPROVAL_MATTER', 'STEP']);
    requireText(a.documentNumber, 'documentNumber', 100);
    requireDate(a.date, 'date');
    const item = workItemOf(ctx.policy, task);
    const result: Record<string, unknown> = { documentNumber: a.documentNumber, date: a.date };
    if (a.note !== undefined) result.note = requireText(a.note, 'note', 2000);
    if (item?.recordsApprovedEstimate) {
      result.approvedEstimateYuan = requireYuan(a.approvedEstimateYuan, 'approvedEstimateYuan', true);
      s.approvedEstimateYuan = a.approvedEstimateYuan;
    } else if (a.approvedEstimateYuan !== undefined) {
      throw new DomainError('INVALID_DATA', `${task.title} does not record an approved estimate`, {
        field: 'approvedEstimateYuan',
      });
    }
    closeTask(ctx, task, { result });
    s.lastProgressAt = ctx.now;
    event(ctx, task.kind === 'STEP' ? 'STEP_COMPLETED' : 'MATTER_COMPLETED', { taskId: task.id, ...result });
    if (s.flags.stale) {
      s.flags.stale = false; // approval progress clears the staleness flag and its task
      for (const t of s.tasks) {
        if (t.status === 'OPEN' && t.key.startsWith('G-STALE')) {
          Object.assign(t, { status: 'DONE', closedAt: ctx.now, result: { resolvedBy: task.id } });
          touch(s, t.id);
        }
      }
      event(ctx, 'RESERVE_PROGRESS_RESUMED', { taskId: task.id });
    }
    if (s.stage === 'RESERVE' && maybeLeaveReserve(ctx))
      return `${task.title} completed; entered pre-construction`;
    return `${task.title} completed`;
  },

  recordProjectCode(ctx, a) {
    const { s } = ctx;
    requireStage(s, PRE_START_LIVE_STAGES);
    requireOrg(
      ctx,
      [s.details.ownerOrg, ctx.policy.planInclusionOrg],
      'the project code is recorded by the applicant or the planning department',
    );
    if (s.projectCode !== undefined) {
      throw new DomainError(
        'ALREADY_DECIDED',
        `the project code is already recorded (${s.projectCode}) and cannot change`,
        { projectCode: s.projectCode },
      );
    }
    if (typeof a.code !== 'string' || !PROJECT_CODE_PATTERN.test(a.code)) {
      throw new DomainError('INVALID_DATA', 'project code must match YYMM-RRRRRR-DD-TT-NNNNNN', {
        field: 'code',
      });
    }
    s.projectCode = a.code;
    event(ctx, 'PROJECT_CODE_RECORDED', { code: a.code });
    if (s.stage === 'RESERVE' && maybeLeaveReserve(ctx))
      return 'project code recorded; entered pre-construction';
    return 'project code recorded';
  },

  confirmFunding(ctx, a) {
    const { s } = ctx;
    requireStage(s, ['RESERVE', 'PRE_CONSTRUCTION']);
    const confirmer = s.details.flags.governmentInvested
      ? ctx.policy.startGate.fundingConfirmer
      : s.details.ownerOrg;
    requireOrg(
      ctx,
      confirmer,
      'construction funds are confirmed by the finance department (government-invested) or the owner',
    );
    if (s.funding) throw new DomainError('ALREADY_DECIDED', 'construction funds are already confirmed');
    requireYuan(a.amountYuan, 'amountYuan', true);
    requireText(a.documentNumber, 'documentNumber', 100);
    requireDate(a.date, 'date');
    s.funding = {
      confirmedYuan: a.amountYuan,
      documentNumber: a.documentNumber,
      date: a.date,
      actor: ctx.req.actor,
    };
    event(ctx, 'FUNDING_CONFIRMED', {
      amountYuan: a.amountYuan,
      documentNumber: a.documentNumber,
      date: a.date,
    });
    return 'construction funds confirmed';
  },

  startConstruction(ctx, a) {
    const { s, policy } = ctx;
    requireStage(s, ['PRE_CONSTRUCTION']);
    requireOrg(ctx, s.details.ownerOrg, 'construction is started by the owner');
    requireDate(a.date, 'date');
    const done = (key: string) => s.tasks.some((t) => t.key === `S-${key}` && t.status === 'DONE');
    let basis: NonNullable<ProjectState['start']>['basis'];
    let override: { reason: string; approver: string } | undefined;
    if (done(policy.startGate.permitStep) && s.funding) basis = 'PERMIT_AND_FUNDING';
    else if (done(policy.startGate.contractStep)) basis = 'PROCUREMENT_CONTRACT';
    else if (a.emergencyOverride) {
      if (!s.details.flags.emergency) {
        throw new DomainError(
          'GATE_NOT_MET',
          'only emergency projects (应急类) may start without the start conditions',
        );
      }
      override = {
        reason: requireText(a.emergencyOverride.reason, 'emergencyOverride.reason', 2000),
        approver: requireText(a.emergencyOverride.approver, 'emergencyOverride.approver', 200),
      };
      basis = 'EMERGENCY_OVERRIDE';
    } else {
      const missing: string[] = [];
      if (!done(policy.startGate.permitStep)) missing.push('construction permit (施工许可)');
      if (!s.funding) missing.push('confirmed construction funds (建设资金落实)');
      throw new DomainError(
        'GATE_NOT_MET',
        `start conditions not met: needs ${missing.join(' and ')}, or a signed procurement contract (采购合同签订)`,
        { missing },
      );
    }
    s.start = { at: ctx.now, date: a.date, basis, override };
    const gate = s.tasks.find((t) => t.key === 'G-START' && t.status === 'OPEN');
    if (gate) closeTask(ctx, gate, { result: { basis, date: a.date, override } });
    // An estimate step still open stays open: payments need the approved estimate even after the start.
    cancelOpenTasks(
      ctx,
      'construction started',
      (t) =>
        !(
          s.approvedEstimateYuan === undefined &&
          workItemOf(policy, t)?.recordsApprovedEstimate === true &&
          t.kind === 'STEP'
        ),
    );
    setStage(s, 'UNDER_CONSTRUCTION');
    event(ctx, 'CONSTRUCTION_STARTED', { basis, date: a.date, override });
    openTask(ctx, {
      key: 'G-COMPLETION',
      kind: 'GATE',
      title: '竣工验收',
      assigneeOrg: s.details.responsibleDept,
    });
    return `construction started (${basis})`;
  },

  recordProgress(ctx, a) {
    const { s } = ctx;
    requireStage(s, ['UNDER_CONSTRUCTION', 'SUSPENDED']);
    requireOrg(ctx, s.details.ownerOrg, 'progress is reported by the owner');
    if (typeof a.period !== 'string' || !/^\d{4}-(0[1-9]|1[0-2])$/.test(a.period)) {
      throw new DomainError('INVALID_DATA', 'period must be YYYY-MM', { field: 'period' });
    }
    requireYuan(a.ytdInvestmentYuan, 'ytdInvestmentYuan');
    requireYuan(a.cumulativeInvestmentYuan, 'cumulativeInvestmentYuan');
    requireYuan(a.fundsReceivedYuan, 'fundsReceivedYuan');
    requireText(a.physicalProgress, 'physicalProgress', 2000);
    if (a.nextMonthPlan !== undefined) requireText(a.nextMonthPlan, 'nextMonthPlan', 2000);
    if (a.problems !== undefined) requireText(a.problems, 'problems', 2000);
    const last = s.reports[s.reports.length - 1];
    if (last && a.period <= last.period) {
      throw new DomainError(
        last.period === a.period ? 'ALREADY_DECIDED' : 'INVALID_DATA',
        `a report for ${a.period} cannot follow the report for ${last.period}`,
        { field: 'period', lastPeriod: last.period },
      );
    }
    const sameYear = last && last.period.slice(0, 4) === a.period.slice(0, 4) ? last : undefined;
    if (sameYear && a.ytdInvestmentYuan < sameYear.ytdInvestmentYuan) {
      throw new DomainError(
        'INVALID_DATA',
        `year-to-date investment cannot decrease within a year (was ${sameYear.ytdInvestmentYuan} 元 in ${sameYear.period})`,
        {
          field: 'ytdInvestmentYuan',
        },
      );
    }
    if (a.cumulativeInvestmentYuan < a.ytdInvestmentYuan) {
      throw new DomainError(
        'INVALID_DATA',
        'cumulative investment cannot be less than year-to-date investment',
        { field: 'cumulativeInvestmentYuan' },
      );
    }
    if (last && a.cumulativeInvestmentYuan < last.cumulativeInvestmentYuan) {
      throw new DomainError('INVALID_DATA', 'cumulative investment cannot decrease', {
        field: 'cumulativeInvestmentYuan',
      });
    }
    const d = s.details;
    const report = {
      period: a.period,
      monthInvestmentYuan: a.ytdInvestmentYuan - (sameYear?.ytdInvestmentYuan ?? 0),
      ytdInvestmentYuan: a.ytdInvestmentYuan,
      cumulativeInvestmentYuan: a.cumulativeInvestmentYuan,
      fundsReceivedYuan: a.fundsReceivedYuan,
      physicalProgress: a.physicalProgress,
      nextMonthPlan: a.nextMonthPlan,
      problems: a.problems,
      investmentCompletionBp: basisPoints(a.ytdInvestmentYuan, d.annualPlanYuan),
      cumulativeShareBp: basisPoints(a.cumulativeInvestmentYuan, d.totalInvestmentYuan),
      exceedsTotalInvestment: a.cumulativeInvestmentYuan > d.totalInvestmentYuan,
      recordedAt: ctx.now,
      actor: ctx.req.actor,
    };
    s.reports.push(report);
    const { actor: _a, ...data } = report;
    event(ctx, 'PROGRESS_REPORTED', data);
    return report.exceedsTotalInvestment
      ? `progress for ${a.period} recorded; warning: cumulative investment exceeds the total investment`
      : `progress for ${a.period} recorded`;
  },

  recordPayment(ctx, a) {
    const { s } = ctx;
    requireStage(s, ['UNDER_CONSTRUCTION']);
    requireOrg(ctx, s.details.ownerOrg, 'payments are recorded by the owner');
    requireYuan(a.amountYuan, 'amountYuan', true);
    requireDate(a.date, 'date');
    requireText(a.basis, 'basis', 500);
    if (s.approvedEstimateYuan === undefined) {
      throw new DomainError(
        'GATE_NOT_MET',
        'no approved estimate (批复概算) is recorded, so no payment can be checked against it',
      );
    }
    const cumulative = s.cumulativePaidYuan + a.amountYuan;
    if (cumulative > s.approvedEstimateYuan) {
      throw new DomainError(
        'OVER_ESTIMATE',
        `payment refused: cumulative payments ${cumulative} 元 would exceed the approved estimate ${s.approvedEstimateYuan} 元 (严禁超概算支付)`,
        {
          cumulativePaidYuan: s.cumulativePaidYuan,
          amountYuan: a.amountYuan,
          approvedEstimateYuan: s.approvedEstimateYuan,
        },
      );
    }
    s.cumulativePaidYuan = cumulative;
    s.payments.push({
      amountYuan: a.amountYuan,
      date: a.date,
      basis: a.basis,
      cumulativePaidYuan: cumulative,
      recordedAt: ctx.now,
      actor: ctx.req.actor,
    });
    event(ctx, 'PAYMENT_RECORDED', {
      amountYuan: a.amountYuan,
      date: a.date,
      basis: a.basis,
      cumulativePaidYuan: cumulative,
    });
    return `payment recorded; cumulative ${cumulative} of ${s.approvedEstimateYuan} 元`;
  },

  acceptCompletion(ctx, a) {
    const { s } = ctx;
    requireStage(s, ['UNDER_CONSTRUCTION']);
    const gate = s.tasks.find((t) => t.key === 'G-COMPLETION' && t.status === 'OPEN');
    if (!gate) throw new DomainError('WRONG_STAGE', 'no completion acceptance is open');
    requireOrg(ctx, gate.assigneeOrg, 'completion is accepted by the responsible department');
    requireText(a.documentNumber, 'documentNumber', 100);
    requireDate(a.date, 'date');
    s.completion = { documentNumber: a.documentNumber, date: a.date };
    closeTask(ctx, gate, { result: { ...s.completion } });
    cancelOpenTasks(ctx, 'completed');
    setStage(s, 'COMPLETED');
    event(ctx, 'COMPLETION_ACCEPTED', { ...s.completion });
    return 'completion accepted';
  },

  suspend(ctx, a) {
    const { s } = ctx;
    requireStage(s, ['UNDER_CONSTRUCTION']);
    requireOrg(
      ctx,
      [s.details.ownerOrg, s.details.responsibleDept],
      'suspension is recorded by the owner or the responsible department',
    );
    requireText(a.reason, 'reason', 2000);
    s.stageBeforeSuspension = s.stage;
    setStage(s, 'SUSPENDED');
    event(ctx, 'SUSPENDED', { reason: a.reason });
    return 'construction suspended';
  },

  resume(ctx, a) {
    const { s } = ctx;
    requireStage(s, ['SUSPENDED']);
    requireOrg(
      ctx,
      [s.details.ownerOrg, s.details.responsibleDept],
      'resumption is recorded by the owner or the responsible department',
    );
    requireText(a.reason, 'reason', 2000);
    setStage(s, s.stageBeforeSuspension ?? 'UNDER_CONSTRUCTION');
    s.stageBeforeSuspension = undefined;
    event(ctx, 'RESUMED', { reason: a.reason });
    return 'construction resumed';
  },

  remove(ctx, a) {
    const { s } = ctx;
    requireLive(s);
    requireOrg(ctx, ctx.policy.leadingGroup, 'removal from the library is decided by the leading group');
    if (!['POLICY_CHANGE', 'FORCE_MAJEURE', 'OTHER'].includes(a.reason)) {
      throw new DomainError('INVALID_DATA', 'reason must be POLICY_CHANGE, FORCE_MAJEURE or OTHER', {
        field: 'reason',
      });
    }
    requireText(a.explanation, 'explanation', 2000);
    requireText(a.approver, 'approver', 200);
    s.removal = { reason: a.reason, explanation: a.explanation, approver: a.approver };
    cancelOpenTasks(ctx, 'removed from the library');
    setStage(s, 'REMOVED');
    event(ctx, 'REMOVED', { ...s.removal, replacementExpected: true });
    // The portfolio is asked for a replacement project (动态保持 the planning library's size).
    (s.outbox.notifications ??= []).push({
      key: `${s.projectId}:replacement`,
      template: 'GENERIC',
      recipients: [{ org: s.details.portfolio }],
      payload: {
        projectId: s.projectId,
        projectName: s.details.name,
        message: `项目已调出库（${a.explanation}），请补充替代项目`,
      },
    });
    return 'removed from the library; a replacement project is expected from its portfolio';
  },

  extendDeadline(ctx, a) {
    const { s, policy } = ctx;
    const task = anyOpenTask(ctx, a.taskId);
    requireOrg(
      ctx,
      [s.details.portfolio, policy.leadingGroup],
      'deadlines are extended by the special group of the portfolio or the leading group',
    );
    if (!ctx.req.actor.roles.includes('leader'))
      throw new DomainError('NOT_ASSIGNEE', 'extending a deadline needs the leader role');
    const cap = policy.time.extensions;
    if (
      typeof a.units !== 'number' ||
      !Number.isInteger(a.units) ||
      a.units < 1 ||
      a.units > cap.maxWorkingDays
    ) {
      throw new DomainError('INVALID_DATA', `an extension is 1–${cap.maxWorkingDays} working days`, {
        field: 'units',
      });
    }
    requireText(a.reason, 'reason', 2000);
    const clock = clockOf(task);
    if (clock.extensions.length >= cap.maxPerTask) {
      throw new DomainError('GATE_NOT_MET', `this task has had its ${cap.maxPerTask} extension(s)`, {
        taskId: task.id,
      });
    }
    clock.extensions.push({ units: a.units, reason: a.reason, at: ctx.now, actor: ctx.req.actor });
    clock.needsSchedule = true;
    ctx.touchedTask = task.id;
    touch(s, task.id);
    event(ctx, 'DEADLINE_EXTENDED', { taskId: task.id, units: a.units, reason: a.reason });
    return `deadline of ${task.title} extended by ${a.units}`;
  },

  pauseClock(ctx, a) {
    const task = anyOpenTask(ctx, a.taskId);
    requireOrg(ctx, task.assigneeOrg, 'the clock is paused by the assigned organisation');
    if (!['SUPPLEMENT', 'EXPERT_REVIEW', 'HEARING'].includes(a.reason)) {
      throw new DomainError('INVALID_DATA', 'reason must be SUPPLEMENT, EXPERT_REVIEW or HEARING', {
        field: 'reason',
      });
    }
    if (a.note !== undefined) requireText(a.note, 'note', 2000);
    const clock = clockOf(task);
    if (clock.pauses.some((p) => p.to === undefined))
      throw new DomainError('ALREADY_DECIDED', 'the clock is already paused', { taskId: task.id });
    clock.pauses.push({ from: ctx.now, reason: a.reason });
    ctx.touchedTask = task.id;
    touch(ctx.s, task.id);
    event(ctx, 'CLOCK_PAUSED', { taskId: task.id, reason: a.reason, note: a.note });
    return `clock of ${task.title} paused`;
  },

  resumeClock(ctx, a) {
    const task = anyOpenTask(ctx, a.taskId);
    requireOrg(ctx, task.assigneeOrg, 'the clock is resumed by the assigned organisation');
    if (a.note !== undefined) requireText(a.note, 'note', 2000);
    const clock = clockOf(task);
    const open = clock.pauses.find((p) => p.to === undefined);
    if (!open) throw new DomainError('WRONG_STAGE', 'the clock is not paused', { taskId: task.id });
    open.to = ctx.now;
    clock.needsSchedule = true;
    ctx.touchedTask = task.id;
    touch(ctx.s, task.id);
    event(ctx, 'CLOCK_RESUMED', { taskId: task.id, pausedMs: ctx.now - open.from, note: a.note });
    return `clock of ${task.title} resumed`;
  },

  raiseBlocker(ctx, a) {
    const { s, policy } = ctx;
    requireLive(s);
    const involved = new Set([
      s.details.ownerOrg,
      s.details.responsibleDept,
      s.details.portfolio,
      s.details.county,
      policy.leadingGroup,
      ...s.tasks.map((t) => t.assigneeOrg),
    ]);
    requireOrg(ctx, [...involved], 'only an organisation working on the project raises a blocker on it');
    if (!(a.category in BLOCKER_CATEGORIES))
      throw new DomainError(
        'INVALID_DATA',
        `category must be one of ${Object.keys(BLOCKER_CATEGORIES).join(', ')}`,
        {
          field: 'category',
        },
      );
    if (!(a.level in BLOCKER_LEVELS))
      throw new DomainError(
        'INVALID_DATA',
        `level must be one of ${Object.keys(BLOCKER_LEVELS).join(', ')}`,
        {
          field: 'level',
        },
      );
    const responsible = policy.organisations.find((o) => o.id === a.responsibleOrg);
    if (!responsible || !(RESPONSIBLE_ORG_KINDS as readonly string[]).includes(responsible.kind))
      throw new DomainError(
        'INVALID_DATA',
        `responsibleOrg must be a department, county or special group of the policy`,
        { field: 'responsibleOrg' },
      );
    const description = requireText(a.description, 'description', 2000).trim();
    const blockers = (s.blockers ??= []);
    if (blockers.length >= BLOCKERS_PER_PROJECT_LIMIT)
      throw new DomainError(
        'INVALID_DATA',
        `a project carries at most ${BLOCKERS_PER_PROJECT_LIMIT} blockers`,
        {
          field: 'description',
        },
      );
    const number = blockers.length + 1;
    const id = blockerIdOf(s.projectId, number);
    blockers.push({
      id,
      number,
      category: a.category,
      level: a.level,
      responsibleOrg: a.responsibleOrg,
      description,
      raisedBy: ctx.req.actor,
      raisedAt: ctx.now,
      status: 'OPEN',
      round: 1,
      escalationLevel: 0,
      started: false,
    });
    ctx.touchedBlocker = id;
    event(ctx, 'BLOCKER_RAISED', {
      blockerId: id,
      category: a.category,
      level: a.level,
      responsibleOrg: a.responsibleOrg,
      description,
    });
    return `blocker ${id} raised; ${a.responsibleOrg} is responsible`;
  },

  withdraw(ctx, a) {
    const { s } = ctx;
    requireStage(s, PRE_START_LIVE_STAGES);
    requireOrg(ctx, s.details.ownerOrg, 'only the applying unit withdraws its project');
    requireText(a.reason, 'reason', 2000);
    cancelOpenTasks(ctx, 'withdrawn by the applicant');
    setStage(s, 'WITHDRAWN');
    event(ctx, 'WITHDRAWN', { reason: a.reason });
    return 'project withdrawn';
  },
};

// ----------------------------------------------------------------------------------------------- helpers

export function tier1Departments(policy: Policy, d: ProjectDetails): string[] {
  const t1 = policy.review.tier1;
  const orgs = [
    ...t1.always,
    ...(d.landInvolved ? t1.whenLandInvolved : []),
    ...(t1.byIndustry[d.industry] ?? []),
  ];
  return [...new Set(orgs)];
}

export function requiredItems(items: readonly WorkItem[], d: ProjectDetails): WorkItem[] {
  return items.filter((m) => holds(m.requiredWhen, d));
}

export function assigneeOf(item: WorkItem, d: ProjectDetails): string {
  if (item.assignee === 'OWNER') return d.ownerOrg;
  if (item.assignee === 'RESPONSIBLE_DEPT') return d.responsibleDept;
  return item.assignee;
}

function workItemOf(policy: Policy, task: Task): WorkItem | undefined {
  const key = task.key.slice(2);
  const list = task.kind === 'STEP' ? policy.preConstruction.steps : policy.reserve.matters;
  return list.find((m) => m.key === key);
}

function orgName(policy: Policy, id: string): string {
  return policy.organisations.find((o) => o.id === id)?.name ?? id;
}

/** RESERVE → PRE_CONSTRUCTION once every required approval matter is done and a valid project code is recorded. */
function maybeLeaveReserve(ctx: Ctx): boolean {
  const { s, policy } = ctx;
  const matters = s.tasks.filter((t) => t.kind === 'APPROVAL_MATTER');
  if (s.projectCode === undefined || matters.some((t) => t.status !== 'DONE')) return false;
  setStage(s, 'PRE_CONSTRUCTION');
  event(ctx, 'ENTERED_PRE_CONSTRUCTION', { projectCode: s.projectCode });
  for (const step of requiredItems(policy.preConstruction.steps, s.details)) {
    openTask(ctx, {
      key: `S-${step.key}`,
      kind: 'STEP',
      title: step.name,
      assigneeOrg: assigneeOf(step, s.details),
    });
  }
  openTask(ctx, { key: 'G-START', kind: 'GATE', title: '开工条件核查', assigneeOrg: s.details.ownerOrg });
  return true;
}

function openTask(
  ctx: Ctx,
  t: { key: string; kind: TaskKind; title: string; assigneeOrg: string; tier?: 1 | 2 | 3 },
): Task {
  const { s } = ctx;
  const task: Task = {
    id: `${s.projectId}~${t.key}`,
    key: t.key,
    kind: t.kind,
    title: t.title,
    stage: s.stage,
    tier: t.tier,
    round: s.round,
    assigneeOrg: t.assigneeOrg,
    status: 'OPEN',
    openedAt: ctx.now,
    clock: { extensions: [], pauses: [], needsSchedule: true },
    escalationLevel: 0,
    remindersSent: 0,
  };
  s.tasks.push(task);
  touch(s, task.id);
  event(ctx, 'TASK_OPENED', {
    taskId: task.id,
    kind: task.kind,
    title: task.title,
    assigneeOrg: task.assigneeOrg,
    tier: task.tier,
  });
  return task;
}

function closeTask(
  ctx: Ctx,
  task: Task,
  outcome: Partial<Pick<Task, 'decision' | 'opinion' | 'result'>>,
): void {
  Object.assign(task, outcome, { status: 'DONE', actor: ctx.req.actor, closedAt: ctx.now });
  ctx.touchedTask = task.id;
  touch(ctx.s, task.id);
}

function cancelOpenTasks(ctx: Ctx, why: string, which: (t: Task) => boolean = () => true): void {
  for (const t of ctx.s.tasks) {
    if (t.status !== 'OPEN' || !which(t)) continue;
    Object.assign(t, { status: 'CANCELLED', closedAt: ctx.now, result: { cancelledBecause: why } });
    touch(ctx.s, t.id);
  }
}

function touch(s: ProjectState, taskId: string): void {
  if (!s.outbox.taskIds.includes(taskId)) s.outbox.taskIds.push(taskId);
}

function setStage(s: ProjectState, stage: Stage): void {
  s.stage = stage;
}

function event(ctx: Ctx, type: string, data: Record<string, unknown>): void {
  recordEvent(ctx.s, {
    type,
    actor: ctx.req.actor,
    requestId: ctx.req.requestId,
    stageBefore: ctx.stageBefore,
    at: ctx.now,
    data,
  });
}

function openTaskFor(ctx: Ctx, taskId: string, kinds: TaskKind[], checkAssignee = true): Task {
  const { s } = ctx;
  const task = s.tasks.find((t) => t.id === taskId);
  if (!task || !kinds.includes(task.kind)) {
    throw new DomainError(
      'UNKNOWN_TASK',
      `no ${kinds.join(' or ').toLowerCase()} task ${taskId} on this project`,
      { taskId },
    );
  }
  if (task.status !== 'OPEN') {
    throw new DomainError(
      'ALREADY_DECIDED',
      `task ${taskId} is already ${task.status === 'DONE' ? 'decided' : 'cancelled'}`,
      { taskId, status: task.status },
    );
  }
  // A step left open at the start (the estimate) may still be completed during construction.
  const lateStep = task.kind === 'STEP' && (s.stage === 'UNDER_CONSTRUCTION' || s.stage === 'SUSPENDED');
  if (task.stage !== s.stage && !lateStep)
    throw new DomainError(
      'WRONG_STAGE',
      `task ${taskId} belongs to ${task.stage}, the project is in ${s.stage}`,
    );
  if (checkAssignee) requireOrg(ctx, task.assigneeOrg, `task ${taskId} is assigned to ${task.assigneeOrg}`);
  return task;
}

/** Any open task of the project in the current stage (extensions and pauses apply to every kind). */
function anyOpenTask(ctx: Ctx, taskId: string): Task {
  return openTaskFor(ctx, taskId, ['REVIEW', 'APPROVAL_MATTER', 'STEP', 'REPORT', 'GATE'], false);
}

function clockOf(task: Task): NonNullable<Task['clock']> {
  task.clock ??= { extensions: [], pauses: [], needsSchedule: true };
  return task.clock;
}

function requireStage(s: ProjectState, stages: readonly Stage[]): void {
  if (!stages.includes(s.stage)) {
    throw new DomainError(
      'WRONG_STAGE',
      `not allowed in stage ${s.stage} (allowed in ${stages.join(', ')})`,
      { stage: s.stage, allowed: stages },
    );
  }
}

function requireLive(s: ProjectState): void {
  if (isTerminal(s.stage))
    throw new DomainError('WRONG_STAGE', `the project is ${s.stage}`, { stage: s.stage });
}

function requireOrg(ctx: Ctx, orgs: string | string[], why: string): void {
  const allowed = Array.isArray(orgs) ? orgs : [orgs];
  if (!allowed.includes(ctx.req.actor.org)) {
    throw new DomainError('NOT_ASSIGNEE', `${why}; ${ctx.req.actor.org} is not allowed`, {
      actorOrg: ctx.req.actor.org,
      allowed,
    });
  }
}

function checkRequest(req: ActionRequest): void {
  if (typeof req.requestId !== 'string' || req.requestId.length < 1 || req.requestId.length > 200) {
    throw new DomainError('INVALID_DATA', 'requestId must be 1–200 characters', { field: 'requestId' });
  }
  if (
    !req.actor ||
    typeof req.actor.userId !== 'string' ||
    typeof req.actor.org !== 'string' ||
    !Array.isArray(req.actor.roles)
  ) {
    throw new DomainError('INVALID_DATA', 'actor must have userId, org and roles', { field: 'actor' });
  }
  if (!req.action || !(req.action.type in HANDLERS))
    throw new DomainError('INVALID_DATA', 'unknown action', { field: 'action.type' });
}

function requireText(v: unknown, field: string, max: number, required = true): string {
  if ((v === undefined || v === '') && !required) return '';
  if (typeof v !== 'string' || v.trim().length === 0 || v.length > max) {
    throw new DomainError('INVALID_DATA', `${field} must be a non-empty text of at most ${max} characters`, {
      field,
    });
  }
  return v;
}

function requireDate(v: unknown, field: string): string {
  // Date.parse rolls 2025-02-30 over to March; a round trip catches impossible dates.
  const valid =
    typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`));
  if (!valid || new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) !== v) {
    throw new DomainError('INVALID_DATA', `${field} must be a date YYYY-MM-DD`, { field });
  }
  return v;
}

/** Money is integer 元: a safe, non-negative integer (positive where zero makes no sense). */
function requireYuan(v: unknown, field: string, positive = false): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < (positive ? 1 : 0)) {
    throw new DomainError(
      'INVALID_DATA',
      `${field} must be a ${positive ? 'positive' : 'non-negative'} integer amount in 元`,
      { field },
    );
  }
  return v;
}

/** Integer basis points (1/100 of a percent), rounded half up, so percentages stay exact and comparable. */
export function basisPoints(part: number, whole: number): number {
  if (whole <= 0) return 0;
  const w = BigInt(whole);
  return Number((BigInt(part) * 10000n + w / 2n) / w);
}

/**
 * A blocker's workflow reports a change (resolved, reopened, closed, escalated): the project's summary follows
 * and its audit trail records it, so the project's read model, reports and supervisors see it.
 * Returns false for a stale or unknown report (signals may arrive late or twice).
 */
export function applyBlockerChange(s: ProjectState, change: BlockerChange): boolean {
  const b = s.blockers?.find((x) => x.id === change.blockerId);
  if (!b) return false;
  const order = (x: { round: number; status: string; escalationLevel: number }) =>
    x.round * 1000 + (x.status === 'CLOSED' ? 200 : x.status === 'RESOLVED' ? 100 : 0) + x.escalationLevel;
  if (order(change) <= order(b)) return false;
  const before = { status: b.status, escalationLevel: b.escalationLevel, round: b.round };
  Object.assign(b, {
    status: change.status,
    round: change.round,
    escalationLevel: change.escalationLevel,
    closedAt: change.closedAt,
  });
  recordEvent(s, {
    type: 'BLOCKER_UPDATED',
    stageBefore: s.stage,
    at: change.at,
    data: {
      blockerId: b.id,
      before,
      after: { status: b.status, escalationLevel: b.escalationLevel, round: b.round },
    },
  });
  return true;
}
