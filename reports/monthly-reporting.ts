/**
 * Who has filed the monthly progress report (domain/monthly-reports.ts) of a month: on time, late, or not at
 * all. The dispatch report lists the missing ones by county and responsible department, the data-quality list
 * names them, and the rankings count missed and late reports per unit.
 */
import { addMonths, REPORTING_STAGES, reportTaskKey } from '../domain/monthly-reports';
import { STAGE_LABELS } from '../domain/project';
import type { Organisation } from '../policy/schema';
import { shanghaiTime } from './format';
import { orgNameOf, type ProjectView } from './source';

/** The policy's default due day (`implementation.monthlyReportDueDay`), for reports whose task set no deadline. */
export const DEFAULT_MONTHLY_REPORT_DUE_DAY = 5;

export type FilingStatus = 'ON_TIME' | 'LATE' | 'MISSING';

export interface ReportFiling {
  projectId: string;
  projectName: string;
  county: string;
  countyName: string;
  responsibleDept: string;
  responsibleDeptName: string;
  stage: string; // Chinese stage label
  period: string; // the month reported on (YYYY-MM)
  dueAt: string; // when it fell due, Asia/Shanghai 'YYYY-MM-DD HH:mm'
  status: FilingStatus;
}

/** Whether a project owed the report of `period`: its obligation covers the month and it still reports. */
function owes(p: ProjectView, period: string): boolean {
  const ob = p.state.reportObligation;
  if (!ob || ob.firstPeriod > period) return false;
  return REPORTING_STAGES.includes(p.stage) || (p.state.reports ?? []).some((r) => r.period === period);
}

/**
 * When the report of `period` falls due for `p`: the deadline the workflow gave its REPORT task (kept on the
 * filed report, or on the task while it is open), so the reports follow the same clock as the reminders and
 * escalations; without one (the task has not opened yet, or the calendar refused a deadline), the policy's
 * due day of the following month.
 */
export function reportDueAt(p: ProjectView, period: string, dueDay: number): number {
  const filed = (p.state.reports ?? []).find((r) => r.period === period);
  if (filed?.dueAt !== undefined) return filed.dueAt;
  const task = p.openTasks.find((t) => t.kind === 'REPORT' && t.key === reportTaskKey(period));
  if (task?.deadline) return task.deadline.dueAt;
  const day = String(dueDay).padStart(2, '0');
  return Date.parse(`${addMonths(period, 1)}-${day}T23:59:59.999+08:00`);
}

/**
 * The filing of every project whose report of `period` had fallen due by `asOf`: on time, late, or missing.
 * A report not yet due at `asOf` is neither counted nor missing, even if filed early; a month whose report was
 * overtaken by the filing of a later month (its task closed as missed) fell due no later than that filing.
 */
export function filingsOf(
  projects: readonly ProjectView[],
  orgs: readonly Organisation[],
  period: string,
  asOf: number,
  dueDay = DEFAULT_MONTHLY_REPORT_DUE_DAY,
): ReportFiling[] {
  const out: ReportFiling[] = [];
  for (const p of projects) {
    if (!owes(p, period)) continue;
    const filed = (p.state.reports ?? []).filter((r) => r.recordedAt <= asOf);
    const report = filed.find((r) => r.period === period);
    const later = filed.find((r) => r.period > period);
    let due = reportDueAt(p, period, dueDay);
    if (!report && later) due = Math.min(due, later.recordedAt);
    if (due > asOf) continue;
    out.push({
      projectId: p.id,
      projectName: p.details.name,
      county: p.details.county,
      countyName: orgNameOf(orgs, p.details.county),
      responsibleDept: p.details.responsibleDept,
      responsibleDeptName: orgNameOf(orgs, p.details.responsibleDept),
      stage: STAGE_LABELS[p.stage],
      period,
      dueAt: shanghaiTime(due),
      status: !report ? 'MISSING' : report.late ? 'LATE' : 'ON_TIME',
    });
  }
  return out;
}

export interface MissingReports {
  /** The month reported on; its report fell due in the month after. */
  period: string;
  /** Reports of the month that had fallen due by the as-of instant. */
  owed: number;
  missing: ReportFiling[];
  byCounty: { orgId: string; name: string; missing: number }[];
  byDepartment: { orgId: string; name: string; missing: number }[];
}

function countBy(rows: readonly ReportFiling[], key: 'county' | 'responsibleDept') {
  const counts = new Map<string, { orgId: string; name: string; missing: number }>();
  for (const r of rows) {
    const id = r[key];
    const name = key === 'county' ? r.countyName : r.responsibleDeptName;
    const c = counts.get(id) ?? { orgId: id, name, missing: 0 };
    c.missing++;
    counts.set(id, c);
  }
  return [...counts.values()].sort((a, b) => b.missing - a.missing || (a.orgId < b.orgId ? -1 : 1));
}

/** The projects whose report of `period` had fallen due by `asOf` and was not filed. */
export function missingReports(
  projects: readonly ProjectView[],
  orgs: readonly Organisation[],
  period: string,
  asOf: number,
  dueDay = DEFAULT_MONTHLY_REPORT_DUE_DAY,
): MissingReports {
  const filings = filingsOf(projects, orgs, period, asOf, dueDay);
  const missing = filings.filter((f) => f.status === 'MISSING');
  return {
    period,
    owed: filings.length,
    missing,
    byCounty: countBy(missing, 'county'),
    byDepartment: countBy(missing, 'responsibleDept'),
  };
}

/** The month whose report falls due in `year`-`month` (the month before it). */
export function periodDueIn(year: number, month: number): string {
  return addMonths(`${year}-${String(month).padStart(2, '0')}`, -1);
}

export interface ReportCounts {
  owed: number;
  onTime: number;
  late: number;
  missed: number;
}

/**
 * Counts the filings of the reports of the months before `firstMonth..lastMonth` of `year` (the reports that
 * fall due in those months), per project: only those due by `asOf` (see filingsOf).
 */
export function reportCountsOf(
  p: ProjectView,
  year: number,
  firstMonth: number,
  lastMonth: number,
  asOf: number,
  dueDay = DEFAULT_MONTHLY_REPORT_DUE_DAY,
): ReportCounts {
  const counts: ReportCounts = { owed: 0, onTime: 0, late: 0, missed: 0 };
  for (let m = firstMonth; m <= lastMonth; m++) {
    const [f] = filingsOf([p], [], periodDueIn(year, m), asOf, dueDay);
    if (!f) continue;
    counts.owed++;
    if (f.status === 'ON_TIME') counts.onTime++;
    else if (f.status === 'LATE') counts.late++;
    else counts.missed++;
  }
  return counts;
}
