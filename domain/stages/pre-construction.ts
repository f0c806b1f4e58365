/**
 * 前期: the start gate (开工条件核查). As the seed states it (annex 2, 五(二)3 and the definitions of 五 and 六):
 * construction starts only with a construction permit AND construction funds in place; a procurement-type
 * project, which needs no permit, starts with its signed procurement contract, still with funds in place;
 * 应急类等特殊项目 are excepted only with the exception approved by the organisation the policy names. The owner
 * applies (开工申请); an organisation other than the owner checks and confirms the start. The preconditions the
 * policy names (the 社会稳定风险评估 of 风险预控) must be done first and are never cancelled at the start.

 */
import {
  cancelOpenTasks,
  closeTask,
  event,
  openTask,
  requireDate,
  requireOrg,
  requireStage,
  requireText,
  setStage,
  workItemOf,
  type Ctx,
  type Handlers,
} from '../task-ops';
import { DomainError } from '../errors';
import type { Policy } from '../../policy/schema';
import type { ProjectDetails } from '../project';
import type { ProjectState, Task } from '../state';

type StartBasis = NonNullable<ProjectState['start']>['basis'];

/** The checker's task for one start application: G-START-CHECK-1, -2, … */
export const START_CHECK_KEY = 'G-START-CHECK-';

/** Who makes the 开工条件核查: the policy's checker (default: the responsible department), never the owner. */
export function startCheckerOf(policy: Policy, d: ProjectDetails): string {
  const checker = policy.startGate.checker ?? 'RESPONSIBLE_DEPT';
  return checker === 'RESPONSIBLE_DEPT' ? d.responsibleDept : checker;
}

/** Who approves an emergency project's exception (default: the leading group). */
export function exceptionApproverOf(policy: Policy): string {
  return policy.startGate.emergencyExceptionApprover ?? policy.leadingGroup;
}

/** What the start rests on now, or what is missing (in words a reader of the refusal understands). */
function gateOf(ctx: Ctx): { basis: StartBasis } | { missing: string[] } {
  const { s, policy } = ctx;
  const done = (key: string) => s.tasks.some((t) => t.key === `S-${key}` && t.status === 'DONE');
  const missing: string[] = [];
  for (const key of policy.startGate.preconditions ?? []) {
    const step = policy.preConstruction.steps.find((x) => x.key === key);
    const needed = s.tasks.some((t) => t.key === `S-${key}`);
    if (step && needed && !done(key)) missing.push(`${step.name} (${key})`);
  }
  if (s.startException) return missing.length ? { missing } : { basis: 'EMERGENCY_OVERRIDE' };
  const procurementOnly = s.details.procurementOnly === true;
  const title = procurementOnly
    ? 'signed procurement contract (采购合同签订)'
    : 'construction permit (施工许可)';
  if (!done(procurementOnly ? policy.startGate.contractStep : policy.startGate.permitStep))
    missing.push(title);
  if (!s.funding) missing.push('construction funds in place (建设资金落实)');
  if (missing.length) return { missing };
  return { basis: procurementOnly ? 'PROCUREMENT_CONTRACT' : 'PERMIT_AND_FUNDING' };
}

function refuseUnlessMet(ctx: Ctx): StartBasis {
  const gate = gateOf(ctx);
  if ('basis' in gate) return gate.basis;
  const emergency = ctx.s.details.flags.emergency
    ? `, or an exception approved by ${exceptionApproverOf(ctx.policy)} (应急类)`
    : '';
  throw new DomainError(
    'GATE_NOT_MET',
    `start conditions not met: needs ${gate.missing.join(' and ')}${emergency}`,
    { missing: gate.missing },
  );
}

/** Moves the project into 实施: the gate task closed, steps no longer needed cancelled, completion ahead. */
function enterConstruction(ctx: Ctx, date: string, basis: StartBasis, extra: Record<string, unknown>): void {
  const { s, policy } = ctx;
  const preconditions = policy.startGate.preconditions ?? [];
  const gate = s.tasks.find((t) => t.key === 'G-START' && t.status === 'OPEN');
  if (gate) closeTask(ctx, gate, { result: { basis, date, ...extra } });
  // An estimate step still open stays open: payments need the approved estimate even after the start; so does
  // a monthly report still owed. A precondition is done by now (the gate checked it).
  const keep = (t: Task) =>
    t.kind === 'REPORT' ||
    t.kind === 'CHANGE_REQUEST' ||
    (t.kind === 'STEP' && preconditions.includes(t.key.slice(2))) ||
    (s.approvedEstimateYuan === undefined &&
      workItemOf(policy, t)?.recordsApprovedEstimate === true &&
      t.kind === 'STEP');
  cancelOpenTasks(ctx, 'construction started', (t) => !keep(t));
  setStage(s, 'UNDER_CONSTRUCTION');
  event(ctx, 'CONSTRUCTION_STARTED', { basis, date, ...extra });
  openTask(ctx, {
    key: 'G-COMPLETION',
    kind: 'GATE',
    title: '竣工验收',
    assigneeOrg: s.details.responsibleDept,
  });
}

