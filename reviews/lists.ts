/**
 * The lists tiers 2 and 3 produce: each special group's 重点项目建议清单 (its latest tier-2 outcome is RECOMMENDED and
 * the project is still live) and the year's 年度重点项目库 (the latest decision of that year's joint meetings
 * included it), which the leading group approves (审定) before it is published. The truth is each project's own
 * record (`state.specialistReviews`, `state.keyProjectDecisions`); `reviewLists` only says which projects to read.
 */
import type { Models, ProjectDoc } from '../db/models';
import type { ReviewModels } from '../db/review-models';
import { STAGE_LABELS, TERMINAL_STAGES, type Actor, type Stage } from '../domain/project';
import type { KeyProjectDecision, SpecialistReview } from '../domain/stages/review-outputs';
import { shanghaiTime } from '../reports/format';

/** 元 → 万元, exact: 1 元 is 0.0001 万元, so four decimals lose nothing (350_000_123 → "35000.0123"). */
export function wanExact(yuan: number): string {
  if (!Number.isSafeInteger(yuan)) throw new RangeError(`amount must be integer 元, got ${yuan}`);
  const v = BigInt(yuan);
  const abs = v < 0n ? -v : v;
  return `${v < 0n ? '-' : ''}${abs / 10_000n}.${String(abs % 10_000n).padStart(4, '0')}`;
}

export const listIds = {
  group: (org: string) => `group:${org}`,
  year: (year: number) => `year:${year}`,
  meeting: (month: string) => `meeting:${month}`,
};

/** Names a project (or task) as a possible member of a list, before the decision that may put it there is sent. */
export async function noteListMember(rm: ReviewModels, listId: string, member: string): Promise<void> {
  await rm.ReviewList.updateOne(
    { _id: listId },
    { $set: { [`entries.${member}`]: new Date() } },
    { upsert: true },
  );
}

export async function listMembers(rm: ReviewModels, listId: string): Promise<string[]> {
  return Object.keys((await rm.ReviewList.findById(listId).lean())?.entries ?? {}).sort();
}

interface ProjectFacts {
  projectId: string;
  name: string;
  county: string;
  countyName: string;
  portfolio: string;
  portfolioName: string;
  responsibleDept: string;
  responsibleDeptName: string;
  ownerName: string;
  governmentInvested: boolean;
  totalInvestmentYuan: number;
  totalInvestmentWan: string;
  annualPlanYuan: number;
  annualPlanWan: string;
  stage: string;
  stageLabel: string;
}

export type RecommendationEntry = ProjectFacts & {
  round: number;
  taskId: string;
  assessments: SpecialistReview['assessments'];
  experts: {
    expertId: string;
    name: string;
    field: string;
    kind: string;
    institution?: string;
    opinion: string;
  }[];
  decidedBy: Actor;
  decidedAt: string;
  /** The tier-3 outcome so far, if a joint meeting has decided. */
  keyProjectDecision: { included: boolean; year: number; meetingMonth: string } | null;
};

export interface RecommendationList {
  group: string;
  groupName: string;
  asOf: string;
  count: number;
  totalInvestmentYuan: number;
  totalInvestmentWan: string;
  entries: RecommendationEntry[];
}

export type KeyProjectEntry = ProjectFacts & {
  taskId: string;
  meeting: { month: string; date: string };
  opinion: string | null;
  fundAllocation: {
    amountYuan: number;
    amountWan: string;
    sourceType: string;
    sourceLabel: string;
    year: number;
  } | null;
  decidedBy: Actor;
  decidedAt: string;
};

export interface KeyProjectList {
  year: number;
  asOf: string;
  count: number;
  totalInvestmentYuan: number;
  totalInvestmentWan: string;
  fundAllocationYuan: number;
  fundAllocationWan: string;
  entries: KeyProjectEntry[];
}

export interface ListContext {
  models: Models;
  reviewModels: ReviewModels;
  orgName(id: string): string;
  sourceLabel(type: string): string;
}

