import ExcelJS from 'exceljs';
import type { Response } from 'express';
import { z } from 'zod';
import type { ApiDeps } from '../app';
import type { Actor } from '../../domain/project';
import { ApiError } from '../problem';
import { FILE_TYPES, route, type AnyRouteSpec } from '../registry';
import { loadWorkCalendar } from '../../activities/deadlines';
import { shanghaiDayOf } from '../../calendar';
import { libraryOf, type Stage } from '../../domain/project';
import { BLOCKER_LEVELS } from '../../domain/blockers';
import { parseReportFacts, reportFactsOf, REPORT_FACTS_VERSION } from '../../domain/supervision';
import type { Task } from '../../domain/state';
import type { ReportSnapshotDoc } from '../../db/supervision-models';
import { monthlyDispatch } from '../../reports/dispatch';
import { toCsv, toTables, toXlsx, type AnyReport } from '../../reports/export';
import { divRound, money, shanghaiTime } from '../../reports/format';
import { missingReports, periodDueIn } from '../../reports/monthly-reporting';
import { overdueList, type OverdueReport, type OverdueRow } from '../../reports/overdue';
import { dataQuality, type DataQualityReport } from '../../reports/quality';
import type { RankingsReport } from '../../reports/rankings';
import { prepare, type ProjectRecord, type ReportContext } from '../../reports/source';
import { portfolioTargets } from '../../reports/targets';

const KINDS = [
  'MONTHLY_DISPATCH',
  'QUARTERLY_ADJUSTMENT',
  'QUARTERLY_BULLETIN',
  'ANNUAL_ASSESSMENT',
] as const;
const KIND_LABELS: Record<(typeof KINDS)[number], string> = {
  MONTHLY_DISPATCH: '月底专题调度会报告',
  QUARTERLY_ADJUSTMENT: '季度动态调整',
  QUARTERLY_BULLETIN: '季度通报',
  ANNUAL_ASSESSMENT: '年度考核',
};
/** The tables of a snapshot GET /reports/:id exports as .xlsx/.csv (`?table=`), in the order they are shown. */
const EXPORTABLE = ['dispatch', 'overdue', 'rankings', 'dataQuality', 'targets'] as const;
/** Kinds whose snapshots carry rankings (比晾晒) with red and black lists. */
const RANKED_KINDS = ['MONTHLY_DISPATCH', 'QUARTERLY_BULLETIN', 'ANNUAL_ASSESSMENT'] as const;

const SUPERVISION_ROLES = ['supervisor', 'admin', 'leader'] as const;
const REPORT_READERS = ['supervisor', 'leader', 'reviewer', 'admin'] as const;

const orgId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,99}$/)
  .max(100);
const page = z.coerce.number().int().min(1).max(100_000).default(1);
const pageSize = z.coerce.number().int().min(1).max(200).default(20);
const exportFormat = z
  .enum(['json', 'xlsx', 'csv'])
  .default('json')
  .describe('json: one page; xlsx/csv: every row matching the filters, as a download');
const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM');

const ReportListQuery = z.strictObject({ kind: z.enum(KINDS).optional(), page, pageSize });
const ReportParams = z.strictObject({
  id: z.string().regex(/^[A-Z_]+:\d{4}(-\d{2}|-Q[1-4])?$/, 'KIND:period'),
});
const OverdueQuery = z.strictObject({
  department: orgId.optional().describe('责任单位: the organisation the task is assigned to'),
  county: orgId.optional().describe('the project’s county or development zone'),
  level: z.coerce.number().int().min(0).max(9).optional().describe('escalation level (0 = not escalated)'),
  asOf: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('the instant the list is computed for (default now); an export passes the list’s own asOf'),
  page,
  pageSize,
  format: exportFormat,
});
const QualityQuery = z.strictObject({
  county: orgId.optional(),
  format: z.enum(['json', 'xlsx', 'csv']).default('json'),
});
const MissingQuery = z.strictObject({
  period: month.optional().describe('the month reported on (default: the month whose reports fall due now)'),
  county: orgId.optional(),
  department: orgId.optional().describe('the project’s responsible department'),
  format: z.enum(['json', 'xlsx', 'csv']).default('json'),
});

// ---- answers (documented in OpenAPI) ----