export const preConstructionHandlers: Pick<
  Handlers,
  'startConstruction' | 'checkStart' | 'approveStartException'
> = {
  startConstruction(ctx, a) {
    const { s, policy } = ctx;
    requireStage(s, ['PRE_CONSTRUCTION']);
    requireOrg(ctx, s.details.ownerOrg, 'the owner applies to start construction (开工申请)');
    requireDate(a.date, 'date');
    if (a.emergencyOverride !== undefined)
      throw new DomainError(
        'INVALID_DATA',
        `an emergency exception is approved by ${exceptionApproverOf(policy)}, not typed in by the owner`,
        { field: 'emergencyOverride' },
      );
    if (s.startApplication)
      throw new DomainError(
        'ALREADY_DECIDED',
        `a start on ${s.startApplication.date} is already applied for`,
        {
          applied: s.startApplication.date,
        },
      );
    const basis = refuseUnlessMet(ctx);
    const checker = startCheckerOf(policy, s.details);
    // The owner's gate task stays open (its deadline still runs) until the checker confirms; the check is a task
    // of its own with its own clock.
    const round = s.tasks.filter((t) => t.key.startsWith(START_CHECK_KEY)).length + 1;
    const check = openTask(ctx, {
      key: `${START_CHECK_KEY}${round}`,
      kind: 'GATE',
      title: '开工条件核查',
      assigneeOrg: checker,
    });
    s.startApplication = { date: a.date, basis, at: ctx.now, actor: ctx.req.actor, checkTaskId: check.id };
    ctx.touchedTask = check.id;
    event(ctx, 'START_APPLIED', { date: a.date, basis, checker, taskId: check.id });
    return `start applied for (${basis}); awaiting the 开工条件核查 by ${checker}`;
  },

  checkStart(ctx, a) {
    const { s, policy } = ctx;
    requireStage(s, ['PRE_CONSTRUCTION']);
    const checker = startCheckerOf(policy, s.details);
    requireOrg(ctx, checker, `the 开工条件核查 is made by ${checker}`);
    if (!['CONFIRM', 'REFUSE'].includes(a.decision))
      throw new DomainError('INVALID_DATA', 'decision must be CONFIRM or REFUSE', { field: 'decision' });
    const application = s.startApplication;
    if (!application)
      throw new DomainError('GATE_NOT_MET', 'the owner has not applied to start construction (开工申请)');
    const check = s.tasks.find((t) => t.id === application.checkTaskId && t.status === 'OPEN');
    if (a.decision === 'REFUSE') {
      requireText(a.opinion, 'opinion', 2000);
      s.startApplication = undefined;
      if (check) closeTask(ctx, check, { decision: 'REJECT', opinion: a.opinion });
      event(ctx, 'START_REFUSED', { opinion: a.opinion, date: application.date });
      return 'start refused; the owner may apply again';
    }
    if (a.opinion !== undefined && a.opinion !== '') requireText(a.opinion, 'opinion', 2000);
    const basis = refuseUnlessMet(ctx);
    if (check) closeTask(ctx, check, { decision: 'PASS', opinion: a.opinion });
    s.start = {
      at: ctx.now,
      date: application.date,
      basis,
      appliedBy: application.actor,
      checkedBy: ctx.req.actor,
      ...(s.startException ? { exception: { ...s.startException } } : {}),
    };
    s.startApplication = undefined;
    enterConstruction(ctx, application.date, basis, {
      checkedBy: ctx.req.actor.org,
      ...(s.startException
        ? { exception: { reason: s.startException.reason, approvedBy: s.startException.approvedBy.org } }
        : {}),
    });
    return `construction started (${basis}); checked by ${ctx.req.actor.org}`;
  },

  approveStartException(ctx, a) {
    const { s, policy } = ctx;
    requireStage(s, ['PRE_CONSTRUCTION']);
    const approver = exceptionApproverOf(policy);
    requireOrg(ctx, approver, `an emergency project's exception is approved by ${approver}`);
    if (!s.details.flags.emergency)
      throw new DomainError(
        'GATE_NOT_MET',
        'only emergency projects (应急类等特殊项目) are excepted from the start gate',
      );
    if (s.startException) throw new DomainError('ALREADY_DECIDED', 'the exception is already approved');
    const reason = requireText(a.reason, 'reason', 2000);
    s.startException = { reason, approvedBy: ctx.req.actor, at: ctx.now };
    event(ctx, 'START_EXCEPTION_APPROVED', { reason });
    return `start exception approved by ${ctx.req.actor.org}`;
  },
};
