import { monthBefore } from '../../activities/supervision';
import ExcelJS from 'exceljs';
import { buildWorkCalendar, endOfShanghaiDayMs } from '../../calendar';
import type { ProjectDoc } from '../../db/models';
import type { ProjectDetails, Stage } from '../../domain/project';
import type { Task } from '../../domain/state';
import type { Organisation } from '../../policy/schema';
import {
  dataQuality,
  monthlyDispatch,
  overdueList,
  periodRange,
  portfolioTargets,
  rankings,
  ratioBp,
  ReportingPolicySchema,
  toCsv,
  toTables,
  toXlsx,
  wan,
  type ProjectRecord,
  type ReportContext,
  type StageChange,
} from '../../reports';
import { filingsOf, reportDueAt } from '../../reports/monthly-reporting';
import { parseReportFacts, projectFactsOf, REPORT_FACTS_VERSION } from '../../domain/supervision';
import { viewOf } from '../../reports/source';

// The read-model document type satisfies the reports' input type as it is.
const _docsFit: ProjectRecord = {} as ProjectDoc;

/** An instant in Asia/Shanghai. */
const sh = (y: number, m: number, d: number, h = 0) => Date.UTC(y, m - 1, d, h - 8);
const endOf = (day: string) => endOfShanghaiDayMs(day);

const organisations: Organisation[] = [
  {
    id: 'sg-infra',
    name: '基础设施专项推进组',
    kind: 'SPECIAL_GROUP',
    head: '王副市长',
    portfolio: '基础设施',
  },
  {
    id: 'sg-industry',
    name: '产业发展专项推进组',
    kind: 'SPECIAL_GROUP',
    head: '李副市长',
    portfolio: '现代产业',
  },
  { id: 'transport', name: '市交通运输局', kind: 'DEPARTMENT' },
  { id: 'industry-it', name: '市工信局', kind: 'DEPARTMENT' },
  { id: 'housing', name: '市住建局', kind: 'DEPARTMENT' },
  { id: 'finance', name: '市财政局', kind: 'DEPARTMENT' },
  { id: 'approval-bureau', name: '市行政审批服务管理局', kind: 'DEPARTMENT' },
  { id: 'ecology', name: '市生态环境局', kind: 'DEPARTMENT' },
  { id: 'yaodu', name: '尧都区', kind: 'COUNTY' },
  { id: 'houma', name: '侯马市', kind: 'COUNTY' },
];

function details(over: Partial<ProjectDetails>): ProjectDetails {
  return {
    name: '项目',
    county: 'yaodu',
    specialActivity: 1,
    portfolio: 'sg-infra',
    industry: 'transport',
    responsibleDept: 'transport',
    assignedLeader: '王副市长',
    ownerOrg: 'owner-co',
    ownerName: '建设单位',
    investorType: 'SOE',
    approvalRegime: 'APPROVAL',
    flags: {
      provincialKey: false,
      cityKey: true,
      major: false,
      emergency: false,
      governmentInvested: true,
      privatePromotion: false,
    },
    landInvolved: false,
    annualEnergyUseTce: 0,
    totalInvestmentYuan: 0,
    annualPlanYuan: 0,
    ...over,
  };
}

function task(id: string, title: string, assigneeOrg: string, over: Partial<Task> = {}): Task {
  return {
    id,
    key: id.split('~')[1]!,
    kind: 'STEP',
    title,
    stage: 'PRE_CONSTRUCTION',
    round: 1,
    assigneeOrg,
    status: 'OPEN',
    openedAt: sh(2025, 5, 1),
    escalationLevel: 0,
    remindersSent: 0,
    ...over,
  };
}
const due = (day: string) => ({
  dueAt: endOf(day),
  dueDay: day,
  provisional: false,
  basis: 'test',
  calendarVersion: 'test',
});
const report = (period: string, month: number, ytd: number) => ({
  period,
  monthInvestmentYuan: month,
  ytdInvestmentYuan: ytd,
  cumulativeInvestmentYuan: ytd,
  fundsReceivedYuan: 0,
  physicalProgress: '',
  investmentCompletionBp: 0,
  cumulativeShareBp: 0,
  exceedsTotalInvestment: false,
  recordedAt: 0,
  actor: { userId: 'u', org: 'owner-co', roles: ['applicant'] },
});
const payment = (date: string, amountYuan: number) => ({
  amountYuan,
  date,
  basis: '进度款',
  cumulativePaidYuan: 0,
  recordedAt: 0,
  actor: { userId: 'u', org: 'owner-co', roles: ['applicant'] },
});
const funding = (date: string, confirmedYuan: number) => ({
  confirmedYuan,
  date,
  documentNumber: '临财建〔2025〕1号',
  actor: { userId: 'u', org: 'finance', roles: ['reviewer'] },
});
/** A funding source (资金来源) with its states; `securedBy` is credited when it is higher-level. */
const source = (
  id: string,
  sourceType: string,
  higherLevel: boolean,
  states: [state: 'APPLIED' | 'ISSUED' | 'IN_PLACE', date: string, amountYuan: number][],
  securedBy?: string,
) => ({
  id,
  sourceType,
  label: sourceType,
  higherLevel,
  securedBy,
  states: states.map(([state, date, amountYuan]) => ({
    state,
    date,
    amountYuan,
    at: 0,
    actor: { userId: 'u', org: 'finance', roles: ['reviewer'] },
  })),
});
const start = (date: string) => ({ at: endOf(date) - 1, date, basis: 'PERMIT_AND_FUNDING' as const });

function doc(
  id: string,
  stage: Stage,
  createdAt: number,
  d: Partial<ProjectDetails>,
  state: Record<string, unknown> = {},
  openTasks: Task[] = [],
): ProjectRecord {
  return { _id: id, stage, createdAt: new Date(createdAt), details: details(d), state, openTasks };
}

