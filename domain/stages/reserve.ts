/** 储备: the parallel approval matters, the project code and funding, and the exit to 前期. */
import {
  PRE_START_LIVE_STAGES,
  assigneeOf,
  closeTask,
  event,
  openTask,
  openTaskFor,
  requireDate,
  requireOrg,
  requireStage,
  requireText,
  requireYuan,
  requiredItems,
  setStage,
  touch,
  workItemOf,
  type Ctx,
  type Handlers,
} from '../task-ops';
import { startReportObligation } from '../monthly-reports';
import { DomainError } from '../errors';
import { PROJECT_CODE_PATTERN } from '../actions';

export const reserveHandlers: Pick<Handlers, 'completeTask' | 'recordProjectCode' | 'confirmFunding'> = {
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
};

/** RESERVE → PRE_CONSTRUCTION once every required approval matter is done and a valid project code is recorded. */
export function maybeLeaveReserve(ctx: Ctx): boolean {
  const { s, policy } = ctx;
  const matters = s.tasks.filter((t) => t.kind === 'APPROVAL_MATTER');
  if (s.projectCode === undefined || matters.some((t) => t.status !== 'DONE')) return false;
  setStage(s, 'PRE_CONSTRUCTION');
  startReportObligation(s, policy, ctx.now);
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
