/** 谋划: submission and the three review tiers, up to plan inclusion (纳入规划). */
import {
  assigneeOf,
  cancelOpenTasks,
  closeTask,
  event,
  openTask,
  openTaskFor,
  orgName,
  requireDate,
  requireOrg,
  requireStage,
  requireText,
  requiredItems,
  setStage,
  type Handlers,
} from '../task-ops';
import { maybeLeaveReserve } from './reserve';
import { DomainError } from '../errors';
import type { Policy } from '../../policy/schema';
import type { ProjectDetails } from '../project';

export const planningHandlers: Pick<Handlers, 'submit' | 'decideReview' | 'recordPlanInclusion'> = {
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
    if (task.tier === 2)
      throw new DomainError(
        'INVALID_DATA',
        '专业评审 is decided with its 技术方案, 投资效益 and 风险防控 opinions and an outcome (POST /tasks/{taskId}/specialist-review)',
        { field: 'decision' },
      );
    if (task.tier === 3)
      throw new DomainError(
        'INVALID_DATA',
        '综合评审 is decided by the monthly joint meeting (POST /tasks/{taskId}/comprehensive-review)',
        { field: 'decision' },
      );
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
    // Only 初审 is decided here (tiers 2 and 3 have their own actions, above).
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
};

export function tier1Departments(policy: Policy, d: ProjectDetails): string[] {
  const t1 = policy.review.tier1;
  const orgs = [
    ...t1.always,
    ...(d.landInvolved ? t1.whenLandInvolved : []),
    ...(t1.byIndustry[d.industry] ?? []),
  ];
  return [...new Set(orgs)];
}