// Eight projects, two portfolios, two counties, three departments (p6 has none).
const projects: ProjectRecord[] = [
  doc(
    'p1',
    'UNDER_CONSTRUCTION',
    sh(2024, 3, 10),
    {
      name: '城区快速路',
      county: 'yaodu',
      responsibleDept: 'transport',
      ownerOrg: 'road-co',
      ownerName: '临汾市路桥建设有限公司',
      totalInvestmentYuan: 500_000_000,
      annualPlanYuan: 120_000_000,
    },
    {
      projectCode: '2403-141002-04-01-000123',
      reports: [
        report('2025-04', 30_000_000, 30_000_000),
        report('2025-05', 20_000_000, 50_000_000),
        report('2025-06', 40_000_000, 90_000_000),
      ],
      funding: funding('2024-12-20', 200_000_000),
      // The owner's own money, in place in June: funds in place, but never 资金争取.
      fundingSources: [source('F1', 'OWN_FUNDS', false, [['IN_PLACE', '2025-06-05', 200_000_000]])],
      payments: [payment('2025-05-10', 40_000_000), payment('2025-06-15', 20_000_000)],
      start: start('2025-02-10'),
    },
    [
      task('p1~PLAN_ADJUSTMENT', '年度投资计划调整报审', 'transport', {
        deadline: due('2025-06-20'),
        escalationLevel: 3,
        remindersSent: 3,
        onMonthlyBulletin: true,
      }),
      task('p1~CONTRACTOR_IN_PLACE', '施工及监理单位进场', 'road-co', {
        deadline: due('2025-06-30'),
        escalationLevel: 1,
        remindersSent: 3,
      }),
    ],
  ),
  doc(
    'p2',
    'PRE_CONSTRUCTION',
    sh(2024, 11, 5),
    {
      name: '高速连接线',
      county: 'houma',
      responsibleDept: 'transport',
      assignedLeader: '赵局长',
      totalInvestmentYuan: 800_000_000,
      annualPlanYuan: 30_000_000,
    },
    { projectCode: '2411-141081-04-01-000456' },
    [
      task('p2~TENDERING', '采购备案与招标投标', 'approval-bureau', {
        deadline: due('2025-06-27'),
        escalationLevel: 1,
        remindersSent: 3,
      }),
      task('p2~CONSTRUCTION_PERMIT', '施工许可', 'approval-bureau', { deadline: due('2025-07-10') }),
    ],
  ),
  doc(
    'p3',
    'UNDER_CONSTRUCTION',
    sh(2024, 6, 1),
    {
      name: '新材料产业园',
      county: 'yaodu',
      portfolio: 'sg-industry',
      responsibleDept: 'industry-it',
      assignedLeader: '',
      totalInvestmentYuan: 300_000_000,
      annualPlanYuan: 80_000_000,
    },
    {
      reports: [report('2025-06', 10_000_000, 10_000_000)],
      funding: funding('2025-06-02', 150_000_000),
      // A special bond applied for in May, issued and in place in June, secured by 市工信局.
      fundingSources: [
        source(
          'F1',
          'SPECIAL_BONDS',
          true,
          [
            ['APPLIED', '2025-05-10', 150_000_000],
            ['ISSUED', '2025-06-02', 150_000_000],
            ['IN_PLACE', '2025-06-02', 150_000_000],
          ],
          'industry-it',
        ),
      ],
      payments: [payment('2025-06-20', 15_000_000)],
      start: start('2025-06-03'),
    },
  ),
  doc(
    'p4',
    'UNDER_CONSTRUCTION',
    sh(2023, 9, 1),
    {
      name: '智能制造基地',
      county: 'houma',
      portfolio: 'sg-industry',
      responsibleDept: 'industry-it',
      totalInvestmentYuan: 400_000_000,
      annualPlanYuan: 50_000_000,
    },
    {
      reports: [report('2025-03', 5_000_000, 5_000_000), report('2025-05', 7_345_678, 12_345_678)],
      funding: funding('2024-04-01', 100_000_000),
      payments: [
        payment('2024-06-01', 30_000_000),
        payment('2025-06-30', 10_000_000),
        payment('2025-07-01', 5_000_000),
      ],
      start: start('2024-05-01'),
    },
    [
      // Its clock is paused (补正) since before the deadline: not overdue.
      task('p4~LAND_SUPPLEMENT', '用地手续补正', 'owner-co', {
        deadline: due('2025-06-10'),
        clock: {
          extensions: [],
          pauses: [{ from: sh(2025, 6, 5), reason: '补正' }],
          needsSchedule: false,
        },
      }),
    ],
  ),
  doc(
    'p5',
    'RESERVE',
    sh(2025, 1, 10),
    {
      name: '城乡供水一体化',
      county: 'yaodu',
      responsibleDept: 'housing',
      assignedLeader: '陈副区长',
      totalInvestmentYuan: 200_000_000,
      annualPlanYuan: 20_000_000,
    },
    {},
    [
      task('p5~EIA', '环境影响评价审批', 'ecology', {
        stage: 'RESERVE',
        deadline: due('2025-06-30'),
        escalationLevel: 1,
        remindersSent: 3,
      }),
      task('p5~FUNDING_SOURCE', '资金来源落实', 'finance', {
        stage: 'RESERVE',
        clock: { extensions: [], pauses: [], needsSchedule: true, refused: '2027年无节假日安排' },
      }),
    ],
  ),
  doc(
    'p6',
    'DEPT_SCREENING',
    sh(2025, 6, 15),
    {
      name: '数字经济产业园',
      county: 'houma',
      portfolio: 'sg-industry',
      responsibleDept: '',
      assignedLeader: undefined,
      totalInvestmentYuan: 1_000_000_000,
      annualPlanYuan: 10_000_000,
    },
    {},
    [task('p6~R1-finance', '部门初审（市财政局）', 'finance', { kind: 'REVIEW', stage: 'DEPT_SCREENING' })],
  ),
  doc('p7', 'DRAFT', sh(2025, 5, 20), {
    name: '老旧小区改造',
    county: 'houma',
    responsibleDept: 'housing',
    totalInvestmentYuan: 60_000_000,
  }),
  doc('p8', 'REMOVED', sh(2024, 1, 1), {
    name: '旧厂区搬迁',
    county: 'yaodu',
    portfolio: 'sg-industry',
    responsibleDept: 'industry-it',
    totalInvestmentYuan: 90_000_000,
  }),
];

const change = (at: number, stageBefore: Stage, stageAfter: Stage): StageChange => ({
  at: new Date(at),
  stageBefore,
  stageAfter,
});
// The audit trail (stage changes) per project.
const stageChanges: Record<string, StageChange[]> = {
  p1: [change(sh(2025, 2, 10, 9), 'PRE_CONSTRUCTION', 'UNDER_CONSTRUCTION')],
  p2: [
    change(sh(2025, 1, 20, 9), 'COMPREHENSIVE_REVIEW', 'RESERVE'),
    change(sh(2025, 6, 12, 9), 'RESERVE', 'PRE_CONSTRUCTION'),
  ],
  p3: [change(sh(2025, 6, 3, 9), 'PRE_CONSTRUCTION', 'UNDER_CONSTRUCTION')],
  p4: [change(sh(2024, 5, 1, 9), 'PRE_CONSTRUCTION', 'UNDER_CONSTRUCTION')],
  p5: [change(sh(2025, 4, 1, 10), 'COMPREHENSIVE_REVIEW', 'RESERVE')],
  p6: [change(sh(2025, 6, 16, 9), 'DRAFT', 'DEPT_SCREENING')],
  p7: [change(sh(2025, 5, 20, 9), 'DRAFT', 'DRAFT')], // PROJECT_CREATED: no stage change
  p8: [change(sh(2025, 6, 25, 9), 'RESERVE', 'REMOVED')],
};

