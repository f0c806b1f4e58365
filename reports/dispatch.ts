import { libraryOf } from '../domain/project';
import { missingReports, periodDueIn, type MissingReports } from './monthly-reporting';
import { formatPoints, money, rate, shanghaiTime, toMs, type Money, type Rate } from './format';
import {
  conversionOf,
  hasHistory,
  inInvestmentScope,
  isLive,
  isOverdue,
  LIBRARIES,
  type LibraryName,
  periodInvestmentYuan,
  prepare,
  stageWindow,
  ytdYuan,
  type ProjectRecord,
  type ReportContext,
  type StageHistory,
} from './source';

/** A blocker (百项堵点); blockers are not in the read model yet, so the caller passes them. */
export interface BlockerInput {
  projectId: string;
  openedAt: Date | number;
  closedAt?: Date | number | undefined; // 销号
}

export interface DispatchOptions extends StageHistory {
  blockers?: readonly BlockerInput[];
  /**
   * The policy's due day of monthly reports (`implementation.monthlyReportDueDay`, default 5); only used for a
   * report whose task carries no deadline (see reportDueAt).
   */
  monthlyReportDueDay?: number;
}

export interface DispatchRow {
  orgId: string | null; // the special group; null for the total row
  name: string;
  head: string | null;
  portfolio: string | null;
  libraries: Record<LibraryName, number>; // at period end
  totalProjects: number;
  newProjects: number; // created in the period
  converted: number | null; // moved to a later library in the period; null without a stage history
  periodInvestment: Money;
  ytdInvestment: Money;
  annualPlan: Money;
  completion: Rate | null; // ytd ÷ annual plan
  aheadBehindPoints: string | null; // completion − 序时进度
  overdueTasks: number;
  openBlockers: number | null; // null when no blockers were supplied
}

export interface DispatchReport {
  kind: 'dispatch';
  title: string;
  period: string;
  asOf: string;
  timeElapsed: Rate; // 序时进度
  rows: DispatchRow[];
  total: DispatchRow;
  /**
   * The reports of the month before the period's last month (they fall due in the last month) that had fallen
   * due by the as-of instant and were not filed, by county and responsible department.
   */
  missingReports: MissingReports;
  warnings: string[];
}

interface Acc {
  libraries: Record<LibraryName, number>;
  newProjects: number;
  converted: number;
  period: number;
  ytd: number;
  plan: number;
  overdue: number;
  blockers: number;
}
const emptyAcc = (): Acc => ({
  libraries: { 谋划: 0, 储备: 0, 前期: 0, 实施: 0 },
  newProjects: 0,
  converted: 0,
  period: 0,
  ytd: 0,
  plan: 0,
  overdue: 0,
  blockers: 0,
});

/**
 * 月底专题调度会: per special group (portfolio), the projects per library at period end, new projects,
 * conversions, investment of the period and year to date against the annual plan and 序时进度, overdue tasks
 * and open blockers. Conversion uses `stageChanges` (audit trail) or `stagesAtPeriodStart` (see StageHistory).
 */
export function monthlyDispatch(
  docs: readonly ProjectRecord[],
  ctx: ReportContext,
  options: DispatchOptions = {},
): DispatchReport {
  const { range, asOf, projects } = prepare(docs, ctx);
  const withHistory = hasHistory(options);
  const warnings: string[] = [];
  const groups = ctx.organisations.filter((o) => o.kind === 'SPECIAL_GROUP');
  const accs = new Map<string, Acc>(groups.map((g) => [g.id, emptyAcc()]));
  const accOf = (id: string) => {
    if (!accs.has(id)) {
      warnings.push(`portfolio ${id} is not a special group of the policy`);
      accs.set(id, emptyAcc());
    }
    return accs.get(id)!;
  };
  const blockersByProject = new Map<string, number>();
  for (const b of options.blockers ?? []) {
    const open = toMs(b.openedAt) <= asOf && (b.closedAt === undefined || toMs(b.closedAt) > asOf);
    if (open) blockersByProject.set(b.projectId, (blockersByProject.get(b.projectId) ?? 0) + 1);
  }

  for (const p of projects) {
    if (p.createdAt >= range.endMs) continue; // not yet created at period end
    const a = accOf(p.details.portfolio);
    const w = stageWindow(p, range, options);
    if (isLive(w.end)) a.libraries[libraryOf(w.end) as LibraryName]++;
    if (p.createdAt >= range.startMs) a.newProjects++;
    if (withHistory) {
      const c = conversionOf(w);
      if (!c) warnings.push(`project ${p.id}: stage at period start unknown, not counted as converted`);
      else if (c.converted) a.converted++;
    }
    a.period += periodInvestmentYuan(p, range);
    if (inInvestmentScope(p, w.end, range)) {
      a.ytd += ytdYuan(p, range);
      a.plan += p.details.annualPlanYuan;
    }
    a.overdue += p.openTasks.filter((t) => isOverdue(t, asOf)).length;
    a.blockers += blockersByProject.get(p.id) ?? 0;
  }

  const timeElapsed = rate(range.lastMonth, 12)!;
  const rowOf = (
    orgId: string | null,
    name: string,
    head: string | null,
    portfolio: string | null,
    a: Acc,
  ) => {
    const completion = rate(a.ytd, a.plan);
    return {
      orgId,
      name,
      head,
      portfolio,
      libraries: a.libraries,
      totalProjects: LIBRARIES.reduce((s, l) => s + a.libraries[l], 0),
      newProjects: a.newProjects,
      converted: withHistory ? a.converted : null,
      periodInvestment: money(a.period),
      ytdInvestment: money(a.ytd),
      annualPlan: money(a.plan),
      completion,
      aheadBehindPoints: completion ? formatPoints(completion.bp - timeElapsed.bp) : null,
      overdueTasks: a.overdue,
      openBlockers: options.blockers ? a.blockers : null,
    };
  };
  const rows = [...accs].map(([id, a]) => {
    const g = groups.find((o) => o.id === id);
    return rowOf(id, g?.name ?? id, g?.head ?? null, g?.portfolio ?? null, a);
  });
  const total = emptyAcc();
  for (const a of accs.values()) {
    for (const l of LIBRARIES) total.libraries[l] += a.libraries[l];
    total.newProjects += a.newProjects;
    total.converted += a.converted;
    total.period += a.period;
    total.ytd += a.ytd;
    total.plan += a.plan;
    total.overdue += a.overdue;
    total.blockers += a.blockers;
  }
  if (!withHistory) warnings.push('no stage history supplied: conversions not computed');
  if (!options.blockers) warnings.push('no blockers supplied: open blockers not computed');
  return {
    kind: 'dispatch',
    title: `${range.label}重大项目专题调度表`,
    period: range.label,
    asOf: shanghaiTime(asOf),
    timeElapsed,
    rows,
    total: rowOf(null, '合计', null, null, total),
    missingReports: missingReports(
      projects,
      ctx.organisations,
      periodDueIn(range.year, range.lastMonth),
      asOf,
      options.monthlyReportDueDay,
    ),
    warnings,
  };
}