const MoneySchema = z.object({ yuan: z.number().int(), wan: z.string().describe('万元, two decimals') });
const RateSchema = z.object({
  numerator: z.number(),
  denominator: z.number(),
  percent: z.string().describe('percent, two decimals'),
  bp: z.number().int().describe('basis points'),
});
const Approval = z
  .object({
    status: z.enum(['AWAITING', 'APPROVED']),
    approvedAt: z.string().nullable(),
  })
  .nullable()
  .describe('annual assessments wait for the leading group’s approval; null for other kinds');
const ReportSummary = z.object({
  id: z.string().describe('KIND:period, e.g. MONTHLY_DISPATCH:2026-11'),
  kind: z.enum(KINDS),
  kindLabel: z.string(),
  period: z.string(),
  createdAt: z.string(),
  dataAsOf: z.string().nullable(),
  projectCount: z.number().int(),
  policyVersion: z.string().nullable(),
  approval: Approval,
});
const ReportList = z.object({
  reports: z.array(ReportSummary),
  total: z.number().int(),
  page: z.number().int(),
  pageSize: z.number().int(),
});
const TableSchema = z.object({
  name: z.string().describe('sheet name'),
  columns: z.array(z.object({ header: z.string(), type: z.enum(['text', 'int', 'decimal', 'points']) })),
  rows: z.array(z.array(z.union([z.string(), z.number(), z.null()]))),
});
const SnapshotTables = z.object({
  summary: ReportSummary,
  tables: z.array(
    z.object({
      key: z.string().describe('the snapshot table (GET /reports/{id}?table=key&format=xlsx|csv)'),
      title: z.string(),
      exportable: z.boolean(),
      sheets: z.array(TableSchema),
    }),
  ),
});
const Count = z.object({ orgId: z.string(), name: z.string(), count: z.number().int() });
const LevelCount = z.object({ level: z.number().int(), count: z.number().int() });
const RankingRowSchema = z.object({
  orgId: z.string(),
  name: z.string(),
  projects: z.number().int(),
  conversion: RateSchema.nullable(),
  fundsSecured: MoneySchema,
  paymentRate: RateSchema.nullable(),
  investmentCompletion: RateSchema.nullable(),
  aheadBehindPoints: z.string().nullable(),
  scores: z.record(z.string(), z.string().nullable()),
  composite: z.string(),
  rank: z.number().int(),
  meetsTarget: z.boolean().nullable(),
  list: z.enum(['RED', 'BLACK']).nullable(),
  monthlyReports: z.object({
    owed: z.number().int(),
    onTime: z.number().int(),
    late: z.number().int(),
    missed: z.number().int(),
  }),
});
const ListEntrySchema = z.object({
  series: z.enum(['DEPARTMENT', 'COUNTY']),
  orgId: z.string(),
  name: z.string(),
  rank: z.number().int(),
  composite: z.string(),
});
const Dashboard = z.object({
  asOf: z.string(),
  year: z.number().int(),
  libraries: z
    .array(z.object({ library: z.string(), projects: z.number().int(), investment: MoneySchema }))
    .describe('the four libraries 谋划→储备→前期→实施 in order (a funnel)'),
  ended: z.object({
    completed: z.number().int().describe('已竣工'),
    out: z.number().int().describe('已出库: rejected, removed or withdrawn'),
  }),
  planningPool: z.object({
    scope: z.string(),
    projects: z.number().int(),
    investment: MoneySchema,
    minProjects: z.number().int(),
    minInvestment: MoneySchema,
    projectsMet: z.boolean(),
    investmentMet: z.boolean(),
  }),
  investmentByMonth: z
    .array(
      z.object({
        month: z.string(),
        monthInvestment: MoneySchema,
        ytdInvestment: MoneySchema,
        annualPlan: MoneySchema,
        target: MoneySchema.describe('序时进度 target: annual plan × month ÷ 12'),
        completion: RateSchema.nullable(),
        timeElapsed: RateSchema.describe('序时进度'),
        aheadBehindPoints: z.string().nullable(),
      }),
    )
    .describe('January to the current month of this year (the monthly dispatch report’s total row)'),
  overdue: z.object({
    total: z.number().int(),
    byResponsibleOrg: z.array(Count),
    byCounty: z.array(Count),
    byLevel: z.array(LevelCount),
  }),
  blockers: z.object({
    open: z.number().int(),
    overdue: z.number().int(),
    byEscalation: z.array(LevelCount),
    byLevel: z.array(z.object({ level: z.string(), label: z.string(), count: z.number().int() })),
  }),
  rankings: z
    .object({
      snapshotId: z.string(),
      kind: z.enum(KINDS),
      period: z.string(),
      createdAt: z.string(),
      title: z.string(),
      asOf: z.string(),
      timeElapsed: RateSchema,
      departments: z.array(RankingRowSchema),
      counties: z.array(RankingRowSchema),
      redList: z.array(ListEntrySchema),
      blackList: z.array(ListEntrySchema),
    })
    .nullable()
    .describe('比晾晒 of the newest report snapshot that has rankings; null when there is none'),
});
const OverdueRowSchema = z.object({
  taskId: z.string(),
  task: z.string(),
  projectId: z.string(),
  projectName: z.string(),
  projectCode: z.string().nullable(),
  county: z.string(),
  countyId: z.string(),
  responsibleOrg: z.string(),
  responsibleOrgId: z.string(),
  assignedLeader: z.string().nullable(),
  deadline: z.string().describe('Asia/Shanghai YYYY-MM-DD HH:mm'),
  dueAt: z.string(),
  provisional: z.boolean(),
  workingDaysOverdue: z.number().int(),
  escalationLevel: z.number().int(),
  remindersSent: z.number().int(),
  onMonthlyBulletin: z.boolean(),
});
const Facets = z.object({
  departments: z.array(Count),
  counties: z.array(Count),
  levels: z.array(LevelCount),
});
const OverduePage = z.object({
  asOf: z.string(),
  total: z.number().int(),
  page: z.number().int(),
  pageSize: z.number().int(),
  rows: z.array(OverdueRowSchema),
  facets: Facets.describe('counts over all overdue tasks, before the filters'),
});
const QualityRow = z.object({
  projectId: z.string(),
  projectName: z.string(),
  county: z.string(),
  portfolio: z.string(),
  stage: z.string(),
});
const FilingSchema = z.object({
  projectId: z.string(),
  projectName: z.string(),
  county: z.string(),
  countyName: z.string(),
  responsibleDept: z.string(),
  responsibleDeptName: z.string(),
  stage: z.string(),
  period: z.string(),
  dueAt: z.string(),
  status: z.enum(['ON_TIME', 'LATE', 'MISSING']),
});
const MissingSchema = z.object({
  period: z.string(),
  owed: z.number().int(),
  missing: z.array(FilingSchema),
  byCounty: z.array(z.object({ orgId: z.string(), name: z.string(), missing: z.number().int() })),
  byDepartment: z.array(z.object({ orgId: z.string(), name: z.string(), missing: z.number().int() })),
});
const Quality = z.object({
  asOf: z.string(),
  counties: z.array(z.object({ orgId: z.string(), name: z.string() })),
  missingLeader: z.array(QualityRow),
  missingDepartment: z.array(QualityRow),
  tasksWithoutDeadline: z.array(
    QualityRow.extend({
      taskId: z.string(),
      task: z.string(),
      responsibleOrg: z.string(),
      reason: z.string(),
    }),
  ),
  missingMonthlyReports: MissingSchema,
});
const Missing = MissingSchema.extend({ asOf: z.string() });