const asOf = sh(2025, 7, 1, 10); // 2025-07-01 10:00 Asia/Shanghai
const june: ReportContext = { organisations, period: { year: 2025, month: 6 }, asOf };
const calendar = buildWorkCalendar();
/** Reads an .xlsx back (exceljs declares its own Buffer type). */
async function readXlsx(buffer: Buffer): Promise<ExcelJS.Workbook> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buffer as unknown as ExcelJS.Buffer);
  return wb;
}
const workingDaysBetween = (a: number, b: number) => calendar.workingDaysBetween(a, b);

describe('exact arithmetic', () => {
  it('formats 万元 and percentages half-up with integers', () => {
    expect(wan(350_000_000)).toBe('35000.00');
    expect(wan(12_345)).toBe('1.23'); // 1.2345 万元
    expect(wan(12_350)).toBe('1.24'); // 1.2350 → half-up
    expect(wan(0)).toBe('0.00');
    expect(ratioBp(1, 3)).toBe(3333);
    expect(ratioBp(2, 3)).toBe(6667);
    expect(ratioBp(1, 20_000)).toBe(1); // 0.5 bp → 1
    expect(() => wan(0.5)).toThrow(RangeError);
  });

  it('maps periods to Asia/Shanghai instants', () => {
    const q2 = periodRange({ year: 2025, quarter: 2 });
    expect(q2).toMatchObject({ firstMonth: 4, lastMonth: 6, firstDay: '2025-04-01', lastDay: '2025-06-30' });
    expect(q2.startMs).toBe(Date.UTC(2025, 2, 31, 16)); // 2025-04-01 00:00 +08:00
    expect(periodRange({ year: 2025 }).label).toBe('2025年');
    expect(() => periodRange({ year: 2025, month: 13 })).toThrow(RangeError);
  });

  it('gives the reporting policy its defaults', () => {
    const p = ReportingPolicySchema.parse({});
    expect(p.weights).toEqual({
      conversion: 25,
      fundsSecured: 25,
      paymentRate: 25,
      investmentCompletion: 25,
    });
    expect(p.redBlackList).toEqual({ topN: 3, bottomN: 3 });
    expect(p.targets.planningPool).toEqual({
      minProjects: 2000,
      minInvestmentYi: 7000,
      scope: 'FOUR_LIBRARIES',
    });
    expect(p.targets.threeBatches).toEqual({
      signToStartPercent: 80,
      startToCommissionPercent: 40,
      commissionToOutputPercent: 95,
    });
    expect(() =>
      ReportingPolicySchema.parse({
        weights: { conversion: 0, fundsSecured: 0, paymentRate: 0, investmentCompletion: 0 },
      }),
    ).toThrow();
  });
});

describe('monthlyDispatch (2025年6月)', () => {
  const r = monthlyDispatch(projects, june, {
    stageChanges,
    blockers: [
      { projectId: 'p1', openedAt: sh(2025, 5, 1) }, // open
      { projectId: 'p2', openedAt: sh(2025, 5, 1), closedAt: sh(2025, 6, 20) }, // 销号 before asOf
      { projectId: 'p3', openedAt: sh(2025, 6, 10) }, // open
      { projectId: 'p1', openedAt: sh(2025, 7, 2) }, // raised after asOf
    ],
  });

  it('counts libraries, new projects, conversions, overdue tasks and blockers per portfolio', () => {
    expect(r.asOf).toBe('2025-07-01 10:00');
    expect(r.timeElapsed.percent).toBe('50.00'); // 6 / 12
    const [infra, industry] = r.rows;
    // 基础设施: p1 实施, p2 前期, p5 储备, p7 谋划
    expect(infra).toMatchObject({
      orgId: 'sg-infra',
      name: '基础设施专项推进组',
      head: '王副市长',
      libraries: { 谋划: 1, 储备: 1, 前期: 1, 实施: 1 },
      totalProjects: 4,
      newProjects: 0, // p7 was created in May
      converted: 1, // p2 储备 → 前期 on 06-12
      overdueTasks: 4, // p1 ×2 (due 06-20, 06-30), p2 招标 (06-27), p5 环评 (06-30); p2 施工许可 due 07-10
      openBlockers: 1, // p1
    });
    // 产业发展: p3 实施, p4 实施, p6 谋划; p8 removed
    expect(industry).toMatchObject({
      libraries: { 谋划: 1, 储备: 0, 前期: 0, 实施: 2 },
      totalProjects: 3,
      newProjects: 1, // p6, created 06-15
      converted: 1, // p3 前期 → 实施 on 06-03 (p8 储备 → removed is no conversion)
      overdueTasks: 0, // p4's task is paused, p6's has no deadline
      openBlockers: 1, // p3
    });
  });

  it('adds up investment against the annual plan and 序时进度', () => {
    const [infra, industry] = r.rows;
    // June: p1 40,000,000 → 4000.00 万元; YTD p1 90,000,000 + p2 0; plan p1 120,000,000 + p2 30,000,000 (p5 储备, p7 谋划 out of scope)
    expect(infra!.periodInvestment.wan).toBe('4000.00');
    expect(infra!.ytdInvestment.wan).toBe('9000.00');
    expect(infra!.annualPlan.wan).toBe('15000.00');
    expect(infra!.completion!.percent).toBe('60.00'); // 90 / 150
    expect(infra!.aheadBehindPoints).toBe('+10.00'); // 60.00 − 50.00
    // June: p3 10,000,000 + p4 none; YTD p3 10,000,000 + p4 12,345,678 (May report) = 22,345,678 → 2234.5678 万元
    expect(industry!.periodInvestment.wan).toBe('1000.00');
    expect(industry!.ytdInvestment).toEqual({ yuan: 22_345_678, wan: '2234.57' });
    expect(industry!.annualPlan.wan).toBe('13000.00'); // 80,000,000 + 50,000,000
    expect(industry!.completion!.percent).toBe('17.19'); // 22,345,678 / 130,000,000 = 17.1889…%
    expect(industry!.aheadBehindPoints).toBe('-32.81'); // 17.19 − 50.00
    // 合计: YTD 112,345,678; plan 280,000,000 → 40.1234…% ; −9.88 points
    expect(r.total).toMatchObject({
      name: '合计',
      libraries: { 谋划: 2, 储备: 1, 前期: 1, 实施: 3 },
      totalProjects: 7,
      newProjects: 1,
      converted: 2,
      overdueTasks: 4,
      openBlockers: 2,
    });
    expect(r.total.periodInvestment.wan).toBe('5000.00');
    expect(r.total.ytdInvestment.wan).toBe('11234.57');
    expect(r.total.annualPlan.wan).toBe('28000.00');
    expect(r.total.completion!.percent).toBe('40.12');
    expect(r.total.aheadBehindPoints).toBe('-9.88');
    expect(r.warnings).toEqual([]);
  });

  it('takes the previous snapshot instead of the audit trail, or reports conversions as unknown', () => {
    const stagesAtPeriodStart = {
      p1: 'UNDER_CONSTRUCTION',
      p2: 'RESERVE',
      p3: 'PRE_CONSTRUCTION',
      p4: 'UNDER_CONSTRUCTION',
      p5: 'RESERVE',
      p7: 'DRAFT',
      p8: 'RESERVE',
    }; // p6 was created in June
    const snap = monthlyDispatch(projects, june, { stagesAtPeriodStart });
    expect(snap.rows.map((x) => x.converted)).toEqual([1, 1]);
    expect(snap.total.openBlockers).toBeNull();
    const none = monthlyDispatch(projects, june);
    expect(none.rows.map((x) => x.converted)).toEqual([null, null]);
    expect(none.warnings).toContain('no stage history supplied: conversions not computed');
  });

  it('covers a quarter', () => {
    const q2 = monthlyDispatch(projects, { ...june, period: { year: 2025, quarter: 2 } }, { stageChanges });
    const [infra, industry] = q2.rows;
    expect(q2.timeElapsed.percent).toBe('50.00');
    // Apr–Jun: p1 30 + 20 + 40 = 90,000,000; p3 10,000,000 + p4 7,345,678 (May) = 17,345,678
    expect(infra!.periodInvestment.wan).toBe('9000.00');
    expect(industry!.periodInvestment.wan).toBe('1734.57');
    expect([infra!.newProjects, industry!.newProjects]).toEqual([1, 1]); // p7 (05-20), p6 (06-15)
    // p5 综合评审 → 储备 on 04-01 10:00 and p2 储备 → 前期; p3 前期 → 实施
    expect([infra!.converted, industry!.converted]).toEqual([2, 1]);
  });
});

