/** 前期: the start gate (开工条件核查). */
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
  type Handlers,
} from '../task-ops';
import { DomainError } from '../errors';
import type { ProjectState } from '../state';

export const preConstructionHandlers: Pick<Handlers, 'startConstruction'> = {
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
    // An estimate step still open stays open: payments need the approved estimate even after the start; so does
    // a monthly report still owed.
    cancelOpenTasks(
      ctx,
      'construction started',
      (t) =>
        t.kind !== 'REPORT' &&
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
};
