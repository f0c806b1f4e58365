/**
 * Onboarding (存量项目入库): a project that a city already carries in its 储备库, 前期库 or 实施库 enters the
 * system at the stage where it stands, with the facts that put it there. The pipeline office or 市发改委 enters
 * them; each fact is recorded as an onboarding entry by that person, never as a decision that nobody took.
 *
 * `onboardingProblems` is the one check of those facts (the API and the bulk import both call it);
 * `applyOnboarding` builds the workflow's first state from facts that passed it.
 */
import type { Policy, WorkItem } from '../policy/schema';
import { PROJECT_CODE_PATTERN } from './actions';
import { holds } from './conditions';
import { recordEvent } from './events';
import type { Actor, ProjectDetails, Stage } from './project';
import type { ProjectState, Task } from './state';
import { assigneeOf, newOpenTask, requiredItems } from './task-ops';
import { startReportObligation } from './monthly-reports';

export const ONBOARDING_STAGES = ['RESERVE', 'PRE_CONSTRUCTION', 'UNDER_CONSTRUCTION'] as const;
export type OnboardingStage = (typeof ONBOARDING_STAGES)[number];

/** 新建 (started this year, or not yet started) or 续建 (under construction since an earlier year). */
export type ConstructionType = 'NEW' | 'CONTINUING';
export const CONSTRUCTION_TYPE_LABELS: Record<ConstructionType, string> = { NEW: '新建', CONTINUING: '续建' };

/** What the construction start rests on: the construction permit, or for procurement-type projects the contract. */
export type OnboardedStartBasis = 'CONSTRUCTION_PERMIT' | 'PROCUREMENT_CONTRACT';

export interface OnboardingApproval {
  /** A reserve matter or pre-construction step key of the policy (e.g. FEASIBILITY_APPROVAL). */
  matter: string;
  documentNumber: string;
  date: string;
  /** The organisation that approved it, as its document names it (provincial ones are not in the policy). */
  approvingOrg: string;
}

export interface InvestmentToDate {
  /** The day the figures stand at (YYYY-MM-DD). */
  asOf: string;
  ytdInvestmentYuan: number;
  cumulativeInvestmentYuan: number;
  ytdPaidYuan: number;
  cumulativePaidYuan: number;
}

export interface OnboardingFacts {
  targetStage: OnboardingStage;
  constructionType: ConstructionType;
  planInclusion: { planName: string; documentNumber: string; date: string };
  approvals: OnboardingApproval[];
  projectCode?: string | undefined;
  approvedEstimateYuan?: number | undefined;
  /** Construction funds in place (建设资金落实). */
  funding?: { amountYuan: number; documentNumber: string; date: string } | undefined;
  start?: { date: string; basis: OnboardedStartBasis; documentNumber: string } | undefined;
  investmentToDate?: InvestmentToDate | undefined;
}

export interface FactProblem {
  field: string;
  message: string;
}

const STAGE_ORDER: Record<OnboardingStage, number> = {
  RESERVE: 1,
  PRE_CONSTRUCTION: 2,
  UNDER_CONSTRUCTION: 3,
};

/** Every work item of the policy a matter key may name, with the stage whose library it belongs to. */
function knownItems(policy: Policy): Map<string, { item: WorkItem; kind: 'MATTER' | 'STEP' }> {
  const out = new Map<string, { item: WorkItem; kind: 'MATTER' | 'STEP' }>();
  for (const m of policy.reserve.matters) out.set(m.key, { item: m, kind: 'MATTER' });
  for (const st of policy.preConstruction.steps) out.set(st.key, { item: st, kind: 'STEP' });
  return out;
}

/**
 * Every contradiction between the facts, the stage and the project (one entry per field), checked against
 * `today` (YYYY-MM-DD in Asia/Shanghai). An empty list means the facts may be applied as they are.
 */
