/**
 * What tiers 2 and 3 produce, as the seed asks of them (annex 1; annex 2, 谋划阶段):
 * - 专业评审 (tier 2, the special group with experts and third parties) records 技术方案, 投资效益 and 风险防控, each
 *   with an opinion, and an outcome: recommended as a key project (joins the group's 重点项目建议清单), not
 *   recommended (stays in 谋划 as a non-key project and goes on toward plan inclusion — only 初审 eliminates), or
 *   returned for revision. Experts of the pool are invited to a review; their opinions are recorded beside the
 *   group's decision; an expert whose term has ended or who has exited cannot be invited.
 * - 综合评审 (tier 3, the leading group's monthly joint meeting) decides per meeting whether a project is in the
 *   year's 重点项目库 and, for a government-invested project, its fund allocation (amount, source type, year). Key
 *   status (市级重点) is this outcome, not a flag the applicant declares.
 */
import { DomainError } from '../errors';
import { holds } from '../conditions';
import type { Actor } from '../project';
import type { Task } from '../state';
import {
  cancelOpenTasks,
  closeTask,
  event,
  openTask,
  openTaskFor,
  requireOrg,
  requireText,
  setStage,
  touch,
  type Ctx,
  type Handlers,
} from '../task-ops';

/** The three things the seed names for 专业评审. */
export const SPECIALIST_DIMENSIONS = {
  technical: '技术方案',
  investmentBenefit: '投资效益',
  riskControl: '风险防控',
} as const;
export type SpecialistDimension = keyof typeof SPECIALIST_DIMENSIONS;

export type SpecialistOutcome = 'RECOMMENDED' | 'NOT_RECOMMENDED' | 'RETURNED';

/** An expert as the pool knew them when invited (the API reads the pool; the workflow keeps the record). */
export interface ExpertRef {
  expertId: string;
  name: string;
  field: string;
  institution?: string | undefined;
  /** 专家 or 第三方机构 */
  kind: 'EXPERT' | 'THIRD_PARTY';
  /** Last day of the expert's current term (届), YYYY-MM-DD. */
  termEndsOn: string;
  status: 'ACTIVE' | 'EXITED';
}

export interface SpecialistReview {
  round: number;
  taskId: string;
  group: string;
  outcome: SpecialistOutcome;
  assessments: Record<SpecialistDimension, string>;
  experts: (ExpertRef & { opinion: string })[];
  decidedBy: Actor;
  decidedAt: number;
}

export interface FundAllocation {
  amountYuan: number;
  /** A funding source type of the policy (中央预算内投资, 地方政府专项债券, 财政资金, …). */
  sourceType: string;
  year: number;
}

export interface KeyProjectDecision {
  round: number;
  taskId: string;
  included: boolean;
  year: number;
  meeting: { month: string; date: string };
  opinion?: string | undefined;
  fundAllocation?: FundAllocation | undefined;
  decidedBy: Actor;
  decidedAt: number;
}

function shanghaiDay(ms: number): string {
  return new Date(ms + 8 * 3_600_000).toISOString().slice(0, 10);
}

function tierTask(ctx: Ctx, taskId: string, tier: 2 | 3): Task {
  const task = openTaskFor(ctx, taskId, ['REVIEW']);
  if (task.tier !== tier)
    throw new DomainError('UNKNOWN_TASK', `${taskId} is not a tier-${tier} review`, { taskId });
  return task;
}

/** After tier 2: the leading group's review where the policy asks for it, else plan inclusion. */
function afterSpecialistReview(ctx: Ctx, recommended: boolean): string {
  const { s, policy } = ctx;
  if (holds(policy.review.tier3.appliesWhen, { ...s.details, keyRecommended: recommended })) {
    setStage(s, 'COMPREHENSIVE_REVIEW');
    openTask(ctx, {
      key: `R${s.round}-T3`,
      kind: 'REVIEW',
      tier: 3,
      title: '综合评审（月度联席会议）',
      assigneeOrg: policy.leadingGroup,
    });
    return 'comprehensive review opened for the monthly joint meeting';
  }
  openPlanGate(ctx);
  return 'comprehensive review not required; awaiting plan inclusion';
}