const live = (stage: string) => !TERMINAL_STAGES.includes(stage as Stage);

function factsOf(ctx: ListContext, p: ProjectDoc): ProjectFacts {
  const d = p.details as Record<string, unknown> & { flags?: { governmentInvested?: boolean } };
  const text = (k: string) => {
    const v = d[k];
    return typeof v === 'string' ? v : '';
  };
  const yuan = (k: string) => {
    const v = d[k];
    return typeof v === 'number' ? v : 0;
  };
  return {
    projectId: p._id,
    name: text('name'),
    county: text('county'),
    countyName: ctx.orgName(text('county')),
    portfolio: text('portfolio'),
    portfolioName: ctx.orgName(text('portfolio')),
    responsibleDept: text('responsibleDept'),
    responsibleDeptName: ctx.orgName(text('responsibleDept')),
    ownerName: text('ownerName'),
    governmentInvested: d.flags?.governmentInvested === true,
    totalInvestmentYuan: yuan('totalInvestmentYuan'),
    totalInvestmentWan: wanExact(yuan('totalInvestmentYuan')),
    annualPlanYuan: yuan('annualPlanYuan'),
    annualPlanWan: wanExact(yuan('annualPlanYuan')),
    stage: p.stage,
    stageLabel: STAGE_LABELS[p.stage as Stage] ?? p.stage,
  };
}