describe('overdueList', () => {
  const r = overdueList(projects, june, workingDaysBetween);

  it('lists every open, unpaused task past its deadline, most overdue first', () => {
    // Working days after the due day up to 07-01 (Tue): after 06-20 (Fri): 06-23…27, 06-30, 07-01 = 7;
    // after 06-27 (Fri): 06-30, 07-01 = 2; after 06-30: 07-01 = 1.
    expect(
      r.rows.map((x) => [
        x.projectName,
        x.projectCode,
        x.county,
        x.task,
        x.responsibleOrg,
        x.assignedLeader,
        x.deadline,
        x.workingDaysOverdue,
        x.escalationLevel,
        x.remindersSent,
        x.onMonthlyBulletin,
      ]),
    ).toEqual([
      [
        '城区快速路',
        '2403-141002-04-01-000123',
        '尧都区',
        '年度投资计划调整报审',
        '市交通运输局',
        '王副市长',
        '2025-06-20 23:59',
        7,
        3,
        3,
        true,
      ],
      [
        '高速连接线',
        '2411-141081-04-01-000456',
        '侯马市',
        '采购备案与招标投标',
        '市行政审批服务管理局',
        '赵局长',
        '2025-06-27 23:59',
        2,
        1,
        3,
        false,
      ],
      // Same deadline: by task id. The owner's task shows the owner's name.
      [
        '城区快速路',
        '2403-141002-04-01-000123',
        '尧都区',
        '施工及监理单位进场',
        '临汾市路桥建设有限公司',
        '王副市长',
        '2025-06-30 23:59',
        1,
        1,
        3,
        false,
      ],
      [
        '城乡供水一体化',
        null,
        '尧都区',
        '环境影响评价审批',
        '市生态环境局',
        '陈副区长',
        '2025-06-30 23:59',
        1,
        1,
        3,
        false,
      ],
    ]);
  });
});

describe('values in force', () => {
  it('uses the annual plan in force at the period’s end: a plan raised in July does not rewrite June', () => {
    // Arrange: p1's annual plan raised from 120,000,000 to 240,000,000 元 on 10 July (a change request)
    const raised = projects.map((d) =>
      d._id !== 'p1'
        ? d
        : {
            ...d,
            details: { ...(d.details as ProjectDetails), annualPlanYuan: 240_000_000 },
            state: {
              ...d.state,
              revisions: [annualPlanDoubled()],
            },
          },
    );
    const july: ReportContext = {
      organisations,
      period: { year: 2025, month: 7 },
      asOf: sh(2025, 7, 31, 20),
    };

    // Act
    const inJune = rankings(raised, june, { stageChanges }).departments.find((x) => x.orgId === 'transport');
    const inJuly = rankings(raised, july, { stageChanges }).departments.find((x) => x.orgId === 'transport');

    // Assert: June keeps 90,000,000 / (120,000,000 + 30,000,000) = 60%; July reads 90 / (240 + 30) = 33.33%
    expect(inJune!.investmentCompletion!.percent).toBe('60.00');
    expect(inJuly!.investmentCompletion!.percent).toBe('33.33');
  });
});