// ---- helpers ----

type Facts = ProjectRecord & { flags: object };

function iso(v: Date | string | number | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function summaryOf(s: Partial<ReportSnapshotDoc> & { _id: string }): z.infer<typeof ReportSummary> {
  const kind = (s.kind ?? s._id.split(':')[0]) as (typeof KINDS)[number];
  return {
    id: s._id,
    kind,
    kindLabel: KIND_LABELS[kind] ?? kind,
    period: s.period ?? s._id.split(':')[1] ?? '',
    createdAt: iso(s.createdAt) ?? '',
    dataAsOf: iso(s.dataAsOf),
    projectCount: s.projectCount ?? 0,
    policyVersion: s.policyVersion ?? null,
    approval: s.approval
      ? { status: s.approval.status, approvedAt: iso(s.approval.approvedAt ?? null) }
      : null,
  };
}

function count<T>(items: readonly T[], key: (t: T) => { id: string; name: string }) {
  const counts = new Map<string, { orgId: string; name: string; count: number }>();
  for (const item of items) {
    const { id, name } = key(item);
    const c = counts.get(id) ?? { orgId: id, name, count: 0 };
    c.count++;
    counts.set(id, c);
  }
  return [...counts.values()].sort((a, b) => b.count - a.count || (a.orgId < b.orgId ? -1 : 1));
}

function levelCounts(levels: readonly number[], upTo = 4) {
  const max = Math.max(upTo, ...levels);
  return Array.from({ length: max + 1 }, (_, level) => ({
    level,
    count: levels.filter((l) => l === level).length,
  }));
}

async function sendTable(
  res: Response,
  format: 'xlsx' | 'csv',
  name: string,
  report: AnyReport,
  keepSheets?: readonly string[],
): Promise<undefined> {
  if (format === 'csv') {
    let csv = toCsv(report);
    if (keepSheets) {
      // The CSV holds each table under a line with its name, separated by a blank line.
      const blocks = csv.replace(/^\uFEFF/, '').split('\r\n\r\n');
      csv = `\uFEFF${blocks.filter((b) => keepSheets.includes(b.split('\r\n')[0] ?? '')).join('\r\n\r\n')}`;
      if (!csv.endsWith('\r\n')) csv += '\r\n';
    }
    res.type('text/csv; charset=utf-8').attachment(`${name}.csv`).send(csv);
    return undefined;
  }
  let xlsx = await toXlsx(report);
  if (keepSheets) {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx as never);
    for (const ws of [...wb.worksheets]) if (!keepSheets.includes(ws.name)) wb.removeWorksheet(ws.id);
    xlsx = Buffer.from(await wb.xlsx.writeBuffer());
  }
  res
    .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
    .attachment(`${name}.xlsx`)
    .send(xlsx);
  return undefined;
}

