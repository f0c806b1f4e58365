import {
  divRound,
  formatHundredths,
  formatPoints,
  money,
  rate,
  ratioAtLeast,
  ratioBp,
  shanghaiTime,
  type Money,
  type Rate,
} from './format';
import { DEFAULT_REPORTING_POLICY, type ReportingPolicy } from './policy';
import {
  conversionOf,
  hasHistory,
  inInvestmentScope,
  libraryRank,
  prepare,
  stageWindow,
  ytdYuan,
  type ProjectRecord,
  type ReportContext,
  type StageHistory,
} from './source';
import { reportCountsOf, type ReportCounts } from './monthly-reporting';
import { securedOf } from '../domain/funding';
import type { ProjectView } from './source';

export const METRICS = ['conversion', 'fundsSecured', 'paymentRate', 'investmentCompletion'] as const;
export type MetricKey = (typeof METRICS)[number];
export type Series = 'DEPARTMENT' | 'COUNTY';

export interface RankingOptions extends StageHistory {
  reporting?: ReportingPolicy;
  /**
   * The policy's day of the month on which monthly reports fall due (`implementation.monthlyReportDueDay`,
   * default 5); only used for a report whose task carries no deadline (see reportDueAt).
   */
  monthlyReportDueDay?: number;
  /** Units exempted from the black list (e.g. missed because of force majeure). */
  blackListExempt?: readonly string[];
}

export interface RankingRow {
  orgId: string;
  name: string;
  projects: number;
  conversion: Rate | null; // FORMULAS.conversion
  fundsSecured: Money; // FORMULAS.fundsSecured
  paymentRate: Rate | null; // FORMULAS.paymentRate
  investmentCompletion: Rate | null; // FORMULAS.investmentCompletion
  aheadBehindPoints: string | null; // FORMULAS.aheadBehind
  scores: Record<MetricKey, string | null>; // FORMULAS.metricScore; null = not applicable
  composite: string; // FORMULAS.composite
  rank: number;
  meetsTarget: boolean | null; // investment completion ≥ 序时进度; null when it cannot be computed
  list: 'RED' | 'BLACK' | null;
  /**
   * Monthly reports that fall due in the period's months and had fallen due by its as-of instant (by the
   * deadline of their REPORT task): owed, on time, late, missed.
   */
  monthlyReports: ReportCounts;
}

export interface ListEntry {
  series: Series;
  orgId: string;
  name: string;
  rank: number;
  composite: string;
}

export interface RankingsReport {
  kind: 'rankings';
  title: string;
  period: string;
  asOf: string;
  timeElapsed: Rate;
  weights: ReportingPolicy['weights'];
  departments: RankingRow[];
  counties: RankingRow[];
  redList: ListEntry[];
  blackList: ListEntry[];
  warnings: string[];
}

interface Acc {
  projects: number;
  eligible: number;
  converted: number;
  funds: number;
  paid: number;
  confirmed: number;
  ytd: number;
  plan: number;
  reports: ReportCounts;
}

type Ratio = { n: number; d: number } | null;

/** 100 × value ÷ best in hundredths of a point (FORMULAS.metricScore); null when the metric does not apply. */
function scoreOf(v: Ratio, best: Ratio): bigint | null {
  if (!v || !best) return null;
  if (best.n === 0) return 0n;
  return BigInt(ratioBp(BigInt(v.n) * BigInt(best.d), BigInt(v.d) * BigInt(best.n)));
}

/**
 * 比晾晒 of departments (by responsible department) and counties on the four metrics of FORMULAS, their
 * scores against the best unit of the series, a weighted composite, the rank and the red/black lists.
 */