describe('rankings (2025年6月)', () => {
  const reporting = ReportingPolicySchema.parse({ redBlackList: { topN: 1, bottomN: 1 } });
  const r = rankings(projects, june, { stageChanges, reporting });

  it('computes the four metrics per department', () => {
    // p6 has no department and is left out of the department series (with a warning).
    expect(r.warnings).toEqual(['project p6: department "" is not in the policy, left out']);
    expect(r.departments.map((x) => x.orgId)).toEqual(['transport', 'industry-it', 'housing']);
    const [transport, industry, housing] = r.departments;
    // 市交通运输局 (p1, p2): conversion 1/1 (p2; p1 was already 实施); funds secured in June 0;
    // payments 60,000,000 / confirmed 200,000,000 = 30%; investment 90,000,000 / 150,000,000 = 60% (≥ 50%)
    expect(transport).toMatchObject({
      projects: 2,
      fundsSecured: { wan: '0.00' },
      aheadBehindPoints: '+10.00',
    });
    expect(transport!.conversion!.percent).toBe('100.00');
    expect(transport!.paymentRate!.percent).toBe('30.00');
    expect(transport!.investmentCompletion!.percent).toBe('60.00');
    // 市工信局 (p3, p4, p8 removed): conversion 1/2 (p3 converted; p8 储备 → removed); funds p3 150,000,000
    // confirmed 06-02; payments (15,000,000 + 30,000,000 + 10,000,000; the 07-01 one is after June) /
    // (150,000,000 + 100,000,000) = 55/250 = 22%; investment 22,345,678 / 130,000,000 = 17.19%
    expect(industry).toMatchObject({ projects: 2, fundsSecured: { yuan: 150_000_000, wan: '15000.00' } });
    expect(industry!.conversion!.percent).toBe('50.00');
    expect(industry!.paymentRate!.percent).toBe('22.00');
    expect(industry!.investmentCompletion!.percent).toBe('17.19');
    // 市住建局 (p5 储备, p7 谋划): conversion 0/2; no confirmed funds, no project in investment scope
    expect(housing!.conversion!.percent).toBe('0.00');
    expect([housing!.paymentRate, housing!.investmentCompletion, housing!.meetsTarget]).toEqual([
      null,
      null,
      null,
    ]);
  });

  it('scores against the best unit, weighs, ranks and lists the departments', () => {
    const [transport, industry, housing] = r.departments;
    // Best: conversion 市交通运输局 100%, funds 市工信局, payment 市交通运输局 30%, investment 市交通运输局 60%.
    expect(transport!.scores).toEqual({
      conversion: '100.00',
      fundsSecured: '0.00',
      paymentRate: '100.00',
      investmentCompletion: '100.00',
    });
    // 市工信局: 50/100; 100; 22/30 = 73.33; 17.1889/60 = 28.648… → 28.65
    expect(industry!.scores).toEqual({
      conversion: '50.00',
      fundsSecured: '100.00',
      paymentRate: '73.33',
      investmentCompletion: '28.65',
    });
    expect(housing!.scores).toEqual({
      conversion: '0.00',
      fundsSecured: '0.00',
      paymentRate: null,
      investmentCompletion: null,
    });
    // Composite, weights 25 each: (100 + 0 + 100 + 100) / 4 = 75.00; (50 + 100 + 73.33 + 28.65) / 4 = 62.995 → 63.00;
    // 住建局 has two applicable metrics: (0 + 0) / 2 = 0.00
    expect(r.departments.map((x) => [x.composite, x.rank, x.meetsTarget, x.list])).toEqual([
      ['75.00', 1, true, 'RED'],
      ['63.00', 2, false, null],
      ['0.00', 3, null, null], // bottom, but its completion rate cannot be computed: not blacklisted
    ]);
  });

  it('ranks the counties and draws the red and black lists', () => {
    // 尧都区 (p1, p3, p5, p8): conversion 1/3 (p3 of p3, p5, p8); funds secured 0; payments 75/350 = 21.43%;
    // investment (90,000,000 + 10,000,000) / (120,000,000 + 80,000,000) = 50.00% = 序时进度 → meets the target
    // 侯马市 (p2, p4, p6, p7): conversion 1/3 (p2 of p2, p6, p7); funds 0; payments 40/100 = 40%;
    // investment 12,345,678 / 80,000,000 = 15.43%
    const [yaodu, houma] = r.counties;
    expect([yaodu!.orgId, yaodu!.projects, houma!.orgId, houma!.projects]).toEqual(['yaodu', 3, 'houma', 4]);
    expect([
      yaodu!.conversion!.percent,
      yaodu!.paymentRate!.percent,
      yaodu!.investmentCompletion!.percent,
    ]).toEqual(['33.33', '21.43', '50.00']);
    expect(yaodu!.aheadBehindPoints).toBe('0.00');
    expect([
      houma!.conversion!.percent,
      houma!.paymentRate!.percent,
      houma!.investmentCompletion!.percent,
    ]).toEqual(['33.33', '40.00', '15.43']);
    // Funds secured: none for either county — p3's special bond was secured by 市工信局, a department, and is
    // credited to it, not to p3's county. Scores: 尧都 100, 0, 21.43/40 = 53.57, 100 → 63.39 (253.57 / 4 = 63.3925);
    // 侯马 100, 0, 100, 15.43/50 = 30.86 → 57.72 (230.86 / 4 = 57.715, half-up)
    expect(yaodu!.scores.paymentRate).toBe('53.57');
    expect(houma!.scores.investmentCompletion).toBe('30.86');
    expect(r.counties.map((x) => [x.composite, x.rank, x.list])).toEqual([
      ['63.39', 1, 'RED'],
      ['57.72', 2, 'BLACK'],
    ]);
    expect(r.redList).toEqual([
      { series: 'DEPARTMENT', orgId: 'transport', name: '市交通运输局', rank: 1, composite: '75.00' },
      { series: 'COUNTY', orgId: 'yaodu', name: '尧都区', rank: 1, composite: '63.39' },
    ]);
    expect(r.blackList).toEqual([
      { series: 'COUNTY', orgId: 'houma', name: '侯马市', rank: 2, composite: '57.72' },
    ]);
    const exempt = rankings(projects, june, { stageChanges, reporting, blackListExempt: ['houma'] });
    expect(exempt.blackList).toEqual([]);
  });

  it('follows the weights and leaves out metrics it cannot compute', () => {
    const onlyInvestment = ReportingPolicySchema.parse({
      weights: { conversion: 0, fundsSecured: 0, paymentRate: 0, investmentCompletion: 100 },
    });
    const w = rankings(projects, june, { stageChanges, reporting: onlyInvestment });
    expect(w.departments.map((x) => x.composite)).toEqual(['100.00', '28.65', '0.00']);
    const noHistory = rankings(projects, june);
    expect(noHistory.departments.every((x) => x.conversion === null && x.scores.conversion === null)).toBe(
      true,
    );
    expect(noHistory.warnings).toContain('no stage history supplied: conversion rate not computed');
  });
});

describe('dataQuality', () => {
  it('lists live projects missing a leader, a department or deadlines', () => {
    const r = dataQuality(projects, june);
    expect(r.missingLeader.map((x) => [x.projectName, x.stage])).toEqual([
      ['新材料产业园', '实施库'],
      ['数字经济产业园', '部门初审'],
    ]);
    expect(r.missingDepartment.map((x) => [x.projectName, x.county, x.portfolio])).toEqual([
      ['数字经济产业园', '侯马市', '产业发展专项推进组'],
    ]);
    expect(r.tasksWithoutDeadline.map((x) => [x.projectName, x.task, x.responsibleOrg, x.reason])).toEqual([
      ['城乡供水一体化', '资金来源落实', '市财政局', '时限无法计算：2027年无节假日安排'],
      ['数字经济产业园', '部门初审（市财政局）', '市财政局', '未设定时限'],
    ]);
  });
});

