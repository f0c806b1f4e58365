import ExcelJS from 'exceljs';
import type { DispatchReport, DispatchRow } from './dispatch';
import type { MissingReports } from './monthly-reporting';
import type { OverdueReport } from './overdue';
import { FORMULAS, type FormulaKey } from './policy';
import type { DataQualityReport, QualityProjectRow } from './quality';
import type { RankingRow, RankingsReport } from './rankings';
import type { PortfolioTargetsReport } from './targets';

export type AnyReport =
  DispatchReport | OverdueReport | RankingsReport | DataQualityReport | PortfolioTargetsReport;

/** text; int (a count); decimal (万元 or %, two decimals); points (signed percentage points). */
export type ColumnType = 'text' | 'int' | 'decimal' | 'points';
export type Cell = string | number | null;

export interface Table {
  name: string; // sheet name
  columns: { header: string; type: ColumnType }[];
  rows: Cell[][];
}

const yesNo = (b: boolean | null) => (b === null ? null : b ? '是' : '否');
const T = 'text' as const;
const I = 'int' as const;
const D = 'decimal' as const;
const P = 'points' as const;

function table(name: string, columns: [string, ColumnType][], rows: Cell[][]): Table {
  return { name, columns: columns.map(([header, type]) => ({ header, type })), rows };
}

function notes(
  r: { title: string; asOf: string; period?: string },
  keys: FormulaKey[],
  warnings: string[] = [],
) {
  return table(
    '口径说明',
    [
      ['项目', T],
      ['内容', T],
      ['English', T],
    ],
    [
      ['报表', r.title, null],
      ...(r.period ? [['统计期', r.period, null] as Cell[]] : []),
      ['统计时点', `${r.asOf}（北京时间）`, null],
      ...keys.map((k) => [FORMULAS[k].name, FORMULAS[k].zh, FORMULAS[k].en]),
      ...warnings.map((w) => ['提示', null, w]),
    ],
  );
}

/** The monthly reports that fell due and were not filed: one row per project. */
function missingReportsTable(m: MissingReports): Table {
  return table(
    '未报月报',
    [
      ['序号', I],
      ['项目名称', T],
      ['县区', T],
      ['责任部门', T],
      ['阶段', T],
      ['报送月份', T],
      ['应报时限', T],
    ],
    m.missing.map((x, i) => [
      i + 1,
      x.projectName,
      x.countyName,
      x.responsibleDeptName,
      x.stage,
      x.period,
      x.dueAt,
    ]),
  );
}

/** The missing monthly reports counted by county and by responsible department, with the total owed. */
function missingReportsSummary(m: MissingReports): Table {
  return table(
    '未报月报统计',
    [
      ['序列', T],
      ['单位', T],
      ['未报(个)', I],
    ],
    [
      ...m.byCounty.map((c) => ['县(市、区)', c.name, c.missing]),
      ...m.byDepartment.map((d) => ['责任部门', d.name, d.missing]),
      ['合计', `${m.period} 月报应报 ${m.owed} 个`, m.missing.length],
    ],
  );
}

function dispatchTables(r: DispatchReport): Table[] {
  const n = r.timeElapsed.numerator;
  const row = (x: DispatchRow, i: number | null): Cell[] => [
    i,
    x.name,
    x.head,
    x.libraries.谋划,
    x.libraries.储备,
    x.libraries.前期,
    x.libraries.实施,
    x.totalProjects,
    x.newProjects,
    x.converted,
    x.periodInvestment.wan,
    x.annualPlan.wan,
    x.ytdInvestment.wan,
    x.completion?.percent ?? null,
    r.timeElapsed.percent,
    x.aheadBehindPoints,
    x.overdueTasks,
    x.openBlockers,
  ];
  return [
    table(
      '专题调度',
      [
        ['序号', I],
        ['专项推进组', T],
        ['分管市领导', T],
        ['谋划库(个)', I],
        ['储备库(个)', I],
        ['前期库(个)', I],
        ['实施库(个)', I],
        ['项目合计(个)', I],
        ['本期新增(个)', I],
        ['本期转化(个)', I],
        ['本期完成投资(万元)', D],
        ['年度计划投资(万元)', D],
        [`1–${n}月累计完成投资(万元)`, D],
        ['占年度计划(%)', D],
        ['序时进度(%)', D],
        ['超/滞后(百分点)', P],
        ['逾期事项(个)', I],
        ['未销号堵点(个)', I],
      ],
      [...r.rows.map((x, i) => row(x, i + 1)), row(r.total, null)],
    ),
    missingReportsTable(r.missingReports),
    missingReportsSummary(r.missingReports),
    notes(
      r,
      [
        'amounts',
        'rates',
        'libraries',
        'conversion',
        'investmentCompletion',
        'timeElapsed',
        'aheadBehind',
        'overdue',
      ],
      r.warnings,
    ),
  ];
}