export function rankings(
  docs: readonly ProjectRecord[],
  ctx: ReportContext,
  options: RankingOptions = {},
): RankingsReport {
  const { range, asOf, projects } = prepare(docs, ctx);
  const policy = options.reporting ?? DEFAULT_REPORTING_POLICY;
  const exempt = new Set(options.blackListExempt ?? []);
  const withHistory = hasHistory(options);
  const warnings: string[] = withHistory ? [] : ['no stage history supplied: conversion rate not computed'];
  const timeElapsed = rate(range.lastMonth, 12)!;
  const dueDay = options.monthlyReportDueDay;

  const series = (kind: Series, keyOf: (d: { county: string; responsibleDept: string }) => string) => {
    const orgs = ctx.organisations.filter((o) => o.kind === kind);
    const accs = new Map<string, Acc>();
    const accOf = (id: string): Acc => {
      const a = accs.get(id) ?? {
        projects: 0,
        eligible: 0,
        converted: 0,
        funds: 0,
        paid: 0,
        confirmed: 0,
        ytd: 0,
        plan: 0,
        reports: { owed: 0, onTime: 0, late: 0, missed: 0 },
      };
      accs.set(id, a);
      return a;
    };
    for (const p of projects) {
      if (p.createdAt >= range.endMs) continue;
      // 资金争取额度: higher-level and policy funds issued or in place in the period, credited to the unit of this
      // series that secured them — never an owner's own money (FORMULAS.fundsSecured).
      for (const source of p.state.fundingSources ?? []) {
        const secured = securedOf(source);
        if (!secured || !source.securedBy || !orgs.some((o) => o.id === source.securedBy)) continue;
        if (secured.date >= range.firstDay && secured.date <= range.lastDay)
          accOf(source.securedBy).funds += secured.amountYuan;
      }
      const id = keyOf(p.details);
      if (!orgs.some((o) => o.id === id)) {
        warnings.push(`project ${p.id}: ${kind.toLowerCase()} "${id}" is not in the policy, left out`);
        continue;
      }
      const a = accOf(id);
      const filed = reportCountsOf(p, range.year, range.firstMonth, range.lastMonth, asOf, dueDay);
      a.reports.owed += filed.owed;
      a.reports.onTime += filed.onTime;
      a.reports.late += filed.late;
      a.reports.missed += filed.missed;
      const w = stageWindow(p, range, options);
      if (libraryRank(w.end) >= 0) a.projects++;
      const c = withHistory ? conversionOf(w) : null;
      if (withHistory && !c) warnings.push(`project ${p.id}: stage at period start unknown`);
      if (c?.eligible) a.eligible++;
      if (c?.converted) a.converted++;
      // 资金支付率: payments ÷ funds in place by period end — the sources' 到位 amounts, or for a project that
      // records no sources the construction funds confirmed at the start gate (建设资金落实).
      const inPlace = inPlaceYuanBy(p, range.lastDay);
      if (inPlace > 0) {
        a.confirmed += inPlace;
        for (const pay of p.state.payments ?? []) if (pay.date <= range.lastDay) a.paid += pay.amountYuan;
      }
      if (inInvestmentScope(p, w.end, range)) {
        a.ytd += ytdYuan(p, range);
        a.plan += p.details.annualPlanYuan;
      }
    }
    const units = orgs
      .filter((o) => (accs.get(o.id)?.projects ?? 0) > 0 || (accs.get(o.id)?.funds ?? 0) > 0)
      .map((o) => {
        const a = accs.get(o.id)!;
        const values: Record<MetricKey, Ratio> = {
          conversion: withHistory && a.eligible > 0 ? { n: a.converted, d: a.eligible } : null,
          fundsSecured: { n: a.funds, d: 1 },
          paymentRate: a.confirmed > 0 ? { n: a.paid, d: a.confirmed } : null,
          investmentCompletion: a.plan > 0 ? { n: a.ytd, d: a.plan } : null,
        };
        return { org: o, a, values };
      });
    // Score of each metric: 100 × value ÷ best value of the series, in hundredths of a point.
    const scores = units.map(() => ({}) as Record<MetricKey, bigint | null>);
    for (const m of METRICS) {
      const best = units
        .map((u) => u.values[m])
        .reduce<Ratio>((b, v) => (v && (!b || !ratioAtLeast(b.n, b.d, v.n, v.d)) ? v : b), null);
      units.forEach((u, i) => (scores[i]![m] = scoreOf(u.values[m], best)));
    }
    const composite = new Map<RankingRow, bigint>();
    const rows = units.map((u, i): RankingRow => {
      let num = 0n;
      let den = 0n;
      for (const m of METRICS) {
        const s = scores[i]![m];
        if (s === null) continue;
        num += BigInt(policy.weights[m]) * s;
        den += BigInt(policy.weights[m]);
      }
      const total = den === 0n ? 0n : divRound(num, den);
      const ratio = (v: Ratio) => v && rate(v.n, v.d);
      const inv = u.values.investmentCompletion;
      const completion = ratio(inv);
      const row: RankingRow = {
        orgId: u.org.id,
        name: u.org.name,
        projects: u.a.projects,
        conversion: ratio(u.values.conversion),
        fundsSecured: money(u.a.funds),
        paymentRate: ratio(u.values.paymentRate),
        investmentCompletion: completion,
        aheadBehindPoints: completion ? formatPoints(completion.bp - timeElapsed.bp) : null,
        scores: Object.fromEntries(
          METRICS.map((m) => [m, scores[i]![m] === null ? null : formatHundredths(scores[i]![m])]),
        ) as Record<MetricKey, string | null>,
        composite: formatHundredths(total),
        rank: 0,
        meetsTarget: inv ? ratioAtLeast(inv.n, inv.d, range.lastMonth, 12) : null,
        list: null,
        monthlyReports: u.a.reports,
      };
      composite.set(row, total);
      return row;
    });
    const c = (r: RankingRow) => composite.get(r)!;
    rows.sort((x, y) => (c(y) > c(x) ? 1 : c(y) < c(x) ? -1 : x.orgId < y.orgId ? -1 : 1));
    for (const r of rows) {
      const better = rows.filter((o) => c(o) > c(r)).length;
      const worse = rows.filter((o) => c(o) < c(r)).length;
      r.rank = better + 1;
      if (better < policy.redBlackList.topN && r.meetsTarget === true) r.list = 'RED';
      else if (worse < policy.redBlackList.bottomN && r.meetsTarget === false && !exempt.has(r.orgId))
        r.list = 'BLACK';
    }
    return rows;
  };

  const departments = series('DEPARTMENT', (d) => d.responsibleDept);
  const counties = series('COUNTY', (d) => d.county);
  const listOf = (list: 'RED' | 'BLACK') =>
    (
      [
        ['DEPARTMENT', departments],
        ['COUNTY', counties],
      ] as const
    ).flatMap(([s, rows]) =>
      rows
        .filter((r) => r.list === list)
        .map((r) => ({ series: s, orgId: r.orgId, name: r.name, rank: r.rank, composite: r.composite })),
    );
  return {
    kind: 'rankings',
    title: `${range.label}项目建设比晾晒`,
    period: range.label,
    asOf: shanghaiTime(asOf),
    timeElapsed,
    weights: policy.weights,
    departments,
    counties,
    redList: listOf('RED'),
    blackList: listOf('BLACK'),
    warnings: [...new Set(warnings)],
  };
}

/** Funds in place on a project by `day`: its sources' latest 到位 amounts, else the construction funds confirmed. */
function inPlaceYuanBy(p: ProjectView, day: string): number {
  const sources = p.state.fundingSources ?? [];
  if (sources.length > 0) {
    let sum = 0;
    for (const f of sources) {
      const inPlace = f.states.filter((x) => x.state === 'IN_PLACE' && x.date <= day).pop();
      if (inPlace) sum += inPlace.amountYuan;
    }
    return sum;
  }
  const f = p.state.funding;
  return f && f.date <= day ? f.confirmedYuan : 0;
}
