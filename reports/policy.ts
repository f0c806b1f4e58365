import { z } from 'zod';

const percent = z.number().int().min(0).max(100);
const weight = z.number().int().min(0).max(100);

/**
 * The reporting part of the policy (`reporting:` in the policy document; every field has a default, so a
 * document without it stays valid). Values not in the seed are ours and marked default.
 */
export const ReportingPolicySchema = z.strictObject({
  /** Weights of the four assessment metrics in the composite score (default: equal). */
  weights: z
    .strictObject({
      conversion: weight.default(25),
      fundsSecured: weight.default(25),
      paymentRate: weight.default(25),
      investmentCompletion: weight.default(25),
    })
    .prefault({})
    .refine((w) => Object.values(w).some((v) => v > 0), 'at least one weight must be positive'),
  /** 红黑榜: top N that met the target → red list; bottom N that missed it → black list (default 3 / 3). */
  redBlackList: z
    .strictObject({ topN: z.number().int().min(0).default(3), bottomN: z.number().int().min(0).default(3) })
    .prefault({}),
  targets: z
    .strictObject({
      /** Seed: 年度谋划项目动态保持在2000个以上, 总投资7000亿元以上. */
      planningPool: z
        .strictObject({
          minProjects: z.number().int().min(0).default(2000),
          minInvestmentYi: z.number().int().min(0).default(7000), // 亿元
          /**
           * Which projects count. The seed classifies "2025年谋划项目" into the four batches
           * (谋划/储备/前期/实施一批), so the default is all four libraries; PLANNING_LIBRARY counts 谋划库 only.
           */
          scope: z.enum(['FOUR_LIBRARIES', 'PLANNING_LIBRARY']).default('FOUR_LIBRARIES'),
        })
        .prefault({}),
      /** Seed: 签约开工率 ≥ 80%, 开工投产率 ≥ 40%, 投产达效率 ≥ 95%. */
      threeBatches: z
        .strictObject({
          signToStartPercent: percent.default(80),
          startToCommissionPercent: percent.default(40),
          commissionToOutputPercent: percent.default(95),
        })
        .prefault({}),
    })
    .prefault({}),
});

export type ReportingPolicy = z.infer<typeof ReportingPolicySchema>;
export const DEFAULT_REPORTING_POLICY: ReportingPolicy = ReportingPolicySchema.parse({});

/**
 * Every formula of the reports, quotable by the README and the policy. Scopes: "period" is the reporting
 * period (month, quarter or year, Asia/Shanghai); "at period end" uses the stage at the end of the period.
 */
