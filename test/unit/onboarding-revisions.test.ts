import { CREATE_PROJECT_EXAMPLES } from '../../api/schemas';
import { createInitialState } from '../../domain/lifecycle';
import {
  latestReportablePeriod,
  openDueReports,
  reportDueRule,
  reportOpensAt,
} from '../../domain/monthly-reports';
import { onboardingProblems, type OnboardingFacts } from '../../domain/onboarding';
import type { ProjectDetails } from '../../domain/project';
import { detailsAt, type Revision } from '../../domain/revisions';
import { loadPolicy } from '../../policy/load';
import { actor } from '../support/fixtures';

const policy = loadPolicy();
const TODAY = '2026-12-02';
const NOW = Date.parse('2026-12-02T10:00:00+08:00');
const OFFICE = actor('project-center', 'supervisor');

type Example = keyof typeof CREATE_PROJECT_EXAMPLES;
function example(name: Exclude<Example, 'draft'>): { details: ProjectDetails; facts: OnboardingFacts } {
  const { onboarding, ...details } = JSON.parse(JSON.stringify(CREATE_PROJECT_EXAMPLES[name].value)) as {
    onboarding: OnboardingFacts;
  } & ProjectDetails;
  return { details, facts: onboarding };
}
const fields = (details: ProjectDetails, facts: OnboardingFacts) =>
  onboardingProblems(details, facts, policy, TODAY).map((p) => p.field);

describe('onboarding facts', () => {
  it.each(['reserve', 'preConstruction', 'underConstruction'] as const)(
    'accept the %s example as it stands',
    (name) => {
      const { details, facts } = example(name);
      expect(onboardingProblems(details, facts, policy, TODAY)).toEqual([]);
    },
  );

  it('refuse RESERVE for a project whose matters are all done and whose code is recorded', () => {
    const { details, facts } = example('preConstruction');
    facts.targetStage = 'RESERVE';
    facts.approvals = facts.approvals.filter((a) => a.matter !== 'PRELIMINARY_DESIGN');
    delete facts.approvedEstimateYuan;
    expect(fields(details, facts)).toEqual(['onboarding.targetStage']);
  });

  it('name the missing approval matters of a PRE_CONSTRUCTION project, and a step done in RESERVE', () => {
    const pre = example('preConstruction');
    pre.facts.approvals = pre.facts.approvals.filter((a) => a.matter !== 'EIA');
    expect(fields(pre.details, pre.facts)).toEqual(['onboarding.approvals']);
    const reserve = example('reserve');
    reserve.facts.approvals.push({
      matter: 'CONSTRUCTION_PERMIT',
      documentNumber: 'X',
      date: '2025-01-01',
      approvingOrg: '市行政审批服务管理局',
    });
    expect(fields(reserve.details, reserve.facts)).toEqual(['onboarding.approvals.2.matter']);
  });

  it('refuse a matter the project does not need under the policy (energy review below 10000 tce)', () => {
    const { details, facts } = example('reserve');
    facts.approvals.push({
      matter: 'ENERGY_REVIEW',
      documentNumber: 'X',
      date: '2025-01-01',
      approvingOrg: '市能源局',
    });
    expect(fields(details, facts)).toEqual(['onboarding.approvals.2.matter']);
  });

  it('tell 新建 from 续建 by the start year, and refuse figures that contradict each other', () => {
    const { details, facts } = example('underConstruction');
    facts.constructionType = 'NEW';
    facts.investmentToDate!.ytdInvestmentYuan = facts.investmentToDate!.cumulativeInvestmentYuan + 1;
    facts.investmentToDate!.asOf = '2024-03-01';
    expect(fields(details, facts).sort()).toEqual(
      [
        'onboarding.start.date',
        'onboarding.investmentToDate.asOf',
        'onboarding.investmentToDate.ytdInvestmentYuan',
      ].sort(),
    );
  });

  it('let an emergency project stand under construction without funds in place, but no other', () => {
    const { details, facts } = example('underConstruction');
    delete facts.funding;
    expect(fields(details, facts)).toEqual(['onboarding.funding']);
    expect(fields({ ...details, flags: { ...details.flags, emergency: true } }, facts)).toEqual([]);
  });
});