/** One `_id` read per member: O(list), never a scan of the projects. */
async function membersOf(ctx: ListContext, listId: string): Promise<ProjectDoc[]> {
  const docs: ProjectDoc[] = [];
  for (const id of await listMembers(ctx.reviewModels, listId)) {
    const doc = await ctx.models.Project.findById(id).lean();
    if (doc) docs.push(doc);
  }
  return docs;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** A special group's current 重点项目建议清单. */
export async function recommendationsOf(ctx: ListContext, group: string): Promise<RecommendationList> {
  const entries: RecommendationEntry[] = [];
  for (const p of await membersOf(ctx, listIds.group(group))) {
    const state = p.state as {
      specialistReviews?: SpecialistReview[];
      keyProjectDecisions?: KeyProjectDecision[];
    };
    const latest = state.specialistReviews?.at(-1);
    if (!latest || latest.group !== group || latest.outcome !== 'RECOMMENDED' || !live(p.stage)) continue;
    const key = state.keyProjectDecisions?.at(-1);
    entries.push({
      ...factsOf(ctx, p),
      round: latest.round,
      taskId: latest.taskId,
      assessments: latest.assessments,
      experts: latest.experts.map((e) => ({
        expertId: e.expertId,
        name: e.name,
        field: e.field,
        kind: e.kind,
        ...(e.institution ? { institution: e.institution } : {}),
        opinion: e.opinion,
      })),
      decidedBy: latest.decidedBy,
      decidedAt: new Date(latest.decidedAt).toISOString(),
      keyProjectDecision: key
        ? { included: key.included, year: key.year, meetingMonth: key.meeting.month }
        : null,
    });
  }
  entries.sort((a, b) => a.decidedAt.localeCompare(b.decidedAt) || a.projectId.localeCompare(b.projectId));
  const total = sum(entries.map((e) => e.totalInvestmentYuan));
  return {
    group,
    groupName: ctx.orgName(group),
    asOf: new Date().toISOString(),
    count: entries.length,
    totalInvestmentYuan: total,
    totalInvestmentWan: wanExact(total),
    entries,
  };
}

/** The year's 年度重点项目库 as the joint meetings of that year have decided it so far. */
export async function keyProjectsOf(ctx: ListContext, year: number): Promise<KeyProjectList> {
  const entries: KeyProjectEntry[] = [];
  for (const p of await membersOf(ctx, listIds.year(year))) {
    const decisions = (p.state as { keyProjectDecisions?: KeyProjectDecision[] }).keyProjectDecisions ?? [];
    const latest = decisions.filter((d) => d.year === year).at(-1);
    if (!latest?.included || ['REJECTED', 'REMOVED', 'WITHDRAWN'].includes(p.stage)) continue;
    const f = latest.fundAllocation;
    entries.push({
      ...factsOf(ctx, p),
      taskId: latest.taskId,
      meeting: latest.meeting,
      opinion: latest.opinion || null,
      fundAllocation: f ? allocationView(ctx, f) : null,
      decidedBy: latest.decidedBy,
      decidedAt: new Date(latest.decidedAt).toISOString(),
    });
  }
  entries.sort(
    (a, b) =>
      a.meeting.month.localeCompare(b.meeting.month) ||
      a.portfolio.localeCompare(b.portfolio) ||
      a.projectId.localeCompare(b.projectId),
  );
  const total = sum(entries.map((e) => e.totalInvestmentYuan));
  const funds = sum(entries.map((e) => e.fundAllocation?.amountYuan ?? 0));
  return {
    year,
    asOf: new Date().toISOString(),
    count: entries.length,
    totalInvestmentYuan: total,
    totalInvestmentWan: wanExact(total),
    fundAllocationYuan: funds,
    fundAllocationWan: wanExact(funds),
    entries,
  };
}

/** What an approval approves: the decisions listed (a new decision is a new task id). */
export function fingerprintOf(list: KeyProjectList): string {
  return list.entries
    .map((e) => `${e.projectId}@${e.taskId}`)
    .sort()
    .join(',');
}

export interface MeetingDecision {
  taskId: string;
  projectId: string;
  projectName: string;
  outcome: 'INCLUDED' | 'NOT_INCLUDED' | 'RETURNED';
  opinion: string | null;
  fundAllocation: KeyProjectEntry['fundAllocation'];
  decidedBy: Actor | null;
  decidedAt: string | null;
}

/** The decisions a joint meeting took, read from the tier-3 tasks put to it (each by `_id`). */
export async function decisionsOfMeeting(ctx: ListContext, month: string): Promise<MeetingDecision[]> {
  const out: MeetingDecision[] = [];
  for (const taskId of await listMembers(ctx.reviewModels, listIds.meeting(month))) {
    const doc = await ctx.models.Task.findById(taskId).lean();
    const t = doc?.task as
      | {
          status?: string;
          decision?: string;
          opinion?: string;
          actor?: Actor;
          closedAt?: number;
          result?: {
            included?: boolean;
            meeting?: { month?: string };
            fundAllocation?: KeyProjectDecision['fundAllocation'];
          };
        }
      | undefined;
    if (!doc || t?.status !== 'DONE' || t.result?.meeting?.month !== month) continue;
    const project = await ctx.models.Project.findById(doc.projectId, { details: 1 }).lean();
    const f = t.result.fundAllocation;
    out.push({
      taskId,
      projectId: doc.projectId,
      projectName: String((project?.details as { name?: string } | undefined)?.name ?? ''),
      outcome: t.decision === 'RETURN' ? 'RETURNED' : t.result.included ? 'INCLUDED' : 'NOT_INCLUDED',
      opinion: t.opinion || null,
      fundAllocation: f ? allocationView(ctx, f) : null,
      decidedBy: t.actor ?? null,
      decidedAt: t.closedAt === undefined ? null : new Date(t.closedAt).toISOString(),
    });
  }
  return out.sort((a, b) => (a.decidedAt ?? '').localeCompare(b.decidedAt ?? ''));
}

/** 'YYYY-MM-DD HH:mm' in Asia/Shanghai, for the exports. */
export const shanghaiAt = (iso: string) => shanghaiTime(Date.parse(iso));

/** A fund allocation as the lists show it: the amount in 元 and exact 万元, the source type and its label. */
function allocationView(
  ctx: { sourceLabel(type: string): string },
  f: { amountYuan: number; sourceType: string; year: number },
) {
  return {
    amountYuan: f.amountYuan,
    amountWan: wanExact(f.amountYuan),
    sourceType: f.sourceType,
    sourceLabel: ctx.sourceLabel(f.sourceType),
    year: f.year,
  };
}