const stamp = (asOfMs: number) => shanghaiDayOf(asOfMs).replace(/-/g, '');

/**
 * Supervision dashboard and lists, live from the read model (the slim `projectFacts` the report snapshots are
 * computed from, through the same report functions), and the listing of stored report snapshots.
 */
export function dashboardRoutes(deps: ApiDeps): AnyRouteSpec[] {
  const sm = deps.supervisionModels;
  const { models } = deps;
  const policy = () => deps.projects.policy;
  const dueDay = () => policy().implementation.monthlyReportDueDay;

  /** Unapproved assessment results are for the leading group, supervisors and administrators (as GET /reports/:id). */
  const mayRead = (actor: Actor, s: { approval?: ReportSnapshotDoc['approval'] | undefined }) =>
    s.approval?.status !== 'AWAITING' ||
    actor.roles.some((r) => r === 'supervisor' || r === 'admin') ||
    actor.org === policy().leadingGroup;

  // Concurrent requests share one read of the facts: every project is read, as by a report run.
  let loading: Promise<Facts[]> | null = null;
  const loadFacts = (): Promise<Facts[]> => {
    loading ??= (async () => {
      try {
        const docs = await models.ProjectFacts.find({}).lean();
        const current = docs.filter((d) => d.v === REPORT_FACTS_VERSION).map(parseReportFacts);
        // Facts in another shape (a worker of another release wrote them): derived from the record, not rewritten.
        for (const d of docs.filter((x) => x.v !== REPORT_FACTS_VERSION)) {
          const record = await models.Project.findById(d._id).lean();
          if (record) current.push(reportFactsOf(record));
        }
        return current;
      } finally {
        loading = null;
      }
    })();
    return loading;
  };

  const workingDays = async () => {
    const { calendar } = await loadWorkCalendar(deps.calendarModels);
    return (from: number, to: number) => {
      try {
        return calendar.workingDaysBetween(from, to);
      } catch {
        return Math.max(0, Math.floor((to - from) / 86_400_000)); // uncovered year: calendar days, as the reports
      }
    };
  };

  const ctxOf = (asOf: number): ReportContext => {
    const day = shanghaiDayOf(asOf);
    return {
      organisations: policy().organisations,
      period: { year: Number(day.slice(0, 4)), month: Number(day.slice(5, 7)) },
      asOf,
    };
  };

  /** 逾期清单 as the monthly report computes it, with the organisations' ids and the deadline instant. */
  async function liveOverdue(docs: readonly Facts[], asOf: number) {
    const report = overdueList(docs, ctxOf(asOf), await workingDays());
    const byId = new Map(docs.map((d) => [d._id, d]));
    const rows = report.rows.map((r) => {
      const doc = byId.get(r.projectId)!;
      const task = (doc.openTasks as Task[] | undefined)?.find((t) => t.id === r.taskId);
      const county = (doc.details as { county: string }).county;
      return {
        ...r,
        countyId: county,
        responsibleOrgId: task?.assigneeOrg ?? '',
        dueAt: new Date(task?.deadline?.dueAt ?? 0).toISOString(),
      };
    });
    return { report, rows };
  }

  type LiveOverdueRow = Awaited<ReturnType<typeof liveOverdue>>['rows'][number];
  const facetsOf = (rows: readonly LiveOverdueRow[]) => ({
    departments: count(rows, (r) => ({ id: r.responsibleOrgId, name: r.responsibleOrg })),
    counties: count(rows, (r) => ({ id: r.countyId, name: r.county })),
    levels: levelCounts(rows.map((r) => r.escalationLevel)),
  });

  const asOverdueReport = (report: OverdueReport, rows: readonly LiveOverdueRow[]): OverdueReport => ({
    ...report,
    rows: rows.map(({ countyId: _c, responsibleOrgId: _r, dueAt: _d, ...row }): OverdueRow => row),
  });

  return [
    route({
      method: 'get',
      path: '/reports',
      summary: '报告列表：the stored report snapshots, newest first, filterable by kind',
      tag: 'Supervision',
      roles: REPORT_READERS,
      query: ReportListQuery,
      success: { status: 200, description: 'One page of snapshots', schema: ReportList },
      handler: async ({ query, actor }) => {
        const docs = await sm.ReportSnapshot.find(query.kind ? { kind: query.kind } : {}, {
          kind: 1,
          period: 1,
          createdAt: 1,
          dataAsOf: 1,
          projectCount: 1,
          policyVersion: 1,
          approval: 1,
        }).lean();
        const visible = docs
          .filter((s) => mayRead(actor, s))
          .sort(
            (a, b) =>
              new Date(b.createdAt).getTime() - new Date(a.createdAt).getTime() || (a._id < b._id ? 1 : -1),
          );
        const from = (query.page - 1) * query.pageSize;
        return {
          reports: visible.slice(from, from + query.pageSize).map(summaryOf),
          total: visible.length,
          page: query.page,
          pageSize: query.pageSize,
        };
      },
    }),
    route({
      method: 'get',
      path: '/reports/:id/tables',
      summary:
        '报告表格：a stored snapshot’s tables as they are exported (Chinese headers, 万元 and % with two decimals)',
      tag: 'Supervision',
      roles: REPORT_READERS,
      params: ReportParams,
      success: { status: 200, description: 'The snapshot’s tables', schema: SnapshotTables },
      problems: [404],
      handler: async ({ params, actor }) => {
        const snap = await sm.ReportSnapshot.findById(params.id).lean();
        if (!snap || !mayRead(actor, snap))
          throw new ApiError(404, 'not-found', 'Not found', `no report ${params.id}`);
        const tables: z.infer<typeof SnapshotTables>['tables'] = [];
        const proposals = snap.report.proposals as
          { projectId: string; name: string; portfolio: string; why: string }[] | undefined;
        if (proposals) {
          const orgName = (id: string) => deps.orgIndex.get(id)?.name ?? id;
          tables.push({
            key: 'proposals',
            title: '调出库建议',
            exportable: false,
            sheets: [
              {
                name: '调出库建议',
                columns: [
                  { header: '序号', type: 'int' },
                  { header: '项目名称', type: 'text' },
                  { header: '专项推进组', type: 'text' },
                  { header: '建议理由', type: 'text' },
                ],
                rows: proposals.map((p, i) => [i + 1, p.name, orgName(p.portfolio), p.why]),
              },
            ],
          });
        }
        for (const key of EXPORTABLE) {
          const report = snap.report[key] as AnyReport | undefined;
          if (report) tables.push({ key, title: report.title, exportable: true, sheets: toTables(report) });
        }
        return { summary: summaryOf(snap), tables };
      },
    }),
    route({
      method: 'get',
      path: '/supervision/dashboard',
      summary:
        '督查总览：projects per library, investment against 序时进度 by month, overdue tasks, open blockers and the latest 比晾晒',
      tag: 'Supervision',
      roles: SUPERVISION_ROLES,
      success: { status: 200, description: 'The dashboard’s figures', schema: Dashboard },
      handler: async ({ actor }) => {
        const asOf = Date.now();
        const [docs, blockers, snapshots] = await Promise.all([
          loadFacts(),
          models.Blocker.find(
            { status: { $ne: 'CLOSED' } },
            { escalationLevel: 1, level: 1, overdue: 1 },
          ).lean(),
          sm.ReportSnapshot.find({ kind: { $in: RANKED_KINDS } }, { createdAt: 1, approval: 1 }).lean(),
        ]);
        const ctx = ctxOf(asOf);
        const { year, month: currentMonth } = ctx.period as { year: number; month: number };

        const targets = portfolioTargets(docs, ctx, { reporting: policy().reporting });
        const pool = targets.planningPool;
        let completed = 0;
        let out = 0;
        for (const d of docs) {
          const library = libraryOf(d.stage as Stage);
          if (library === '已竣工') completed++;
          else if (library === '已出库') out++;
        }

        // Each month's figures are the monthly dispatch report's total row for that month, as of now.
        const investmentByMonth = Array.from({ length: currentMonth }, (_, i) => {
          const m = i + 1;
          const dispatch = monthlyDispatch(docs, { ...ctx, period: { year, month: m } });
          const t = dispatch.total;
          return {
            month: `${year}-${String(m).padStart(2, '0')}`,
            monthInvestment: t.periodInvestment,
            ytdInvestment: t.ytdInvestment,
            annualPlan: t.annualPlan,
            target: money(Number(divRound(BigInt(t.annualPlan.yuan) * BigInt(m), 12))),
            completion: t.completion,
            timeElapsed: dispatch.timeElapsed,
            aheadBehindPoints: t.aheadBehindPoints,
          };
        });

        const overdue = await liveOverdue(docs, asOf);
        const facets = facetsOf(overdue.rows);

        const levels = Object.keys(BLOCKER_LEVELS) as (keyof typeof BLOCKER_LEVELS)[];
        const blockerSummary = {
          open: blockers.length,
          overdue: blockers.filter((b) => b.overdue).length,
          byEscalation: levelCounts(blockers.map((b) => b.escalationLevel ?? 0)),
          byLevel: levels.map((level) => ({
            level,
            label: BLOCKER_LEVELS[level],
            count: blockers.filter((b) => b.level === level).length,
          })),
        };

        const newest = snapshots
          .filter((s) => mayRead(actor, s))
          .sort((a, b) => new Date(b.createdAt).getTime() - new Date(a.createdAt).getTime())[0];
        let rankings: z.infer<typeof Dashboard>['rankings'] = null;
        if (newest) {
          const snap = await sm.ReportSnapshot.findById(newest._id).lean();
          const r = snap?.report.rankings as RankingsReport | undefined;
          if (snap && r)
            rankings = {
              snapshotId: snap._id,
              kind: snap.kind,
              period: snap.period,
              createdAt: iso(snap.createdAt) ?? '',
              title: r.title,
              asOf: r.asOf,
              timeElapsed: r.timeElapsed,
              departments: r.departments,
              counties: r.counties,
              redList: r.redList,
              blackList: r.blackList,
            };
        }

        return {
          asOf: new Date(asOf).toISOString(),
          year,
          libraries: (['谋划', '储备', '前期', '实施'] as const).map((library) => ({
            library,
            projects: pool.byLibrary[library].projects,
            investment: pool.byLibrary[library].investment,
          })),
          ended: { completed, out },
          planningPool: {
            scope: pool.scope,
            projects: pool.projects,
            investment: pool.investment,
            minProjects: pool.minProjects,
            minInvestment: pool.minInvestment,
            projectsMet: pool.projectsMet,
            investmentMet: pool.investmentMet,
          },
          investmentByMonth,
          overdue: {
            total: overdue.rows.length,
            byResponsibleOrg: facets.departments,
            byCounty: facets.counties,
            byLevel: facets.levels,
          },
          blockers: blockerSummary,
          rankings,
        };
      },
    }),
    route({
      method: 'get',
      path: '/supervision/overdue',
      summary:
        '逾期清单（实时）：open tasks past their deadline, most overdue first, filterable; format=xlsx|csv downloads every row matching the filters',
      tag: 'Supervision',
      roles: SUPERVISION_ROLES,
      query: OverdueQuery,
      success: {
        status: 200,
        description: 'One page of the list, or a download',
        schema: OverduePage,
        files: [FILE_TYPES.xlsx, FILE_TYPES.csv],
      },
      handler: async ({ query, res }) => {
        const asOf = query.asOf ? Date.parse(query.asOf) : Date.now();
        if (asOf > Date.now() + 60_000)
          throw new ApiError(400, 'validation', 'Validation failed', 'asOf lies in the future', {
            errors: [{ in: 'query', path: 'asOf', message: 'not after now' }],
          });
        // The working calendar (and the Shanghai day of an instant) covers 1900–2999 only.
        if (asOf < Date.UTC(1900, 0, 1))
          throw new ApiError(400, 'validation', 'Validation failed', 'asOf lies before 1900', {
            errors: [{ in: 'query', path: 'asOf', message: 'not before 1900-01-01' }],
          });
        const { report, rows } = await liveOverdue(await loadFacts(), asOf);
        const filtered = rows.filter(
          (r) =>
            (!query.department || r.responsibleOrgId === query.department) &&
            (!query.county || r.countyId === query.county) &&
            (query.level === undefined || r.escalationLevel === query.level),
        );
        if (query.format !== 'json')
          return sendTable(res, query.format, `overdue_${stamp(asOf)}`, asOverdueReport(report, filtered));
        const from = (query.page - 1) * query.pageSize;
        return {
          asOf: new Date(asOf).toISOString(),
          total: filtered.length,
          page: query.page,
          pageSize: query.pageSize,
          rows: filtered.slice(from, from + query.pageSize),
          facets: facetsOf(rows),
        };
      },
    }),
    route({
      method: 'get',
      path: '/supervision/data-quality',
      summary:
        '数据质量（实时）：live projects missing a lead leader, a responsible department or deadlines, and the monthly reports missing',
      tag: 'Supervision',
      roles: SUPERVISION_ROLES,
      query: QualityQuery,
      success: {
        status: 200,
        description: 'The lists, or a download',
        schema: Quality,
        files: [FILE_TYPES.xlsx, FILE_TYPES.csv],
      },
      handler: async ({ query, res }) => {
        const asOf = Date.now();
        const docs = (await loadFacts()).filter(
          (d) => !query.county || (d.details as { county?: string }).county === query.county,
        );
        const report = dataQuality(docs, ctxOf(asOf), { monthlyReportDueDay: dueDay() });
        if (query.format !== 'json')
          return sendTable(res, query.format, `data-quality_${stamp(asOf)}`, report);
        return {
          ...report,
          asOf: new Date(asOf).toISOString(),
          counties: policy()
            .organisations.filter((o) => o.kind === 'COUNTY')
            .map((o) => ({ orgId: o.id, name: o.name })),
        };
      },
    }),
    route({
      method: 'get',
      path: '/supervision/missing-reports',
      summary:
        '月报缺报（实时）：the projects whose monthly progress report of a month fell due and was not filed, by county and department',
      tag: 'Supervision',
      roles: SUPERVISION_ROLES,
      query: MissingQuery,
      success: {
        status: 200,
        description: 'The missing reports, or a download',
        schema: Missing,
        files: [FILE_TYPES.xlsx, FILE_TYPES.csv],
      },
      handler: async ({ query, res }) => {
        const asOf = Date.now();
        const ctx = ctxOf(asOf);
        const { year, month: m } = ctx.period as { year: number; month: number };
        const period = query.period ?? periodDueIn(year, m);
        const projects = prepare(await loadFacts(), ctx).projects.filter(
          (p) =>
            (!query.county || p.details.county === query.county) &&
            (!query.department || p.details.responsibleDept === query.department),
        );
        const missing = missingReports(projects, ctx.organisations, period, asOf, dueDay());
        if (query.format !== 'json') {
          const report: DataQualityReport = {
            kind: 'dataQuality',
            title: `${period} 月报缺报清单`,
            asOf: shanghaiTime(asOf),
            missingLeader: [],
            missingDepartment: [],
            tasksWithoutDeadline: [],
            missingMonthlyReports: missing,
          };
          return sendTable(res, query.format, `missing-reports_${period}`, report, ['未报月报']);
        }
        return { asOf: new Date(asOf).toISOString(), ...missing };
      },
    }),
  ];
}