describe('an onboarded project', () => {
  it('stands under construction with its facts, done work recorded as onboarded, and its completion ahead', () => {
    const { details, facts } = example('underConstruction');
    const s = createInitialState('p-on', { ...details, ownerOrg: 'yaodu' }, policy, OFFICE, NOW, facts);
    expect(s.stage).toBe('UNDER_CONSTRUCTION');
    expect(s.cumulativePaidYuan).toBe(facts.investmentToDate!.cumulativePaidYuan);
    expect(s.approvedEstimateYuan).toBe(facts.approvedEstimateYuan);
    expect(s.start).toMatchObject({ date: '2024-04-01', basis: 'PERMIT_AND_FUNDING', onboarded: true });
    expect(s.tasks.filter((t) => t.status === 'OPEN').map((t) => t.key)).toEqual(['G-COMPLETION']);
    expect(s.tasks.find((t) => t.key === 'M-EIA')).toMatchObject({
      status: 'DONE',
      actor: OFFICE,
      result: { onboarded: true, documentNumber: '临环审〔2023〕22号' },
    });
    const facts_ = s.outbox.events.filter((e) => e.type === 'ONBOARDING_FACT');
    expect(facts_.every((e) => e.actor === OFFICE)).toBe(true);
    expect(s.outbox.events.some((e) => e.type === 'REVIEW_DECIDED' || e.type === 'MATTER_COMPLETED')).toBe(
      false,
    );
    expect(s.reportObligation).toEqual({ firstPeriod: '2026-12', startedAt: NOW, nextPeriod: '2026-12' });
  });
});

describe('the monthly report obligation', () => {
  const { details, facts } = example('underConstruction');
  const onboarded = () =>
    createInitialState('p-m', { ...details, ownerOrg: 'yaodu' }, policy, OFFICE, NOW, facts);

  it('owes the onboarding month’s report from the first day of the next month, due on the policy’s day', () => {
    const s = onboarded();
    const opens = reportOpensAt(s.reportObligation!, policy, '2026-12');
    expect(new Date(opens).toISOString()).toBe('2026-12-31T16:00:00.000Z'); // 2027-01-01 00:00 in Shanghai
    expect(openDueReports(s, policy, opens - 1)).toEqual([]);
    const [task] = openDueReports(s, policy, opens);
    expect(task).toMatchObject({ key: 'REPORT-2026-12', kind: 'REPORT', assigneeOrg: 'yaodu' });
    expect(reportDueRule(policy, '2026-12')).toEqual({ untilDay: '2027-01-05', rollToWorkingDay: true });
    expect(s.reportObligation!.nextPeriod).toBe('2027-01');
  });

  it('opens nothing for a month already reported early, and refuses no month that has begun', () => {
    const s = onboarded();
    s.reports.push({ period: '2026-12' } as never);
    expect(openDueReports(s, policy, Date.parse('2027-01-02T00:00:00+08:00'))).toEqual([]);
    expect(latestReportablePeriod(s, policy, NOW)).toBe('2026-12');
  });
});

describe('values in force', () => {
  it('undo the revisions made after an instant', () => {
    const revisions: Revision[] = [
      {
        version: 2,
        at: Date.parse('2026-06-10T00:00:00Z'),
        actor: OFFICE,
        via: 'CHANGE_REQUEST',
        changes: [
          { field: 'annualPlanYuan', from: 100, to: 150 },
          { field: 'assignedLeader', from: null, to: '张副市长' },
        ],
      },
    ];
    const now = { annualPlanYuan: 150, assignedLeader: '张副市长', name: 'x' };
    expect(detailsAt(now, revisions, Date.parse('2026-05-31T00:00:00Z'))).toEqual({
      annualPlanYuan: 100,
      name: 'x',
    });
    expect(detailsAt(now, revisions, Date.parse('2026-06-30T00:00:00Z'))).toBe(now);
  });
});