export function onboardingProblems(
  details: ProjectDetails,
  f: OnboardingFacts,
  policy: Policy,
  today: string,
): FactProblem[] {
  const problems: FactProblem[] = [];
  const add = (field: string, message: string) => problems.push({ field: `onboarding.${field}`, message });
  const notFuture = (date: string | undefined, field: string) => {
    if (date !== undefined && date > today) add(field, `${date} is in the future (today is ${today})`);
  };
  const stage = STAGE_ORDER[f.targetStage];
  const underConstruction = f.targetStage === 'UNDER_CONSTRUCTION';

  notFuture(f.planInclusion.date, 'planInclusion.date');

  const items = knownItems(policy);
  const required = new Set([
    ...requiredItems(policy.reserve.matters, details).map((m) => m.key),
    ...requiredItems(policy.preConstruction.steps, details).map((m) => m.key),
  ]);
  const seen = new Set<string>();
  f.approvals.forEach((a, i) => {
    const known = items.get(a.matter);
    if (!known) {
      add(
        `approvals.${i}.matter`,
        `${a.matter} is not an approval matter or step of policy ${policy.version}`,
      );
      return;
    }
    if (seen.has(a.matter)) add(`approvals.${i}.matter`, `${a.matter} is listed twice`);
    seen.add(a.matter);
    if (!required.has(a.matter))
      add(`approvals.${i}.matter`, `${known.item.name} is not required for this project under the policy`);
    if (known.kind === 'STEP' && f.targetStage === 'RESERVE')
      add(
        `approvals.${i}.matter`,
        `${known.item.name} is a pre-construction step: a project that has done it is onboarded at PRE_CONSTRUCTION or later`,
      );
    notFuture(a.date, `approvals.${i}.date`);
  });

  const missingMatters = requiredItems(policy.reserve.matters, details).filter((m) => !seen.has(m.key));
  if (stage >= STAGE_ORDER.PRE_CONSTRUCTION) {
    if (missingMatters.length > 0)
      add(
        'approvals',
        `a ${f.targetStage} project has done every approval matter; missing: ${missingMatters.map((m) => `${m.key} ${m.name}`).join(', ')}`,
      );
    if (f.projectCode === undefined) add('projectCode', `a ${f.targetStage} project has its project code`);
  } else if (missingMatters.length === 0 && f.projectCode !== undefined) {
    add(
      'targetStage',
      'every approval matter is done and the project code is recorded: the project stands in PRE_CONSTRUCTION',
    );
  }
  if (f.projectCode !== undefined && !PROJECT_CODE_PATTERN.test(f.projectCode))
    add('projectCode', 'must match YYMM-RRRRRR-DD-TT-NNNNNN');

  const estimateStep = policy.preConstruction.steps.find((st) => st.recordsApprovedEstimate)?.key;
  if (f.approvedEstimateYuan !== undefined && stage < STAGE_ORDER.PRE_CONSTRUCTION)
    add('approvedEstimateYuan', 'the approved estimate (概算) is approved in pre-construction');
  if (f.targetStage === 'PRE_CONSTRUCTION' && estimateStep !== undefined) {
    const stepDone = seen.has(estimateStep);
    if (stepDone && f.approvedEstimateYuan === undefined)
      add('approvedEstimateYuan', `${estimateStep} is done: its approved estimate is required`);
    if (!stepDone && f.approvedEstimateYuan !== undefined)
      add('approvedEstimateYuan', `an approved estimate needs ${estimateStep} among the approvals`);
  }

  if (f.funding) notFuture(f.funding.date, 'funding.date');
  if (f.funding && stage < STAGE_ORDER.RESERVE) add('funding', 'funds are confirmed from RESERVE on');

  if (!underConstruction) {
    if (f.constructionType === 'CONTINUING')
      add('constructionType', '续建 projects are under construction: onboard them at UNDER_CONSTRUCTION');
    if (f.start) add('start', 'only a project under construction has a start');
    if (f.investmentToDate)
      add('investmentToDate', 'only a project under construction has investment to date');
    return problems;
  }

  // UNDER_CONSTRUCTION: started, with funds in place (except emergency projects), an estimate and figures.
  const thisYear = today.slice(0, 4);
  if (!f.start) add('start', 'a project under construction has a start date and its permit or contract');
  else {
    notFuture(f.start.date, 'start.date');
    if (f.constructionType === 'CONTINUING' && f.start.date.slice(0, 4) >= thisYear)
      add('start.date', `a 续建 project started before ${thisYear}; one started in ${thisYear} is 新建`);
    if (f.constructionType === 'NEW' && f.start.date.slice(0, 4) < thisYear)
      add('start.date', `a 新建 project started in ${thisYear}; one started earlier is 续建`);
  }
  if (!f.funding && !details.flags.emergency)
    add('funding', 'construction starts only with construction funds in place (建设资金落实)');
  // A project the policy exempts from the 概算批复 (民间投资项目参照管理) pays against its total investment instead.
  const exempt = policy.implementation.capWithoutEstimate;
  const budget =
    f.approvedEstimateYuan ?? (exempt && holds(exempt, details) ? details.totalInvestmentYuan : undefined);
  if (budget === undefined)
    add('approvedEstimateYuan', 'a project under construction has its approved estimate (批复概算)');
  const inv = f.investmentToDate;
  if (!inv) {
    add('investmentToDate', 'a project under construction reports its investment completed and paid to date');
    return problems;
  }
  notFuture(inv.asOf, 'investmentToDate.asOf');
  if (f.start && inv.asOf < f.start.date)
    add('investmentToDate.asOf', `the figures cannot stand before the start (${f.start.date})`);
  if (f.constructionType === 'CONTINUING' && inv.cumulativeInvestmentYuan <= 0)
    add(
      'investmentToDate.cumulativeInvestmentYuan',
      'a 续建 project has investment completed since its start',
    );
  if (inv.ytdInvestmentYuan > inv.cumulativeInvestmentYuan)
    add('investmentToDate.ytdInvestmentYuan', 'year-to-date investment cannot exceed investment since start');
  if (inv.ytdPaidYuan > inv.cumulativePaidYuan)
    add('investmentToDate.ytdPaidYuan', 'paid this year cannot exceed paid since start');
  if (budget !== undefined && inv.cumulativePaidYuan > budget)
    add(
      'investmentToDate.cumulativePaidYuan',
      `paid to date ${inv.cumulativePaidYuan} 元 is above the ${f.approvedEstimateYuan !== undefined ? 'approved estimate' : 'total investment'} ${budget} 元 (严禁超概算支付)`,
    );
  return problems;
}