describe('portfolioTargets', () => {
  it('checks the planning pool and reports missing 三个一批 inputs as null', () => {
    const r = portfolioTargets(projects, june);
    // 谋划 p6 1,000,000,000 + p7 60,000,000; 储备 p5; 前期 p2; 实施 p1 + p3 + p4 = 1,200,000,000
    expect(r.planningPool.byLibrary).toEqual({
      谋划: { projects: 2, investment: { yuan: 1_060_000_000, wan: '106000.00' } },
      储备: { projects: 1, investment: { yuan: 200_000_000, wan: '20000.00' } },
      前期: { projects: 1, investment: { yuan: 800_000_000, wan: '80000.00' } },
      实施: { projects: 3, investment: { yuan: 1_200_000_000, wan: '120000.00' } },
    });
    expect(r.planningPool).toMatchObject({
      scope: 'FOUR_LIBRARIES',
      projects: 7,
      investment: { wan: '326000.00' },
      minProjects: 2000,
      minInvestment: { yuan: 700_000_000_000, wan: '70000000.00' }, // 7000亿元
      projectsMet: false,
      investmentMet: false,
    });
    expect(r.threeBatches.map((b) => [b.name, b.rate, b.target, b.met, b.missing])).toEqual([
      ['签约开工率', null, '80.00', null, '读模型无招商签约记录（签约项目清单）'],
      ['开工投产率', null, '40.00', null, '读模型无投产日期（投产项目清单）'],
      ['投产达效率', null, '95.00', null, '读模型无实际及设计年产值'],
    ]);
    const planningOnly = portfolioTargets(projects, june, {
      reporting: ReportingPolicySchema.parse({ targets: { planningPool: { scope: 'PLANNING_LIBRARY' } } }),
    });
    expect([planningOnly.planningPool.projects, planningOnly.planningPool.investment.wan]).toEqual([
      2,
      '106000.00',
    ]);
  });

  it('computes the 三个一批 rates from supplied ledgers', () => {
    const r = portfolioTargets(projects, june, {
      threeBatches: {
        signedProjectIds: ['p1', 'p3', 'p6', 'p7'], // p1 and p3 started by 06-30 → 2/4
        commissionedProjectIds: ['p1'], // started in 2025: p1, p3 → 1/2
        output: [{ projectId: 'p1', actualYuan: 3_017_000_000, designedYuan: 4_181_200_000 }], // 72.156…%
      },
    });
    expect(
      r.threeBatches.map((b) => [b.rate!.numerator, b.rate!.denominator, b.rate!.percent, b.met]),
    ).toEqual([
      [2, 4, '50.00', false],
      [1, 2, '50.00', true],
      [3_017_000_000, 4_181_200_000, '72.16', false],
    ]);
  });
});

describe('export', () => {
  const dispatch = monthlyDispatch(projects, june, { stageChanges });

  it('writes an .xlsx that exceljs reads back with the same numbers', async () => {
    const wb = await readXlsx(await toXlsx(dispatch));
    expect(wb.worksheets.map((w) => w.name)).toEqual(['专题调度', '未报月报', '未报月报统计', '口径说明']);
    const ws = wb.getWorksheet('专题调度')!;
    const header = ws.getRow(1).values as unknown[];
    expect(header.slice(1, 4)).toEqual(['序号', '专项推进组', '分管市领导']);
    expect(header).toContain('本期完成投资(万元)');
    expect(header).toContain('1–6月累计完成投资(万元)');
    const col = (h: string) => header.indexOf(h);
    const infra = ws.getRow(2);
    expect(infra.getCell(col('专项推进组')).value).toBe('基础设施专项推进组');
    expect(infra.getCell(col('实施库(个)')).value).toBe(1);
    expect(infra.getCell(col('1–6月累计完成投资(万元)')).value).toBe(9000);
    expect(infra.getCell(col('超/滞后(百分点)')).value).toBe(10);
    const total = ws.getRow(4);
    expect(total.getCell(col('专项推进组')).value).toBe('合计');
    expect(total.getCell(col('1–6月累计完成投资(万元)')).value).toBe(11234.57);
    expect(total.getCell(col('1–6月累计完成投资(万元)')).numFmt).toBe('0.00');
    expect(total.getCell(col('占年度计划(%)')).value).toBe(40.12);
    expect(total.getCell(col('未销号堵点(个)')).value).toBeNull(); // no blockers supplied

    const ranked = await readXlsx(
      await toXlsx(rankings(projects, june, { stageChanges, reporting: ReportingPolicySchema.parse({}) })),
    );
    expect(ranked.worksheets.map((w) => w.name)).toEqual(['部门排名', '县区排名', '红黑榜', '口径说明']);
    const counties = ranked.getWorksheet('县区排名')!;
    expect(counties.getRow(2).getCell(2).value).toBe('尧都区');
    expect(counties.getRow(2).getCell(13).value).toBe(63.39); // 综合得分
  });

  it('writes CSV with a BOM and Chinese headers', () => {
    const csv = toCsv(dispatch);
    expect(
      csv.startsWith(
        '\uFEFF专题调度\r\n序号,专项推进组,分管市领导,谋划库(个),储备库(个),前期库(个),实施库(个)',
      ),
    ).toBe(true);
    expect(csv).toContain(
      '\r\n1,基础设施专项推进组,王副市长,1,1,1,1,4,0,1,4000.00,15000.00,9000.00,60.00,50.00,+10.00,4,\r\n',
    );
    expect(csv).toContain('\r\n,合计,,2,1,1,3,7,1,2,5000.00,28000.00,11234.57,40.12,50.00,-9.88,4,\r\n');
    expect(toCsv(overdueList(projects, june, workingDaysBetween))).toContain(
      '序号,项目名称,项目代码,县区,逾期事项,责任单位,包联领导,计划完成时限,逾期天数(工作日),督办级别,已提醒次数',
    );
  });

  it('turns every report into tables', async () => {
    const all = [
      overdueList(projects, june, workingDaysBetween),
      dataQuality(projects, june),
      portfolioTargets(projects, june),
    ];
    expect(all.map((r) => toTables(r).map((t) => t.name))).toEqual([
      ['逾期清单', '口径说明'],
      ['缺少包联领导', '缺少责任部门', '节点缺少时限', '未报月报'],
      ['目标完成', '四库分布', '口径说明'],
    ]);
    for (const r of all) expect((await toXlsx(r)).subarray(0, 2).toString()).toBe('PK');
  });
});

describe('stage history for conversion rates', () => {
  it('takes the stages at the start of a month, quarter or year from the monthly snapshot before it', () => {
    expect(monthBefore('2026-07')).toBe('2026-06');
    expect(monthBefore('2026-01')).toBe('2025-12');
    expect(monthBefore('2026-Q3')).toBe('2026-06');
    expect(monthBefore('2026-Q1')).toBe('2025-12');
    expect(monthBefore('2026')).toBe('2025-12');
  });
});

