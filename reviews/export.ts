import ExcelJS from 'exceljs';
import type { KeyProjectList, RecommendationList } from './lists';
import { shanghaiAt } from './lists';

type Cell = string | number | null;
/** text; int; wan (万元: exact to 1 元, four decimals). */
type Kind = 'text' | 'int' | 'wan';

interface Sheet {
  name: string;
  columns: [string, Kind][];
  rows: Cell[][];
}

const yesNo = (b: boolean) => (b ? '是' : '否');

async function workbook(title: string, sheets: Sheet[]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'project-pipeline';
  wb.title = title;
  for (const s of sheets) {
    const ws = wb.addWorksheet(s.name, { views: [{ state: 'frozen', ySplit: 1 }] });
    ws.headerFooter.oddHeader = `&C${title}`;
    ws.addRow(s.columns.map(([h]) => h)).font = { bold: true };
    for (const cells of s.rows) {
      // 万元 strings are exact decimals; Excel keeps them as numbers shown with all four places.
      const row = ws.addRow(
        cells.map((c, i) => (s.columns[i]![1] === 'wan' && typeof c === 'string' ? Number(c) : c)),
      );
      s.columns.forEach(([, kind], i) => {
        if (kind === 'wan') row.getCell(i + 1).numFmt = '0.0000';
      });
    }
    s.columns.forEach(([h], i) => {
      const longest = Math.max(...[h, ...s.rows.map((r) => r[i])].map((v) => String(v ?? '').length));
      ws.getColumn(i + 1).width = Math.min(60, Math.max(8, longest * 2));
    });
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}

function notes(rows: [string, string][]): Sheet {
  return {
    name: '口径说明',
    columns: [
      ['项目', 'text'],
      ['内容', 'text'],
    ],
    rows: [...rows, ['金额', '万元，精确到元（四位小数）'], ['时间', '北京时间（Asia/Shanghai）']],
  };
}

/** A special group's 重点项目建议清单 as a workbook. */
export function recommendationsXlsx(list: RecommendationList): Promise<Buffer> {
  const title = `${list.groupName}重点项目建议清单`;
  return workbook(title, [
    {
      name: '重点项目建议清单',
      columns: [
        ['序号', 'int'],
        ['项目名称', 'text'],
        ['项目编号', 'text'],
        ['县(市、区)', 'text'],
        ['责任部门', 'text'],
        ['建设单位', 'text'],
        ['政府投资', 'text'],
        ['总投资(万元)', 'wan'],
        ['年度计划投资(万元)', 'wan'],
        ['当前阶段', 'text'],
        ['技术方案', 'text'],
        ['投资效益', 'text'],
        ['风险防控', 'text'],
        ['评审专家及意见', 'text'],
        ['评审时间', 'text'],
      ],
      rows: list.entries.map((e, i) => [
        i + 1,
        e.name,
        e.projectId,
        e.countyName,
        e.responsibleDeptName,
        e.ownerName,
        yesNo(e.governmentInvested),
        e.totalInvestmentWan,
        e.annualPlanWan,
        e.stageLabel,
        e.assessments.technical,
        e.assessments.investmentBenefit,
        e.assessments.riskControl,
        e.experts.map((x) => `${x.name}（${x.field}）：${x.opinion}`).join('\n') || null,
        shanghaiAt(e.decidedAt),
      ]),
    },
    notes([
      ['清单', title],
      ['统计时点', shanghaiAt(list.asOf)],
      ['项目数(个)', String(list.count)],
      ['总投资合计(万元)', list.totalInvestmentWan],
    ]),
  ]);
}

/** The year's 年度重点项目库 with its fund allocations, working or as approved. */
export function keyProjectsXlsx(
  list: KeyProjectList,
  approval: { version: number; documentNumber: string; approvedAt: string } | null,
): Promise<Buffer> {
  const title = `${list.year}年度重点项目库`;
  return workbook(title, [
    {
      name: '年度重点项目库',
      columns: [
        ['序号', 'int'],
        ['项目名称', 'text'],
        ['项目编号', 'text'],
        ['专项推进组', 'text'],
        ['县(市、区)', 'text'],
        ['责任部门', 'text'],
        ['建设单位', 'text'],
        ['政府投资', 'text'],
        ['总投资(万元)', 'wan'],
        ['联席会议', 'text'],
        ['会议日期', 'text'],
        ['资金分配(万元)', 'wan'],
        ['资金来源', 'text'],
        ['资金年度', 'int'],
        ['审定意见', 'text'],
        ['决定时间', 'text'],
      ],
      rows: list.entries.map((e, i) => [
        i + 1,
        e.name,
        e.projectId,
        e.portfolioName,
        e.countyName,
        e.responsibleDeptName,
        e.ownerName,
        yesNo(e.governmentInvested),
        e.totalInvestmentWan,
        e.meeting.month,
        e.meeting.date,
        e.fundAllocation?.amountWan ?? null,
        e.fundAllocation?.sourceLabel ?? null,
        e.fundAllocation?.year ?? null,
        e.opinion,
        shanghaiAt(e.decidedAt),
      ]),
    },
    notes([
      ['清单', title],
      [
        '审定',
        approval
          ? `领导小组审定（第${approval.version}版，${approval.documentNumber}，${shanghaiAt(approval.approvedAt)}）`
          : '工作清单，尚未经领导小组审定',
      ],
      ['统计时点', shanghaiAt(list.asOf)],
      ['项目数(个)', String(list.count)],
      ['总投资合计(万元)', list.totalInvestmentWan],
      ['资金分配合计(万元)', list.fundAllocationWan],
    ]),
  ]);
}
