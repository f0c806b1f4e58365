import { STAGE_LABELS } from '../domain/project';
import { shanghaiTime } from './format';
import { missingReports, periodDueIn, type MissingReports } from './monthly-reporting';
import { shanghaiPeriodOf } from '../domain/monthly-reports';
import { isLive, orgNameOf, prepare, type ProjectRecord, type ReportContext } from './source';

export interface QualityProjectRow {
  projectId: string;
  projectName: string;
  county: string;
  portfolio: string;
  stage: string; // Chinese stage label
}

export interface QualityTaskRow extends QualityProjectRow {
  taskId: string;
  task: string;
  responsibleOrg: string;
  reason: string; // 未设定时限, or the calendar's refusal
}

export interface DataQualityReport {
  kind: 'dataQuality';
  title: string;
  asOf: string;
  missingLeader: QualityProjectRow[]; // no 包联领导
  missingDepartment: QualityProjectRow[]; // no (or an unknown) 责任部门
  tasksWithoutDeadline: QualityTaskRow[]; // open milestones without a deadline
  /** The reports that fall due in the as-of month, had fallen due by the as-of instant and were not filed. */
  missingMonthlyReports: MissingReports;
}

/**
 * 三个清单 completeness: live projects (谋划/储备/前期/实施) missing a lead leader, a department or deadlines, and
 * the monthly reports missing. `monthlyReportDueDay` is the policy's due day (default 5; see reportDueAt).
 */
export function dataQuality(
  docs: readonly ProjectRecord[],
  ctx: ReportContext,
  options: { monthlyReportDueDay?: number } = {},
): DataQualityReport {
  const { asOf, projects } = prepare(docs, ctx);
  const orgs = ctx.organisations;
  const departments = new Set(orgs.filter((o) => o.kind === 'DEPARTMENT').map((o) => o.id));
  const report: DataQualityReport = {
    kind: 'dataQuality',
    title: '项目三个清单数据质量',
    asOf: shanghaiTime(asOf),
    missingLeader: [],
    missingDepartment: [],
    tasksWithoutDeadline: [],
    missingMonthlyReports: missingReports(
      projects,
      orgs,
      periodDueIn(...shanghaiYearMonth(asOf)),
      asOf,
      options.monthlyReportDueDay,
    ),
  };
  for (const p of projects) {
    if (!isLive(p.stage) || p.createdAt > asOf) continue;
    const d = p.details;
    const row: QualityProjectRow = {
      projectId: p.id,
      projectName: d.name,
      county: orgNameOf(orgs, d.county),
      portfolio: orgNameOf(orgs, d.portfolio),
      stage: STAGE_LABELS[p.stage],
    };
    if (!d.assignedLeader?.trim()) report.missingLeader.push(row);
    if (!departments.has(d.responsibleDept)) report.missingDepartment.push(row);
    for (const t of p.openTasks)
      if (t.status === 'OPEN' && !t.deadline)
        report.tasksWithoutDeadline.push({
          ...row,
          taskId: t.id,
          task: t.title,
          responsibleOrg: orgNameOf(orgs, t.assigneeOrg, p),
          reason: t.clock?.refused ? `时限无法计算：${t.clock.refused}` : '未设定时限',
        });
  }
  return report;
}

function shanghaiYearMonth(ms: number): [number, number] {
  const [y, m] = shanghaiPeriodOf(ms).split('-').map(Number) as [number, number];
  return [y, m];
}
