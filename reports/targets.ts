import { libraryOf } from '../domain/project';
import { formatHundredths, money, rate, ratioAtLeast, shanghaiTime, type Money, type Rate } from './format';
import { DEFAULT_REPORTING_POLICY, type ReportingPolicy } from './policy';
import {
  isLive,
  LIBRARIES,
  prepare,
  type LibraryName,
  type ProjectRecord,
  type ReportContext,
} from './source';

/**
 * 三个一批 inputs that the read model does not hold (investment-promotion signing, commissioning, output);
 * the caller passes them from their own ledgers, or the rates stay null.
 */
export interface ThreeBatchInputs {
  /** Projects signed (招商引资签约) in the round or year being measured. */
  signedProjectIds?: readonly string[];
  /** Projects commissioned (投产). */
  commissionedProjectIds?: readonly string[];
  /** Commissioned projects' actual and designed annual output value (元). */
  output?: readonly { projectId: string; actualYuan: number; designedYuan: number }[];
}

export interface TargetOptions {
  reporting?: ReportingPolicy;
  threeBatches?: ThreeBatchInputs;
}

export interface ThreeBatchRate {
  key: 'signToStart' | 'startToCommission' | 'commissionToOutput';
  name: string;
  rate: Rate | null;
  target: string; // percent, two decimals
  met: boolean | null;
  missing: string | null; // what the read model lacks, when rate is null
}

export interface PortfolioTargetsReport {
  kind: 'targets';
  title: string;
  period: string;
  asOf: string;
  planningPool: {
    scope: ReportingPolicy['targets']['planningPool']['scope'];
    byLibrary: Record<LibraryName, { projects: number; investment: Money }>;
    projects: number;
    investment: Money;
    minProjects: number;
    minInvestment: Money;
    projectsMet: boolean;
    investmentMet: boolean;
  };
  threeBatches: ThreeBatchRate[];
}

const YI = 100_000_000; // 1 亿元 in 元

/** The planning pool (as of asOf) against ≥ 2000 projects and ≥ 7000亿元, and the 三个一批 rates. */
export function portfolioTargets(
  docs: readonly ProjectRecord[],
  ctx: ReportContext,
  options: TargetOptions = {},
): PortfolioTargetsReport {
  const { range, asOf, projects } = prepare(docs, ctx);
  const t = (options.reporting ?? DEFAULT_REPORTING_POLICY).targets;
  const byLibrary = Object.fromEntries(LIBRARIES.map((l) => [l, { projects: 0, yuan: 0 }])) as Record<
    LibraryName,
    { projects: number; yuan: number }
  >;
  for (const p of projects) {
    if (p.createdAt > asOf || !isLive(p.stage)) continue;
    const l = byLibrary[libraryOf(p.stage) as LibraryName];
    l.projects++;
    l.yuan += p.details.totalInvestmentYuan;
  }
  const inScope = t.planningPool.scope === 'PLANNING_LIBRARY' ? (['谋划'] as const) : LIBRARIES;
  const count = inScope.reduce((s, l) => s + byLibrary[l].projects, 0);
  const yuan = inScope.reduce((s, l) => s + byLibrary[l].yuan, 0);
  const minYuan = t.planningPool.minInvestmentYi * YI;

  // 三个一批, each from the caller's inputs; started = state.start on or before the period's last day.
  const inputs = options.threeBatches ?? {};
  const byId = new Map(projects.map((p) => [p.id, p]));
  const startedBy = (id: string) => {
    const s = byId.get(id)?.state.start;
    return s !== undefined && s.date <= range.lastDay;
  };
  const startedThisYear = projects.filter((p) => {
    const s = p.state.start;
    return s !== undefined && s.date >= `${range.year}-01-01` && s.date <= range.lastDay;
  });
  const commissioned = new Set(inputs.commissionedProjectIds ?? []);
  const signed = inputs.signedProjectIds;
  const output = inputs.output;
  const item = (
    key: ThreeBatchRate['key'],
    name: string,
    targetPercent: number,
    r: Rate | null,
    missing: string | null,
  ): ThreeBatchRate => ({
    key,
    name,
    rate: r,
    target: formatHundredths(targetPercent * 100),
    met: r ? ratioAtLeast(r.numerator, r.denominator, targetPercent, 100) : null,
    missing: r ? null : missing,
  });
  const tb = t.threeBatches;
  return {
    kind: 'targets',
    title: `${range.label}项目谋划及“三个一批”目标`,
    period: range.label,
    asOf: shanghaiTime(asOf),
    planningPool: {
      scope: t.planningPool.scope,
      byLibrary: Object.fromEntries(
        LIBRARIES.map((l) => [l, { projects: byLibrary[l].projects, investment: money(byLibrary[l].yuan) }]),
      ) as Record<LibraryName, { projects: number; investment: Money }>,
      projects: count,
      investment: money(yuan),
      minProjects: t.planningPool.minProjects,
      minInvestment: money(minYuan),
      projectsMet: count >= t.planningPool.minProjects,
      investmentMet: yuan >= minYuan,
    },
    threeBatches: [
      item(
        'signToStart',
        '签约开工率',
        tb.signToStartPercent,
        signed ? rate(signed.filter(startedBy).length, signed.length) : null,
        signed ? '无签约项目' : '读模型无招商签约记录（签约项目清单）',
      ),
      item(
        'startToCommission',
        '开工投产率',
        tb.startToCommissionPercent,
        inputs.commissionedProjectIds
          ? rate(startedThisYear.filter((p) => commissioned.has(p.id)).length, startedThisYear.length)
          : null,
        inputs.commissionedProjectIds ? '本年无开工项目' : '读模型无投产日期（投产项目清单）',
      ),
      item(
        'commissionToOutput',
        '投产达效率',
        tb.commissionToOutputPercent,
        output
          ? rate(
              output.reduce((s, o) => s + o.actualYuan, 0),
              output.reduce((s, o) => s + o.designedYuan, 0),
            )
          : null,
        output ? '无设计产值' : '读模型无实际及设计年产值',
      ),
    ],
  };
}