describe('monthly progress reports (the May 2025 reports, due in June)', () => {
  const obligation = (firstPeriod: string) => ({
    firstPeriod,
    startedAt: sh(2025, 1, 1),
    nextPeriod: '2025-07',
  });
  /** A filed report; `dueDay` is the deadline of the REPORT task that was open when it was filed. */
  const filed = (period: string, recordedAt: number, dueDay?: string) => ({
    ...report(period, 0, 0),
    recordedAt,
    ...(dueDay ? { dueAt: endOf(dueDay), late: recordedAt > endOf(dueDay) } : {}),
  });
  const reportTask = (projectId: string, period: string, dueDay: string, over: Partial<Task> = {}) =>
    task(`${projectId}~REPORT-${period}`, `月度进展报送（${period}）`, 'owner-co', {
      kind: 'REPORT',
      stage: 'UNDER_CONSTRUCTION',
      openedAt: sh(2025, 6, 1),
      deadline: due(dueDay),
      ...over,
    });
  const monthly: ProjectRecord[] = [
    doc(
      'r1',
      'UNDER_CONSTRUCTION',
      sh(2024, 1, 1),
      { name: '按时报送项目', county: 'yaodu', responsibleDept: 'transport' },
      {
        reportObligation: obligation('2025-01'),
        reports: [filed('2025-05', sh(2025, 6, 3, 10), '2025-06-05')],
      },
    ),
    doc(
      'r2',
      'PRE_CONSTRUCTION',
      sh(2024, 1, 1),
      { name: '逾期报送项目', county: 'houma', responsibleDept: 'transport' },
      {
        reportObligation: obligation('2025-01'),
        reports: [filed('2025-05', sh(2025, 6, 9, 10), '2025-06-05')],
      },
    ),
    doc(
      'r3',
      'UNDER_CONSTRUCTION',
      sh(2024, 1, 1),
      { name: '未报项目', county: 'houma', responsibleDept: 'industry-it' },
      { reportObligation: obligation('2025-01'), reports: [] },
      [reportTask('r3', '2025-05', '2025-06-05', { escalationLevel: 3, remindersSent: 3 })],
    ),
    // Its task's deadline was extended to 07-10: not due at 07-01, whatever the policy's day.
    doc(
      'r4',
      'SUSPENDED',
      sh(2024, 1, 1),
      { name: '延期未到期项目', county: 'yaodu', responsibleDept: 'housing' },
      { reportObligation: obligation('2025-01'), reports: [] },
      [reportTask('r4', '2025-05', '2025-07-10', { stage: 'SUSPENDED' })],
    ),
    // June's report filed on 06-02 closed May's task as missed before May's report fell due.
    doc(
      'r5',
      'UNDER_CONSTRUCTION',
      sh(2024, 1, 1),
      { name: '漏报五月项目', county: 'houma', responsibleDept: 'transport' },
      { reportObligation: obligation('2025-01'), reports: [filed('2025-06', sh(2025, 6, 2, 9))] },
    ),
    doc('r6', 'RESERVE', sh(2024, 1, 1), { name: '储备项目', county: 'yaodu', responsibleDept: 'housing' }),
    doc(
      'r7',
      'PRE_CONSTRUCTION',
      sh(2025, 6, 10),
      { name: '六月入前期项目', county: 'yaodu', responsibleDept: 'housing' },
      { reportObligation: obligation('2025-06'), reports: [] },
    ),
    doc(
      'r8',
      'COMPLETED',
      sh(2024, 1, 1),
      { name: '已竣工项目', county: 'houma', responsibleDept: 'industry-it' },
      {
        reportObligation: obligation('2025-01'),
        reports: [],
        completion: { documentNumber: 'x', date: '2025-05-20' },
      },
    ),
  ];
  const views = monthly.map(viewOf);

  it('tells on time, late and missing apart by the deadline of each report task, and leaves out what is not yet due', () => {
    const filings = filingsOf(views, organisations, '2025-05', asOf);
    expect(filings.map((f) => [f.projectName, f.status, f.dueAt])).toEqual([
      ['按时报送项目', 'ON_TIME', '2025-06-05 23:59'],
      ['逾期报送项目', 'LATE', '2025-06-05 23:59'],
      ['未报项目', 'MISSING', '2025-06-05 23:59'],
      // r4: due 07-10 (extended); r6 owes no report; r7 owes from June; r8 was completed before it fell due.
      ['漏报五月项目', 'MISSING', '2025-06-02 09:00'],
    ]);
    expect(reportDueAt(views[3]!, '2025-05', 5)).toBe(endOf('2025-07-10'));
    // A month whose task has not opened falls due on the policy's day of the next month.
    expect(reportDueAt(views[6]!, '2025-06', 5)).toBe(endOf('2025-07-05'));
    expect(reportDueAt(views[6]!, '2025-06', 10)).toBe(endOf('2025-07-10'));
  });

  it('lists the missing reports of the dispatch by county and by department', () => {
    const { missingReports } = monthlyDispatch(monthly, june);
    expect(missingReports).toMatchObject({ period: '2025-05', owed: 4 });
    expect(missingReports.missing).toEqual([
      {
        projectId: 'r3',
        projectName: '未报项目',
        county: 'houma',
        countyName: '侯马市',
        responsibleDept: 'industry-it',
        responsibleDeptName: '市工信局',
        stage: '实施库',
        period: '2025-05',
        dueAt: '2025-06-05 23:59',
        status: 'MISSING',
      },
      expect.objectContaining({ projectId: 'r5', countyName: '侯马市', responsibleDeptName: '市交通运输局' }),
    ]);
    expect(missingReports.byCounty).toEqual([{ orgId: 'houma', name: '侯马市', missing: 2 }]);
    expect(missingReports.byDepartment).toEqual([
      { orgId: 'industry-it', name: '市工信局', missing: 1 },
      { orgId: 'transport', name: '市交通运输局', missing: 1 },
    ]);
  });

  it('counts nothing as missing before it falls due, except a month overtaken by a later report', () => {
    // 06-03 noon: May's reports are due 06-05; r1's early filing is not yet counted, r5's May is already missed.
    const early = monthlyDispatch(monthly, { ...june, asOf: sh(2025, 6, 3, 12) }).missingReports;
    expect(early.owed).toBe(1);
    expect(early.missing.map((m) => m.projectId)).toEqual(['r5']);
    // The data-quality list of 07-01 looks at June's reports, due 07-05: none is missing yet.
    expect(dataQuality(monthly, june).missingMonthlyReports).toMatchObject({
      period: '2025-06',
      owed: 0,
      missing: [],
    });
  });

  it('counts owed, on-time, late and missed reports per department and county in the rankings', () => {
    const r = rankings(monthly, june);
    const counts = (rows: { orgId: string; monthlyReports: object }[]) =>
      Object.fromEntries(rows.map((x) => [x.orgId, x.monthlyReports]));
    expect(counts(r.departments)).toEqual({
      transport: { owed: 3, onTime: 1, late: 1, missed: 1 },
      'industry-it': { owed: 1, onTime: 0, late: 0, missed: 1 },
      housing: { owed: 0, onTime: 0, late: 0, missed: 0 },
    });
    expect(counts(r.counties)).toEqual({
      yaodu: { owed: 1, onTime: 1, late: 0, missed: 0 },
      houma: { owed: 3, onTime: 0, late: 1, missed: 2 },
    });
    // The second quarter counts the reports of March, April and May. None was filed before May and no task of
    // theirs is in the read model, so they fell due on the policy's day (04-05, 05-05) and count as missed.
    const q2 = rankings(monthly, { ...june, period: { year: 2025, quarter: 2 } });
    expect(counts(q2.departments).transport).toEqual({ owed: 9, onTime: 1, late: 1, missed: 7 });
  });

  it('exports the missing reports with the dispatch and the counts with the rankings', async () => {
    const dispatch = monthlyDispatch(monthly, june);
    const csv = toCsv(dispatch);
    expect(csv).toContain(
      '\r\n\r\n未报月报\r\n序号,项目名称,县区,责任部门,阶段,报送月份,应报时限\r\n' +
        '1,未报项目,侯马市,市工信局,实施库,2025-05,2025-06-05 23:59\r\n' +
        '2,漏报五月项目,侯马市,市交通运输局,实施库,2025-05,2025-06-02 09:00\r\n',
    );
    expect(csv).toContain(
      '\r\n\r\n未报月报统计\r\n序列,单位,未报(个)\r\n县(市、区),侯马市,2\r\n责任部门,市工信局,1\r\n' +
        '责任部门,市交通运输局,1\r\n合计,2025-05 月报应报 4 个,2\r\n',
    );
    const wb = await readXlsx(await toXlsx(dispatch));
    expect(wb.getWorksheet('未报月报')!.getRow(2).values).toEqual([
      undefined,
      1,
      '未报项目',
      '侯马市',
      '市工信局',
      '实施库',
      '2025-05',
      '2025-06-05 23:59',
    ]);
    const ranked = await readXlsx(await toXlsx(rankings(monthly, june)));
    const departments = ranked.getWorksheet('部门排名')!;
    const header = departments.getRow(1).values as unknown[];
    const transport = departments
      .getSheetValues()
      .find((row) => Array.isArray(row) && row.includes('市交通运输局')) as unknown[];
    expect(
      ['月报应报(个)', '按时报送(个)', '逾期报送(个)', '未报(个)'].map((h) => transport[header.indexOf(h)]),
    ).toEqual([3, 1, 1, 1]);
  });
});