export function openPlanGate(ctx: Ctx): void {
  openTask(ctx, {
    key: `R${ctx.s.round}-PLAN`,
    kind: 'GATE',
    title: '纳入规划或年度计划',
    assigneeOrg: ctx.policy.planInclusionOrg,
  });
}

function returnForRevision(ctx: Ctx, task: Task): void {
  cancelOpenTasks(ctx, `returned at tier ${task.tier}`);
  setStage(ctx.s, 'DRAFT');
  event(ctx, 'RETURNED', { tier: task.tier, by: task.assigneeOrg });
}

export const reviewOutputHandlers: Pick<
  Handlers,
  | 'inviteExperts'
  | 'decideSpecialistReview'
  | 'decideComprehensiveReview'
  | 'setProvincialKey'
  | 'rescheduleMeetingTasks'
> = {
  /** A joint meeting moved (顺延): the tier-3 tasks waiting for it recompute their deadline from the new day. */
  rescheduleMeetingTasks(ctx, a) {
    const { s, policy } = ctx;
    requireOrg(ctx, policy.leadingGroup, 'the joint meeting is moved by the leading group');
    let moved = 0;
    for (const t of s.tasks) {
      if (t.status !== 'OPEN' || t.kind !== 'REVIEW' || t.tier !== 3 || !t.clock) continue;
      t.clock.needsSchedule = true;
      touch(s, t.id);
      ctx.touchedTask = t.id;
      moved++;
    }
    if (moved === 0)
      throw new DomainError('WRONG_STAGE', 'no comprehensive review waits for a joint meeting');
    event(ctx, 'JOINT_MEETING_POSTPONED', { meetingMonth: a.meetingMonth, date: a.date });
    return `the comprehensive review follows the joint meeting of ${a.meetingMonth} to ${a.date}`;
  },

  inviteExperts(ctx, a) {
    const { s, now } = ctx;
    const task = tierTask(ctx, a.taskId, 2);
    if (!Array.isArray(a.experts) || a.experts.length === 0 || a.experts.length > 30)
      throw new DomainError('INVALID_DATA', 'invite 1–30 experts', { field: 'expertIds' });
    const today = shanghaiDay(now);
    const invitations = (s.expertInvitations ??= []);
    const entry = invitations.find((i) => i.taskId === task.id) ?? { taskId: task.id, experts: [] };
    a.experts.forEach((e, i) => {
      if (e.status !== 'ACTIVE')
        throw new DomainError('INVALID_DATA', `expert ${e.name} (${e.expertId}) has exited the pool`, {
          field: `expertIds.${i}`,
        });
      if (e.termEndsOn < today)
        throw new DomainError(
          'INVALID_DATA',
          `the term of expert ${e.name} (${e.expertId}) ended on ${e.termEndsOn}`,
          { field: `expertIds.${i}` },
        );
      if (ctx.policy.experts?.fields && !ctx.policy.experts.fields.includes(e.field))
        throw new DomainError('INVALID_DATA', `${e.field} is not an expert field of the policy`, {
          field: `expertIds.${i}`,
        });
    });
    const added = a.experts.filter((e) => !entry.experts.some((x) => x.expertId === e.expertId));
    entry.experts.push(...added.map((e) => ({ ...e })));
    if (!invitations.includes(entry)) invitations.push(entry);
    ctx.touchedTask = task.id;
    event(ctx, 'EXPERTS_INVITED', {
      taskId: task.id,
      experts: added.map((e) => ({ expertId: e.expertId, name: e.name, field: e.field, kind: e.kind })),
    });
    return `${added.length} expert(s) invited to ${task.title}`;
  },

  decideSpecialistReview(ctx, a) {
    const { s } = ctx;
    const task = tierTask(ctx, a.taskId, 2);
    if (!['RECOMMENDED', 'NOT_RECOMMENDED', 'RETURNED'].includes(a.outcome))
      throw new DomainError('INVALID_DATA', 'outcome must be RECOMMENDED, NOT_RECOMMENDED or RETURNED', {
        field: 'outcome',
      });
    const assessments = {} as Record<SpecialistDimension, string>;
    for (const d of Object.keys(SPECIALIST_DIMENSIONS) as SpecialistDimension[])
      assessments[d] = requireText(a.assessments?.[d], `assessments.${d}`, 2000);
    const invited = s.expertInvitations?.find((i) => i.taskId === task.id)?.experts ?? [];
    const experts = (a.expertOpinions ?? []).map((o, i) => {
      const ref = invited.find((e) => e.expertId === o.expertId);
      if (!ref)
        throw new DomainError('INVALID_DATA', `expert ${o.expertId} was not invited to this review`, {
          field: `expertOpinions.${i}.expertId`,
        });
      return { ...ref, opinion: requireText(o.opinion, `expertOpinions.${i}.opinion`, 2000) };
    });
    const review: SpecialistReview = {
      round: s.round,
      taskId: task.id,
      group: task.assigneeOrg,
      outcome: a.outcome,
      assessments,
      experts,
      decidedBy: ctx.req.actor,
      decidedAt: ctx.now,
    };
    (s.specialistReviews ??= []).push(review);
    const decision = a.outcome === 'RETURNED' ? 'RETURN' : 'PASS';
    closeTask(ctx, task, {
      decision,
      opinion: a.outcome === 'RETURNED' ? assessments.technical : undefined,
      result: { outcome: a.outcome, assessments, experts: experts.map((e) => e.expertId) },
    });
    event(ctx, 'SPECIALIST_REVIEW_DECIDED', {
      taskId: task.id,
      tier: 2,
      outcome: a.outcome,
      assessments,
      experts: experts.map((e) => ({ expertId: e.expertId, name: e.name, opinion: e.opinion })),
      org: task.assigneeOrg,
    });
    if (a.outcome === 'RETURNED') {
      returnForRevision(ctx, task);
      return 'returned to the applicant for revision (tier 2)';
    }
    const recommended = a.outcome === 'RECOMMENDED';
    if (recommended) event(ctx, 'KEY_PROJECT_RECOMMENDED', { group: task.assigneeOrg, round: s.round });
    const next = afterSpecialistReview(ctx, recommended);
    return recommended
      ? `recommended as a key project (重点项目建议清单); ${next}`
      : `not recommended as a key project; continues as a non-key project; ${next}`;
  },

  decideComprehensiveReview(ctx, a) {
    const { s, policy } = ctx;
    const task = tierTask(ctx, a.taskId, 3);
    const meetingMonth = a.meeting?.month;
    const meetingDate = a.meeting?.date;
    if (typeof meetingMonth !== 'string' || !/^\d{4}-(0[1-9]|1[0-2])$/.test(meetingMonth))
      throw new DomainError('INVALID_DATA', 'the joint meeting is named by its month YYYY-MM', {
        field: 'meetingMonth',
      });
    if (typeof meetingDate !== 'string' || meetingDate > shanghaiDay(ctx.now))
      throw new DomainError('INVALID_DATA', 'the joint meeting deciding it must have been held', {
        field: 'meetingMonth',
      });
    // The meeting decides the reviews put to it: one held before this review opened did not see it.
    if (meetingDate < shanghaiDay(task.openedAt))
      throw new DomainError(
        'INVALID_DATA',
        `the joint meeting of ${meetingMonth} was held on ${meetingDate}, before this review was put to it`,
        { field: 'meetingMonth' },
      );
    if (a.returned) {
      requireText(a.opinion, 'opinion', 2000);
      closeTask(ctx, task, { decision: 'RETURN', opinion: a.opinion, result: { meeting: a.meeting } });
      event(ctx, 'COMPREHENSIVE_REVIEW_DECIDED', {
        taskId: task.id,
        tier: 3,
        returned: true,
        meeting: a.meeting,
      });
      returnForRevision(ctx, task);
      return 'returned to the applicant for revision (tier 3)';
    }
    if (typeof a.included !== 'boolean')
      throw new DomainError('INVALID_DATA', 'included must be true or false', { field: 'included' });
    if (a.opinion !== undefined && a.opinion !== '') requireText(a.opinion, 'opinion', 2000);
    const year = Number(meetingMonth.slice(0, 4));
    let fundAllocation: FundAllocation | undefined;
    if (a.fundAllocation) {
      if (!s.details.flags.governmentInvested)
        throw new DomainError('INVALID_DATA', 'funds are allocated to government-invested projects', {
          field: 'fundAllocation',
        });
      const f = a.fundAllocation;
      if (!Number.isSafeInteger(f.amountYuan) || f.amountYuan < 1)
        throw new DomainError('INVALID_DATA', 'the allocation is a positive amount in 元', {
          field: 'fundAllocation.amountYuan',
        });
      const types = Object.keys(policy.funding?.sourceTypes ?? {});
      if (types.length > 0 && !types.includes(f.sourceType))
        throw new DomainError('INVALID_DATA', `sourceType must be one of ${types.join(', ')}`, {
          field: 'fundAllocation.sourceType',
        });
      if (!Number.isInteger(f.year) || f.year < year - 1 || f.year > year + 5)
        throw new DomainError('INVALID_DATA', 'the allocation year is the meeting year or a later one', {
          field: 'fundAllocation.year',
        });
      fundAllocation = { amountYuan: f.amountYuan, sourceType: f.sourceType, year: f.year };
    } else if (a.included && s.details.flags.governmentInvested) {
      throw new DomainError(
        'INVALID_DATA',
        'a government-invested project included in the 重点项目库 gets its fund allocation (资金分配方案)',
        { field: 'fundAllocation' },
      );
    }
    const decision: KeyProjectDecision = {
      round: s.round,
      taskId: task.id,
      included: a.included,
      year,
      meeting: { month: meetingMonth, date: meetingDate },
      opinion: a.opinion,
      fundAllocation,
      decidedBy: ctx.req.actor,
      decidedAt: ctx.now,
    };
    (s.keyProjectDecisions ??= []).push(decision);
    s.details.flags.cityKey = a.included;
    closeTask(ctx, task, {
      decision: 'PASS',
      opinion: a.opinion,
      result: { included: a.included, meeting: decision.meeting, fundAllocation },
    });
    event(ctx, 'COMPREHENSIVE_REVIEW_DECIDED', {
      taskId: task.id,
      tier: 3,
      included: a.included,
      year,
      meeting: decision.meeting,
      fundAllocation,
      opinion: a.opinion,
    });
    openPlanGate(ctx);
    return a.included
      ? `included in the ${year} 重点项目库 by the joint meeting of ${meetingMonth}; awaiting plan inclusion`
      : `not included in the ${year} 重点项目库; continues as a non-key project; awaiting plan inclusion`;
  },

  setProvincialKey(ctx, a) {
    const { s, policy } = ctx;
    requireOrg(ctx, policy.planInclusionOrg, '省级重点 is set by 市发改委');
    if (typeof a.provincialKey !== 'boolean')
      throw new DomainError('INVALID_DATA', 'provincialKey must be true or false', {
        field: 'provincialKey',
      });
    requireText(a.documentNumber, 'documentNumber', 100);
    if (s.details.flags.provincialKey === a.provincialKey)
      throw new DomainError('ALREADY_DECIDED', `省级重点 is already ${String(a.provincialKey)}`);
    s.details.flags.provincialKey = a.provincialKey;
    event(ctx, 'PROVINCIAL_KEY_SET', { provincialKey: a.provincialKey, documentNumber: a.documentNumber });
    return a.provincialKey ? 'marked 省级重点' : '省级重点 removed';
  },
};