function overdueTables(r: OverdueReport): Table[] {
  return [
    table(
      '逾期清单',
      [
        ['序号', I],
        ['项目名称', T],
        ['项目代码', T],
        ['县区', T],
        ['逾期事项', T],
        ['责任单位', T],
        ['包联领导', T],
        ['计划完成时限', T],
        ['逾期天数(工作日)', I],
        ['督办级别', I],
        ['已提醒次数', I],
        ['列入月度通报', T],
        ['时限待定', T],
      ],
      r.rows.map((x, i) => [
        i + 1,
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
        yesNo(x.onMonthlyBulletin),
        yesNo(x.provisional),
      ]),
    ),
    notes(r, ['overdue']),
  ];
}

function rankingTables(r: RankingsReport): Table[] {
  const LIST = { RED: '红榜', BLACK: '黑榜' } as const;
  const SERIES = { DEPARTMENT: '市直部门', COUNTY: '县(市、区)' } as const;
  const w = r.weights;
  const ranking = (name: string, rows: RankingRow[]) =>
    table(
      name,
      [
        ['名次', I],
        ['单位', T],
        ['项目数(个)', I],
        ['项目转化率(%)', D],
        ['资金争取额度(万元)', D],
        ['资金支付率(%)', D],
        ['投资完成率(%)', D],
        ['较序时进度(百分点)', P],
        [`转化率得分(权重${w.conversion})`, D],
        [`资金争取得分(权重${w.fundsSecured})`, D],
        [`支付率得分(权重${w.paymentRate})`, D],
        [`投资完成得分(权重${w.investmentCompletion})`, D],
        ['综合得分', D],
        ['红黑榜', T],
        ['月报应报(个)', I],
        ['按时报送(个)', I],
        ['逾期报送(个)', I],
        ['未报(个)', I],
      ],
      rows.map((x) => [
        x.rank,
        x.name,
        x.projects,
        x.conversion?.percent ?? null,
        x.fundsSecured.wan,
        x.paymentRate?.percent ?? null,
        x.investmentCompletion?.percent ?? null,
        x.aheadBehindPoints,
        x.scores.conversion,
        x.scores.fundsSecured,
        x.scores.paymentRate,
        x.scores.investmentCompletion,
        x.composite,
        x.list && LIST[x.list],
        x.monthlyReports.owed,
        x.monthlyReports.onTime,
        x.monthlyReports.late,
        x.monthlyReports.missed,
      ]),
    );
  return [
    ranking('部门排名', r.departments),
    ranking('县区排名', r.counties),
    table(
      '红黑榜',
      [
        ['榜单', T],
        ['序列', T],
        ['名次', I],
        ['单位', T],
        ['综合得分', D],
      ],
      (['RED', 'BLACK'] as const).flatMap((l) =>
        (l === 'RED' ? r.redList : r.blackList).map((e) => [
          LIST[l],
          SERIES[e.series],
          e.rank,
          e.name,
          e.composite,
        ]),
      ),
    ),
    notes(
      { ...r, title: `${r.title}（序时进度 ${r.timeElapsed.percent}%）` },
      [
        'amounts',
        'rates',
        'conversion',
        'fundsSecured',
        'paymentRate',
        'investmentCompletion',
        'timeElapsed',
        'aheadBehind',
        'metricScore',
        'composite',
        'redList',
        'blackList',
      ],
      r.warnings,
    ),
  ];
}

function qualityTables(r: DataQualityReport): Table[] {
  const base: [string, ColumnType][] = [
    ['序号', I],
    ['项目名称', T],
    ['县区', T],
    ['专项推进组', T],
    ['阶段', T],
  ];
  const cells = (x: QualityProjectRow, i: number): Cell[] => [
    i + 1,
    x.projectName,
    x.county,
    x.portfolio,
    x.stage,
  ];
  return [
    table('缺少包联领导', base, r.missingLeader.map(cells)),
    table('缺少责任部门', base, r.missingDepartment.map(cells)),
    table(
      '节点缺少时限',
      [...base, ['事项', T], ['责任单位', T], ['原因', T]],
      r.tasksWithoutDeadline.map((x, i) => [...cells(x, i), x.task, x.responsibleOrg, x.reason]),
    ),
    missingReportsTable(r.missingMonthlyReports),
  ];
}

