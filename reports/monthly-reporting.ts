/**
 * Who has filed the monthly progress report (domain/monthly-reports.ts) of a month: on time, late, or not at
 * all. The dispatch report lists the missing ones by county and responsible department, the data-quality list
 * names them, and the rankings count missed and late reports per unit.
 */
import { addMonths } from '../domain/monthly-reports';
import { REPORTING_STAGES } from '../domain/monthly-reports';
import { STAGE_LABELS } from '../domain/project';
import type { Organisation } from '../policy/schema';
import { orgNameOf, type ProjectView } from './source';

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
  status: FilingStatus;
}

/** Whether a project owed the report of `period`: its obligation covers the month and it still reports. */
function owes(p: ProjectView, period: string): boolean {
  const ob = p.state.reportObligation;
  if (!ob || ob.firstPeriod > period) return false;
  return REPORTING_STAGES.includes(p.stage) || (p.state.reports ?? []).some((r) => r.period === period);
}

/** The filing of every project that owed the report of `period`, as it stood at `asOf`. */
export function filingsOf(
  projects: readonly ProjectView[],
  orgs: readonly Organisation[],
  period: string,
  asOf: number,
): ReportFiling[] {
  const out: ReportFiling[] = [];
  for (const p of projects) {
    if (!owes(p, period)) continue;
    const report = (p.state.reports ?? []).find((r) => r.period === period && r.recordedAt <= asOf);
    out.push({
      projectId: p.id,
      projectName: p.details.name,
      county: p.details.county,
      countyName: orgNameOf(orgs, p.details.county),
      responsibleDept: p.details.responsibleDept,
      responsibleDeptName: orgNameOf(orgs, p.details.responsibleDept),
      stage: STAGE_LABELS[p.stage],
      period,
      status: !report ? 'MISSING' : report.late ? 'LATE' : 'ON_TIME',
    });
  }
  return out;
}

export interface MissingReports {
  /** The month reported on; its report fell due in the month after. */
  period: string;
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

/** The projects that owed the report of `period` and had not filed it at `asOf`. */
export function missingReports(
  projects: readonly ProjectView[],
  orgs: readonly Organisation[],
  period: string,
  asOf: number,
): MissingReports {
  const filings = filingsOf(projects, orgs, period, asOf);
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

/** Counts the filings of the reports that fell due in months `firstMonth..lastMonth` of `year`, per project. */
export function reportCountsOf(
  p: ProjectView,
  year: number,
  firstMonth: number,
  lastMonth: number,
  asOf: number,
  dueDay: number,
): ReportCounts {
  const counts: ReportCounts = { owed: 0, onTime: 0, late: 0, missed: 0 };
  for (let m = firstMonth; m <= lastMonth; m++) {
    // A report not yet due at `asOf` is neither missed nor counted.
    const due = Date.parse(
      `${year}-${String(m).padStart(2, '0')}-${String(dueDay).padStart(2, '0')}T23:59:59.999+08:00`,
    );
    if (due > asOf) continue;
    const [f] = filingsOf([p], [], periodDueIn(year, m), asOf);
    if (!f) continue;
    counts.owed++;
    if (f.status === 'ON_TIME') counts.onTime++;
    else if (f.status === 'LATE') counts.late++;
    else counts.missed++;
  }
  return counts;
}