describe('report facts (the slice of each project a supervision run reads)', () => {
  // Arrange: the eight projects, p1 with a plan raised in July (a revision) and reports filed on time and late,
  // p2's tasks with their reminder schedules, as the read model stores them.
  const records: ProjectRecord[] = projects.map((d) => {
    if (d._id === 'p1')
      return {
        ...d,
        details: { ...(d.details as ProjectDetails), annualPlanYuan: 240_000_000 },
        state: {
          ...d.state,
          reportObligation: { firstPeriod: '2025-01', startedAt: sh(2025, 1, 1), nextPeriod: '2025-07' },
          reports: [
            { ...report('2025-04', 30_000_000, 30_000_000), recordedAt: sh(2025, 5, 3) },
            {
              ...report('2025-05', 20_000_000, 50_000_000),
              recordedAt: sh(2025, 6, 9),
              dueAt: endOf('2025-06-05'),
              late: true,
              physicalProgress: '路基完成80%',
              problems: '征地拆迁滞后',
            },
          ],
          revisions: [annualPlanDoubled()],
          processed: [{ requestId: 'r1', result: { message: 'ok' } }],
          specialistReviews: [{ outcome: 'PASS', opinions: ['技术方案可行'] }],
        },
      };
    if (d._id === 'p2')
      return {
        ...d,
        openTasks: (d.openTasks as Task[]).map((t) => ({
          ...t,
          schedule: { version: 1, reminders: [sh(2025, 6, 20)], escalations: [], nextReminder: 0 },
        })),
      };
    return d;
  });
  const viaFacts = records.map((d) => parseReportFacts(projectFactsOf({ ...d, seq: 7 })));
  const contexts: [string, ReportContext][] = [
    ['June 2025', june],
    ['July 2025', { organisations, period: { year: 2025, month: 7 }, asOf: sh(2025, 7, 31, 20) }],
    ['2025-Q2', { organisations, period: { year: 2025, quarter: 2 }, asOf }],
    ['2025', { organisations, period: { year: 2025 }, asOf: sh(2026, 1, 5) }],
  ];

  it.each(contexts)('give exactly the reports of the full records (%s)', (_, ctx) => {
    // Act
    const reportsOf = (docs: readonly ProjectRecord[]) => [
      monthlyDispatch(docs, ctx, { stageChanges, blockers: [] }),
      overdueList(docs, ctx, workingDaysBetween),
      rankings(docs, ctx, { stageChanges }),
      dataQuality(docs, ctx),
      portfolioTargets(docs, ctx),
    ];

    // Assert
    expect(reportsOf(viaFacts)).toEqual(reportsOf(records));
  });

  it('leave out the workflow state, task schedules and report texts the reports never read', () => {
    // Act
    const stored = projectFactsOf({ ...records[0]!, seq: 7 });
    const p2 = viaFacts.find((d) => d._id === 'p2')!;

    // Assert
    expect(stored).toMatchObject({ seq: 7, v: REPORT_FACTS_VERSION });
    expect(Object.keys(viaFacts[0]!.state).sort()).toEqual([
      'funding',
      'fundingSources',
      'payments',
      'projectCode',
      'reportObligation',
      'reports',
      'revisions',
      'start',
    ]);
    expect((viaFacts[0]!.state as { reports: object[] }).reports[1]).toEqual({
      period: '2025-05',
      monthInvestmentYuan: 20_000_000,
      ytdInvestmentYuan: 50_000_000,
      recordedAt: sh(2025, 6, 9),
      dueAt: endOf('2025-06-05'),
      late: true,
    });
    expect((p2.openTasks as Task[]).map((t) => t.schedule)).toEqual([undefined, undefined]);
  });
});

/** A change request of 10 July 2025 that doubled the annual plan (120,000,000 → 240,000,000 元). */
function annualPlanDoubled() {
  return {
    version: 2,
    at: sh(2025, 7, 10, 10),
    actor: { userId: 'u', org: 'ndrc', roles: ['reviewer'] },
    via: 'CHANGE_REQUEST' as const,
    changes: [{ field: 'annualPlanYuan', from: 120_000_000, to: 240_000_000 }],
  };
}