function targetTables(r: PortfolioTargetsReport): Table[] {
  const p = r.planningPool;
  const scope = p.scope === 'PLANNING_LIBRARY' ? '（谋划库）' : '（四库合计）';
  return [
    table(
      '目标完成',
      [
        ['指标', T],
        ['当前值', D],
        ['目标值', D],
        ['单位', T],
        ['是否达标', T],
        ['分子', I],
        ['分母', I],
        ['说明', T],
      ],
      [
        [`年度谋划项目个数${scope}`, p.projects, p.minProjects, '个', yesNo(p.projectsMet), null, null, null],
        [
          `年度谋划项目总投资${scope}`,
          p.investment.wan,
          p.minInvestment.wan,
          '万元',
          yesNo(p.investmentMet),
          null,
          null,
          null,
        ],
        ...r.threeBatches.map((b) => [
          b.name,
          b.rate?.percent ?? null,
          b.target,
          '%',
          yesNo(b.met),
          b.rate?.numerator ?? null,
          b.rate?.denominator ?? null,
          b.missing,
        ]),
      ],
    ),
    table(
      '四库分布',
      [
        ['库', T],
        ['项目数(个)', I],
        ['总投资(万元)', D],
      ],
      (Object.entries(p.byLibrary) as [string, { projects: number; investment: { wan: string } }][]).map(
        ([l, v]) => [`${l}库`, v.projects, v.investment.wan],
      ),
    ),
    notes(r, [
      'amounts',
      'rates',
      'libraries',
      'planningPool',
      'signToStart',
      'startToCommission',
      'commissionToOutput',
    ]),
  ];
}

/** The report as tables with Chinese headers (amounts in 万元, rates in %). */
export function toTables(report: AnyReport): Table[] {
  switch (report.kind) {
    case 'dispatch':
      return dispatchTables(report);
    case 'overdue':
      return overdueTables(report);
    case 'rankings':
      return rankingTables(report);
    case 'dataQuality':
      return qualityTables(report);
    case 'targets':
      return targetTables(report);
  }
}

/**
 * Text a spreadsheet would take for a formula (= + - @, or a leading tab or carriage return), e.g. a project
 * named `=HYPERLINK(…)`; the figures this module writes (`-1.25`, `+0.50`) are numbers and stay as they are.
 */
export function looksLikeFormula(s: string): boolean {
  return /^[=+\-@\t\r]/.test(s) && !/^[+-]?\d+(\.\d+)?%?$/.test(s);
}

/** One CSV field; formula-like text gets a leading `'` (OWASP CSV injection) so it opens as text. */
const csvCell = (c: Cell) => {
  const raw = c === null ? '' : String(c);
  const s = looksLikeFormula(raw) ? `'${raw}` : raw;
  return /[",\r\n\t]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** CSV (UTF-8 with BOM, CRLF): each table under a line with its name, tables separated by a blank line. */
export function toCsv(report: AnyReport): string {
  const blocks = toTables(report).map((t) =>
    [[t.name], t.columns.map((c) => c.header), ...t.rows].map((r) => r.map(csvCell).join(',')).join('\r\n'),
  );
  return `\uFEFF${blocks.join('\r\n\r\n')}\r\n`;
}

/** .xlsx with one sheet per table; amounts and rates are numbers shown with two decimals. */
export async function toXlsx(report: AnyReport): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'project-pipeline';
  wb.title = report.title;
  for (const t of toTables(report)) {
    const ws = wb.addWorksheet(t.name, { views: [{ state: 'frozen', ySplit: 1 }] });
    ws.headerFooter.oddHeader = `&C${report.title}`;
    ws.addRow(t.columns.map((c) => c.header)).font = { bold: true };
    for (const cells of t.rows) {
      // Text goes in as a plain string: a shared-string cell, never a formula, whatever it starts with (a project
      // named `=HYPERLINK(…)` shows as those characters). Formulas would need `{ formula }` values, written nowhere.
      const row = ws.addRow(
        cells.map((c, i) => (typeof c === 'string' && t.columns[i]!.type !== 'text' ? Number(c) : c)),
      );
      t.columns.forEach((col, i) => {
        if (typeof cells[i] === 'string' && col.type === 'decimal') row.getCell(i + 1).numFmt = '0.00';
        if (typeof cells[i] === 'string' && col.type === 'points')
          row.getCell(i + 1).numFmt = '+0.00;-0.00;0.00';
      });
    }
    t.columns.forEach((c, i) => {
      const longest = Math.max(...[c.header, ...t.rows.map((r) => r[i])].map((v) => String(v ?? '').length));
      ws.getColumn(i + 1).width = Math.min(60, Math.max(8, longest * 2));
    });
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}