/**
 * Puts a new project at its onboarding stage: the facts as onboarding entries by `by`, the approvals as done
 * tasks, and what is still ahead opened as in any project (remaining matters, steps and the start gate, or the
 * completion acceptance), plus the monthly report from the next month.
 */
export function applyOnboarding(
  s: ProjectState,
  policy: Policy,
  f: OnboardingFacts,
  by: Actor,
  now: number,
): void {
  const stageBefore: Stage = s.stage;
  s.stage = f.targetStage;
  s.constructionType = f.constructionType;
  s.onboarded = { targetStage: f.targetStage, constructionType: f.constructionType, at: now, by };
  s.lastProgressAt = now;
  const fact = (type: string, data: Record<string, unknown>) =>
    recordEvent(s, {
      type: 'ONBOARDING_FACT',
      actor: by,
      stageBefore,
      at: now,
      data: { fact: type, ...data },
    });
  recordEvent(s, {
    type: 'PROJECT_ONBOARDED',
    actor: by,
    stageBefore,
    at: now,
    data: { targetStage: f.targetStage, constructionType: f.constructionType },
  });

  s.planInclusion = { ...f.planInclusion };
  fact('PLAN_INCLUSION', { ...f.planInclusion });

  const approvals = new Map(f.approvals.map((a) => [a.matter, a]));
  const task = (
    prefix: 'M' | 'S',
    item: WorkItem,
    kind: 'APPROVAL_MATTER' | 'STEP',
    openedIn: Stage,
  ): Task => {
    const done = approvals.get(item.key);
    const t: Task = {
      id: `${s.projectId}~${prefix}-${item.key}`,
      key: `${prefix}-${item.key}`,
      kind,
      title: item.name,
      stage: openedIn,
      round: s.round,
      assigneeOrg: assigneeOf(item, s.details),
      status: done ? 'DONE' : 'OPEN',
      openedAt: now,
      escalationLevel: 0,
      remindersSent: 0,
      ...(done
        ? {
            closedAt: now,
            actor: by,
            result: {
              documentNumber: done.documentNumber,
              date: done.date,
              approvingOrg: done.approvingOrg,
              onboarded: true,
              ...(item.recordsApprovedEstimate && f.approvedEstimateYuan !== undefined
                ? { approvedEstimateYuan: f.approvedEstimateYuan }
                : {}),
            },
          }
        : { clock: { extensions: [], pauses: [], needsSchedule: true } }),
    };
    if (done) fact('APPROVAL', { ...done, name: item.name });
    return t;
  };
  const addTask = (t: Task | undefined) => {
    if (!t) return;
    s.tasks.push(t);
    s.outbox.taskIds.push(t.id);
    if (t.status === 'OPEN')
      recordEvent(s, {
        type: 'TASK_OPENED',
        stageBefore,
        at: now,
        data: { taskId: t.id, kind: t.kind, title: t.title, assigneeOrg: t.assigneeOrg },
      });
  };

  // Reserve matters: the done ones as records, the others still to do while in RESERVE.
  for (const m of requiredItems(policy.reserve.matters, s.details)) {
    const t = task('M', m, 'APPROVAL_MATTER', 'RESERVE');
    if (t.status === 'DONE' || f.targetStage === 'RESERVE') addTask(t);
  }
  if (f.projectCode !== undefined) {
    s.projectCode = f.projectCode;
    fact('PROJECT_CODE', { code: f.projectCode });
  }
  if (f.funding) {
    s.funding = {
      confirmedYuan: f.funding.amountYuan,
      documentNumber: f.funding.documentNumber,
      date: f.funding.date,
      actor: by,
    };
    fact('FUNDING', { ...f.funding });
  }
  if (f.approvedEstimateYuan !== undefined) {
    s.approvedEstimateYuan = f.approvedEstimateYuan;
    fact('APPROVED_ESTIMATE', { approvedEstimateYuan: f.approvedEstimateYuan });
  }

  if (f.targetStage === 'PRE_CONSTRUCTION') {
    for (const st of requiredItems(policy.preConstruction.steps, s.details))
      addTask(task('S', st, 'STEP', 'PRE_CONSTRUCTION'));
    addTask(gate(s, 'G-START', '开工条件核查', s.details.ownerOrg, now));
  }
  if (f.targetStage === 'UNDER_CONSTRUCTION' && f.start) {
    for (const st of requiredItems(policy.preConstruction.steps, s.details))
      if (approvals.has(st.key)) addTask(task('S', st, 'STEP', 'PRE_CONSTRUCTION'));
    s.start = {
      at: now,
      date: f.start.date,
      basis: f.start.basis === 'CONSTRUCTION_PERMIT' ? 'PERMIT_AND_FUNDING' : 'PROCUREMENT_CONTRACT',
      documentNumber: f.start.documentNumber,
      onboarded: true,
    };
    fact('START', { ...f.start });
    if (f.investmentToDate) {
      s.investmentToDate = { ...f.investmentToDate };
      s.cumulativePaidYuan = f.investmentToDate.cumulativePaidYuan;
      fact('INVESTMENT_TO_DATE', { ...f.investmentToDate });
    }
    addTask(gate(s, 'G-COMPLETION', '竣工验收', s.details.responsibleDept, now));
  }
  if (f.targetStage !== 'RESERVE') startReportObligation(s, policy, now);
}

function gate(s: ProjectState, key: string, title: string, assigneeOrg: string, now: number): Task {
  return newOpenTask(s, { key, kind: 'GATE', title, assigneeOrg }, now);
}