export const FORMULAS = {
  amounts: {
    name: '金额单位',
    zh: '金额以整数元计算，展示为万元 = 元 ÷ 10000，保留两位小数（四舍五入）；合计先以元求和再折算。',
    en: 'Amounts are computed in integer 元 and shown in 万元 = 元 ÷ 10000 to two decimals (half-up); totals are summed in 元 first.',
  },
  rates: {
    name: '比率',
    zh: '比率 = 分子 ÷ 分母 × 100%，保留两位小数（四舍五入，整数运算）；分母为0时不计算（空）。',
    en: 'Rate = numerator ÷ denominator × 100 %, two decimals, half-up, integer arithmetic; empty (null) when the denominator is 0.',
  },
  libraries: {
    name: '四库',
    zh: '四库按阶段划分：谋划库 = 申报至综合评审，储备库 = 储备，前期库 = 前期，实施库 = 在建及停缓建。',
    en: 'Libraries are views over stage: 谋划 = DRAFT…COMPREHENSIVE_REVIEW, 储备 = RESERVE, 前期 = PRE_CONSTRUCTION, 实施 = UNDER_CONSTRUCTION or SUSPENDED.',
  },
  conversion: {
    name: '项目转化率',
    zh: '项目转化率 = 期内升入后续库（谋划→储备→前期→实施→竣工）的项目数 ÷ 期初处于谋划、储备、前期库的项目数（期内新建项目视为期初在谋划库）。',
    en: 'Conversion rate = projects that moved to a later library (谋划→储备→前期→实施→completed) during the period ÷ projects in 谋划/储备/前期 at the start of the period (projects created in the period count as starting in 谋划).',
  },
  fundsSecured: {
    name: '资金争取额度',
    zh: '资金争取额度 = 期内下达或到位的上级及政策性资金（中央预算内投资、专项债、超长期特别国债、省级配套、前期费等，以策略为准）之和，计入争取该资金的单位；不含项目单位自有资金。',
    en: 'Funds secured = higher-level and policy funds (central budget, special bonds, ultra-long bonds, provincial matching, preliminary funds… as the policy marks them) issued or in place during the period, credited to the unit that secured them; never an owner’s own money.',
  },
  paymentRate: {
    name: '资金支付率',
    zh: '资金支付率 = 截至期末累计支付 ÷ 截至期末到位资金（各资金来源的到位金额；未登记资金来源的项目取建设资金落实金额）。',
    en: 'Payment rate = payments up to the end of the period ÷ funds in place by then (the sources’ 到位 amounts; for a project recording no sources, the construction funds confirmed).',
  },
  investmentCompletion: {
    name: '投资完成率',
    zh: '投资完成率 = 1–N月累计完成投资 ÷ 年度计划投资；范围为期末处于前期库、实施库或本年竣工的项目；累计取本年N月及以前最近一期月报。',
    en: 'Investment completion rate = year-to-date investment ÷ annual plan, over projects in 前期 or 实施 at period end or completed this year; year-to-date is the latest monthly report of the year up to month N.',
  },
  timeElapsed: {
    name: '序时进度',
    zh: '序时进度 = 期末月份N ÷ 12。',
    en: 'Time-elapsed progress = N ÷ 12, N the last month of the period.',
  },
  aheadBehind: {
    name: '超/滞后',
    zh: '超/滞后（百分点）= 投资完成率 − 序时进度。',
    en: 'Ahead/behind (percentage points) = investment completion rate − time-elapsed progress.',
  },
  metricScore: {
    name: '单项得分',
    zh: '单项得分 = 100 × 本单位指标值 ÷ 同序列各单位最高值（最高值为0时得0分）；指标不适用（分母为0）时不计入该单位综合得分。',
    en: 'Metric score = 100 × the unit’s value ÷ the best value of its series (0 when the best is 0); a metric that does not apply (denominator 0) is left out of that unit’s composite.',
  },
  composite: {
    name: '综合得分',
    zh: '综合得分 = Σ(权重 × 单项得分) ÷ Σ(适用指标权重)，保留两位小数；按综合得分降序排名，得分相同名次并列。',
    en: 'Composite = Σ(weight × metric score) ÷ Σ(weights of the applicable metrics), two decimals; ranked by composite, descending; equal scores share a rank.',
  },
  redList: {
    name: '红榜',
    zh: '红榜 = 综合排名前N名且投资完成率不低于序时进度的单位。',
    en: 'Red list = units ranked in the top N whose investment completion rate is at least the time-elapsed progress.',
  },
  blackList: {
    name: '黑榜',
    zh: '黑榜 = 综合排名后N名且投资完成率低于序时进度的单位（因不可抗力豁免的单位除外）。',
    en: 'Black list = units ranked in the bottom N whose investment completion rate is below the time-elapsed progress (units exempted for force majeure excluded).',
  },
  planningPool: {
    name: '年度谋划项目',
    zh: '年度谋划项目 = 当前处于谋划、储备、前期、实施库的项目（口径可配置为仅谋划库）；个数与总投资分别对照目标。',
    en: 'Planning pool = projects currently in 谋划/储备/前期/实施 (configurable: 谋划 only); count and total investment are checked against the targets.',
  },
  signToStart: {
    name: '签约开工率',
    zh: '签约开工率 = 签约项目中截至期末已开工的个数 ÷ 签约项目个数。',
    en: 'Sign-to-start rate = signed projects that started by the end of the period ÷ signed projects.',
  },
  startToCommission: {
    name: '开工投产率',
    zh: '开工投产率 = 本年开工项目中已投产的个数 ÷ 本年开工项目个数。',
    en: 'Start-to-commission rate = projects started this year (to period end) that were commissioned ÷ projects started this year.',
  },
  commissionToOutput: {
    name: '投产达效率',
    zh: '投产达效率 = 已投产项目实际年产值 ÷ 设计（预期）年产值。',
    en: 'Commission-to-output rate = actual annual output of commissioned projects ÷ their designed output.',
  },
  overdue: {
    name: '逾期事项',
    zh: '逾期事项 = 截至统计时点已过时限且未办结、未暂停计时的事项；逾期天数按工作日计（时限日次日起算至统计日）。',
    en: 'Overdue = open, unpaused tasks whose deadline is before the as-of instant; days overdue are working days after the due day up to the as-of day.',
  },
} as const satisfies Record<string, { name: string; zh: string; en: string }>;

export type FormulaKey = keyof typeof FORMULAS;
