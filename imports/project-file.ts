/**
 * Bulk import of projects from the monthly report's spreadsheet (.xlsx or .csv): the file is read with exceljs,
 * each row turned into a create-project body and checked exactly as `POST /projects` checks one
 * (`CreateProjectBody`, `referenceProblems`, and for onboarded rows `onboardingProblems`), and every problem
 * reported by row and column (Chinese headers, as users wrote them).
 *
 * A row whose 入库阶段 is empty (or 谋划) is a DRAFT of the importing organisation. A row with 入库阶段 储备库,
 * 前期库 or 实施库 onboards a project already carried in that library (存量项目入库): it names its 项目单位 and
 * the facts that put it there, in the stage columns:
 *
 *   入库阶段            储备库 | 前期库 | 实施库 (or RESERVE | PRE_CONSTRUCTION | UNDER_CONSTRUCTION); empty = DRAFT
 *   建设性质            新建 | 续建 (empty = 新建)
 *   项目单位            the applying unit: org id or Chinese name, of kind COUNTY or OWNER (required when onboarded)
 *   纳入计划名称/文号/日期  the annual plan the project is in (required when onboarded)
 *   已办审批事项        the approvals already done, one cell: entries separated by `;` (or `；` or a line break),
 *                       each `事项|文号|日期|审批机关` where 事项 is a matter or step of the policy by key
 *                       (FEASIBILITY_APPROVAL) or by name (可行性研究报告审批), e.g.
 *                       `FEASIBILITY_APPROVAL|临发改审批〔2025〕58号|2025-05-16|市发改委; EIA|临环审〔2025〕22号|2025-05-30|市生态环境局`
 *   项目代码            YYMM-RRRRRR-DD-TT-NNNNNN
 *   批复概算（万元）
 *   资金落实（万元）/资金落实文号/资金落实日期   construction funds in place (all three, or none)
 *   开工日期/开工依据/施工许可或合同编号        开工依据 施工许可 | 采购合同 (all three, or none)
 *   统计截止日期/本年完成投资（万元）/累计完成投资（万元）/本年支付（万元）/累计支付（万元）
 *                       investment completed and paid as of a day (all five, or none)
 *
 * Amounts are 万元 with at most four decimals, converted to integer 元 by string arithmetic (`wanToYuan`);
 * dates are YYYY-MM-DD (or YYYY/M/D). `GET /imports/template` serves the header row with an example row.
 */
import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { z } from 'zod';
import { CreateProjectBody, CREATE_PROJECT_EXAMPLES } from '../api/schemas';
import type { Organisation, Policy } from '../policy/schema';
import { ownerProblems, referenceProblems } from '../api/project-input';
import { CONSTRUCTION_TYPE_LABELS, onboardingProblems, type OnboardingStage } from '../domain/onboarding';
import type { ProjectDetails } from '../domain/project';
import { assertWorkbookFits, WorkbookTooLargeError } from './workbook-guard';

export type ImportFileKind = 'csv' | 'xlsx';

/** What an uploaded .xlsx may unzip to, unless configured (IMPORT_MAX_UNCOMPRESSED). */
export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024;

export const IMPORT_CONTENT_TYPES: Record<string, ImportFileKind> = {
  'text/csv': 'csv',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
};

type Field = keyof z.input<typeof CreateProjectBody> | `flags.${string}` | `onboarding.${string}`;

interface Column {
  header: string;
  /** Other headers users write for the same column (the monthly report's, the short forms). */
  aliases?: readonly string[];
  field: Field;
  /** Required on every row (and in the header row). */
  required: boolean;
  /** Required on a row with a 入库阶段 (an onboarded project). */
  requiredOnboarded?: boolean;
  /** Only a row with a 入库阶段 fills it; on a DRAFT row it is a mistake. */
  onboardedOnly?: boolean;
  /** What to write, for the template (a note on the header cell and the 填写说明 sheet). */
  hint?: string;
  parse(raw: string, ctx: ParseContext): unknown;
  /** The cell for a value of the body (the template's example row); plain text when absent. */
  format?(value: unknown, ctx: ParseContext): string;
}

interface ParseContext {
  orgByName: Map<string, Organisation>;
  orgIndex: ReadonlyMap<string, Organisation>;
  /** Reserve matters and pre-construction steps of the policy: key → name, and name → key. */
  itemName: Map<string, string>;
  itemKey: Map<string, string>;
}

/** A cell that cannot be read; `plain` messages stand alone, the others follow `"<cell>" is not …`. */
class CellError extends Error {
  constructor(
    message: string,
    readonly plain = false,
  ) {
    super(message);
  }
}

const YES = new Set(['是', 'y', 'yes', 'true', '1']);
const NO = new Set(['否', 'n', 'no', 'false', '0', '']);

const text = (raw: string) => raw;
const yesNo = (raw: string) => {
  const v = raw.trim().toLowerCase();
  if (YES.has(v)) return true;
  if (NO.has(v)) return false;
  throw new CellError('是 or 否');
};
const formatYesNo = (v: unknown) => (v ? '是' : '否');
const integer = (raw: string) => {
  if (!/^\d+$/.test(raw.trim())) throw new CellError('a whole number');
  return Number(raw.trim());
};
/** 万元 with at most 4 decimals → integer 元, by string arithmetic (never floating point). */
export function wanToYuan(raw: string): number {
  const m = /^(\d+)(?:\.(\d{1,4}))?$/.exec(raw.trim().replace(/,/g, ''));
  if (!m) throw new CellError('an amount in 万元 with at most 4 decimals');
  const yuan = BigInt(m[1]!) * 10000n + BigInt((m[2] ?? '').padEnd(4, '0'));
  if (yuan > BigInt(Number.MAX_SAFE_INTEGER)) throw new CellError('too large');
  return Number(yuan);
}
/** Integer 元 → 万元 as written in the sheet (the inverse of `wanToYuan`, also by string arithmetic). */
export function yuanToWan(yuan: number): string {
  const s = String(yuan).padStart(5, '0');
  const frac = s.slice(-4).replace(/0+$/, '');
  return frac ? `${s.slice(0, -4)}.${frac}` : s.slice(0, -4);
}
const formatWan = (v: unknown) => yuanToWan(v as number);
const org = (raw: string, ctx: ParseContext) => {
  const v = raw.trim();
  if (ctx.orgIndex.has(v)) return v;
  const byName = ctx.orgByName.get(v);
  if (byName) return byName.id;
  throw new CellError(`unknown organisation "${v}" (an id or the Chinese name of the policy)`, true);
};
const formatOrg = (v: unknown, ctx: ParseContext) => ctx.orgIndex.get(v as string)?.name ?? String(v);
/** A code or its label; `more` maps further words users write to a code. */
const choice =
  (labels: Record<string, string>, more: Record<string, string> = {}) =>
  (raw: string): string => {
    const v = raw.trim();
    if (v in labels) return v;
    const code = Object.entries(labels).find(([, label]) => label === v)?.[0] ?? more[v];
    if (code) return code;
    throw new CellError(
      `one of ${Object.entries(labels)
        .map(([k, l]) => `${l}/${k}`)
        .join(', ')}`,
    );
  };
const label = (labels: Record<string, string>) => (v: unknown) => labels[v as string] ?? String(v);
const date = (raw: string) => {
  const v = raw.trim();
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : /^\d{4}\/\d{1,2}\/\d{1,2}$/.test(v) ? isoOf(v) : undefined;
  if (!iso) throw new CellError('a date YYYY-MM-DD');
  return iso;
};
function isoOf(slashed: string): string {
  const [y, m, d] = slashed.split('/');
  return `${y}-${m!.padStart(2, '0')}-${d!.padStart(2, '0')}`;
}

export const INVESTOR_TYPES = {
  GOVERNMENT: '政府投资',
  SOE: '国有企业',
  PRIVATE: '民营企业',
  FOREIGN: '外资企业',
};
/** Short forms users write for the investor type. */
const INVESTOR_ALIASES: Record<string, keyof typeof INVESTOR_TYPES> = {
  政府: 'GOVERNMENT',
  国企: 'SOE',
  民营: 'PRIVATE',
  民企: 'PRIVATE',
  外资: 'FOREIGN',
};
export const APPROVAL_REGIMES = { APPROVAL: '审批', VERIFICATION: '核准', FILING: '备案' };

/** 入库阶段: the library an onboarded project stands in. */
export const ONBOARDING_STAGE_LABELS: Record<OnboardingStage, string> = {
  RESERVE: '储备库',
  PRE_CONSTRUCTION: '前期库',
  UNDER_CONSTRUCTION: '实施库',
};
const STAGE_ALIASES: Record<string, OnboardingStage> = {
  储备: 'RESERVE',
  前期: 'PRE_CONSTRUCTION',
  实施: 'UNDER_CONSTRUCTION',
  在建: 'UNDER_CONSTRUCTION',
};
/** What a 入库阶段 cell says for a DRAFT (besides leaving it empty). */
const DRAFT_LABELS = new Set(['', '谋划', '谋划库', '谋划申报', 'DRAFT']);
export const START_BASES = { CONSTRUCTION_PERMIT: '施工许可', PROCUREMENT_CONTRACT: '采购合同' };
const START_BASIS_ALIASES: Record<string, keyof typeof START_BASES> = {
  施工许可证: 'CONSTRUCTION_PERMIT',
  采购合同签订: 'PROCUREMENT_CONTRACT',
  合同: 'PROCUREMENT_CONTRACT',
};

const APPROVAL_FORMAT = '事项|文号|日期|审批机关';
/** 已办审批事项: `事项|文号|日期|审批机关` entries separated by `;`, `；` or line breaks. */
function approvals(raw: string, ctx: ParseContext) {
  return raw
    .split(/[;；\n]+/)
    .map((e) => e.trim())
    .filter((e) => e !== '')
    .map((entry, i) => {
      const at = `第${i + 1}项`;
      const parts = entry.split(/[|｜]/).map((p) => p.trim());
      if (parts.length !== 4)
        throw new CellError(`${at} "${entry}" is not ${APPROVAL_FORMAT} (entries separated by ;)`, true);
      const [matter, documentNumber, day, approvingOrg] = parts as [string, string, string, string];
      let iso: string;
      try {
        iso = date(day);
      } catch {
        throw new CellError(`${at}: "${day}" is not a date YYYY-MM-DD`, true);
      }
      return {
        // A name of the policy becomes its key; an unknown key is left for onboardingProblems to name.
        matter:
          ctx.itemKey.get(matter) ?? (/^[A-Z][A-Z0-9_]*$/.test(matter) ? matter : unknownItem(at, matter)),
        documentNumber,
        date: iso,
        approvingOrg,
      };
    });
}
function unknownItem(at: string, matter: string): never {
  throw new CellError(
    `${at}: "${matter}" is neither a matter or step of the policy nor its key (e.g. 可行性研究报告审批 or FEASIBILITY_APPROVAL)`,
    true,
  );
}
function formatApprovals(v: unknown, ctx: ParseContext): string {
  return (v as { matter: string; documentNumber: string; date: string; approvingOrg: string }[])
    .map((a) => [ctx.itemName.get(a.matter) ?? a.matter, a.documentNumber, a.date, a.approvingOrg].join('|'))
    .join('; ');
}

const wan = { parse: wanToYuan, format: formatWan } as const;
const onboarded = { required: false, onboardedOnly: true } as const;

/** The columns of the import template, in order; the headers are those of the monthly report. */
export const IMPORT_COLUMNS: readonly Column[] = [
  { header: '项目名称', field: 'name', required: true, parse: text },
  {
    header: '县（市、区）',
    aliases: ['县区', '县市区'],
    field: 'county',
    required: true,
    parse: org,
    format: formatOrg,
  },
  { header: '专项行动', field: 'specialActivity', required: true, parse: integer, hint: '1–6' },
  {
    header: '专项推进组',
    aliases: ['专班', '专项推进专班'],
    field: 'portfolio',
    required: true,
    parse: org,
    format: formatOrg,
  },
  { header: '行业', field: 'industry', required: true, parse: (raw) => raw.trim(), hint: '策略的行业代码' },
  { header: '责任部门', field: 'responsibleDept', required: true, parse: org, format: formatOrg },
  { header: '包联领导', field: 'assignedLeader', required: false, parse: text },
  { header: '项目业主', field: 'ownerName', required: true, parse: text },
  { header: '统一社会信用代码', field: 'ownerCreditCode', required: false, parse: (raw) => raw.trim() },
  {
    header: '投资主体',
    field: 'investorType',
    required: true,
    parse: (raw) => INVESTOR_ALIASES[raw.trim()] ?? choice(INVESTOR_TYPES)(raw),
    format: label(INVESTOR_TYPES),
  },
  {
    header: '审批类型',
    field: 'approvalRegime',
    required: true,
    parse: choice(APPROVAL_REGIMES),
    format: label(APPROVAL_REGIMES),
  },
  { header: '省级重点', field: 'flags.provincialKey', required: false, parse: yesNo, format: formatYesNo },
  { header: '市级重点', field: 'flags.cityKey', required: false, parse: yesNo, format: formatYesNo },
  {
    header: '重大项目（绿色通道）',
    field: 'flags.major',
    required: false,
    parse: yesNo,
    format: formatYesNo,
  },
  { header: '应急项目', field: 'flags.emergency', required: false, parse: yesNo, format: formatYesNo },
  {
    header: '政府投资',
    field: 'flags.governmentInvested',
    required: false,
    parse: yesNo,
    format: formatYesNo,
  },
  {
    header: '民间投资推介',
    field: 'flags.privatePromotion',
    required: false,
    parse: yesNo,
    format: formatYesNo,
  },
  { header: '涉及用地', field: 'landInvolved', required: true, parse: yesNo, format: formatYesNo },
  { header: '年综合能耗（吨标准煤）', field: 'annualEnergyUseTce', required: true, parse: integer },
  { header: '总投资（万元）', field: 'totalInvestmentYuan', required: true, ...wan },
  { header: '年度计划投资（万元）', field: 'annualPlanYuan', required: true, ...wan },
  { header: '计划开工日期', field: 'plannedStart', required: false, parse: date },
  { header: '计划竣工日期', field: 'plannedCompletion', required: false, parse: date },
  // ----- Onboarding (存量项目入库): only rows with a 入库阶段.
  {
    header: '入库阶段',
    aliases: ['所处阶段', '项目阶段', '入库类别'],
    field: 'onboarding.targetStage',
    required: false,
    hint: '储备库/前期库/实施库；空白（或“谋划”）为谋划申报（DRAFT）',
    parse: choice(ONBOARDING_STAGE_LABELS, STAGE_ALIASES),
    format: label(ONBOARDING_STAGE_LABELS),
  },
  {
    header: '建设性质',
    aliases: ['建设类型'],
    field: 'onboarding.constructionType',
    ...onboarded,
    hint: '新建/续建；空白为新建',
    parse: choice(CONSTRUCTION_TYPE_LABELS),
    format: label(CONSTRUCTION_TYPE_LABELS),
  },
  {
    header: '项目单位',
    aliases: ['申报单位', '项目申报单位'],
    field: 'ownerOrg',
    required: false,
    requiredOnboarded: true,
    hint: '入库项目的申报单位（县市区或业主单位的名称或代码）；谋划申报的行留空（即导入单位）',
    parse: org,
    format: formatOrg,
  },
  {
    header: '纳入计划名称',
    aliases: ['计划名称'],
    field: 'onboarding.planInclusion.planName',
    ...onboarded,
    requiredOnboarded: true,
    parse: text,
  },
  {
    header: '纳入计划文号',
    aliases: ['计划文号'],
    field: 'onboarding.planInclusion.documentNumber',
    ...onboarded,
    requiredOnboarded: true,
    parse: text,
  },
  {
    header: '纳入计划日期',
    aliases: ['计划下达日期'],
    field: 'onboarding.planInclusion.date',
    ...onboarded,
    requiredOnboarded: true,
    parse: date,
  },
  {
    header: '已办审批事项',
    aliases: ['已办结审批事项', '审批事项'],
    field: 'onboarding.approvals',
    ...onboarded,
    hint: `每项“${APPROVAL_FORMAT}”，多项以分号分隔；事项写策略中的事项名称（如 可行性研究报告审批）或代码（如 FEASIBILITY_APPROVAL）`,
    parse: approvals,
    format: formatApprovals,
  },
  {
    header: '项目代码',
    aliases: ['项目统一代码'],
    field: 'onboarding.projectCode',
    ...onboarded,
    hint: 'YYMM-RRRRRR-DD-TT-NNNNNN；前期库、实施库必填',
    parse: (raw) => raw.trim(),
  },
  {
    header: '批复概算（万元）',
    aliases: ['批复概算', '概算（万元）'],
    field: 'onboarding.approvedEstimateYuan',
    ...onboarded,
    hint: '实施库必填；前期库已批初步设计时必填',
    ...wan,
  },
  {
    header: '资金落实（万元）',
    aliases: ['建设资金落实（万元）', '落实资金（万元）'],
    field: 'onboarding.funding.amountYuan',
    ...onboarded,
    hint: '建设资金落实：金额、文号、日期三项同填；实施库必填（应急项目除外）',
    ...wan,
  },
  { header: '资金落实文号', field: 'onboarding.funding.documentNumber', ...onboarded, parse: text },
  { header: '资金落实日期', field: 'onboarding.funding.date', ...onboarded, parse: date },
  {
    header: '开工日期',
    aliases: ['实际开工日期'],
    field: 'onboarding.start.date',
    ...onboarded,
    hint: '实施库必填；续建项目为往年开工，新建项目为本年开工',
    parse: date,
  },
  {
    header: '开工依据',
    field: 'onboarding.start.basis',
    ...onboarded,
    hint: '施工许可/采购合同',
    parse: (raw) => START_BASIS_ALIASES[raw.trim()] ?? choice(START_BASES)(raw),
    format: label(START_BASES),
  },
  {
    header: '施工许可或合同编号',
    aliases: ['施工许可证号', '合同编号', '开工依据文号'],
    field: 'onboarding.start.documentNumber',
    ...onboarded,
    parse: text,
  },
  {
    header: '统计截止日期',
    aliases: ['截止日期'],
    field: 'onboarding.investmentToDate.asOf',
    ...onboarded,
    hint: '至今完成投资与支付的统计截止日；实施库必填，与以下四项同填',
    parse: date,
  },
  {
    header: '本年完成投资（万元）',
    field: 'onboarding.investmentToDate.ytdInvestmentYuan',
    ...onboarded,
    ...wan,
  },
  {
    header: '累计完成投资（万元）',
    aliases: ['开工累计完成投资（万元）'],
    field: 'onboarding.investmentToDate.cumulativeInvestmentYuan',
    ...onboarded,
    ...wan,
  },
  { header: '本年支付（万元）', field: 'onboarding.investmentToDate.ytdPaidYuan', ...onboarded, ...wan },
  {
    header: '累计支付（万元）',
    field: 'onboarding.investmentToDate.cumulativePaidYuan',
    ...onboarded,
    hint: '不得超过批复概算',
    ...wan,
  },
];

const STAGE_HEADER = '入库阶段';

/** Half-width brackets and spaces as users type them do not make another column. */
const normalHeader = (h: string) => h.replace(/\s+/g, '').replace(/\(/g, '（').replace(/\)/g, '）');

/** The column a field path of the body (`onboarding.start.date`) or of the facts check names. */
function columnOf(field: string): Column | undefined {
  for (let path = field; path !== ''; path = path.slice(0, Math.max(0, path.lastIndexOf('.')))) {
    const exact = IMPORT_COLUMNS.find((c) => c.field === path);
    if (exact) return exact;
    // A group (onboarding.funding) or the facts as a whole (onboarding): its first column.
    const group = IMPORT_COLUMNS.find((c) => c.field.startsWith(`${path}.`));
    if (group && path !== 'flags') return group;
  }
  return undefined;
}

export interface RowProblem {
  row: number; // the spreadsheet's row number (the header is row 1)
  column: string | null; // the Chinese header, or null for the whole row
  message: string;
}

export interface ValidatedRow {
  row: number;
  /** With `ownerOrg` and `onboarding` when the row has a 入库阶段. */
  body: CreateProjectBody;
}

export interface FileValidation {
  rows: number;
  valid: ValidatedRow[];
  problems: RowProblem[];
  /** Rows with a 入库阶段 (valid or not): only the organisations of policy onboarding.organisations import them. */
  onboardedRows: number[];
  /** Rows without one: DRAFTs, created by an applicant for its own organisation. */
  draftRows: number[];
}

export interface ValidationOptions {
  policy: Policy;
  orgIndex: ReadonlyMap<string, Organisation>;
  maxRows: number;
  /** The importing organisation: the owner of the DRAFT rows. */
  importerOrg: string;
  /** Today in Asia/Shanghai (YYYY-MM-DD): onboarded facts may not be dated after it. */
  today: string;
}

/** A problem with the file as a whole (unreadable, no header, too many rows): nothing can be reported per row. */
export class ImportFileError extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Reads the first worksheet as rows of trimmed strings, header first. */
export async function readSheet(
  file: Buffer,
  kind: ImportFileKind,
  maxUncompressedBytes = DEFAULT_MAX_UNCOMPRESSED_BYTES,
): Promise<string[][]> {
  const wb = new ExcelJS.Workbook();
  let sheet: ExcelJS.Worksheet | undefined;
  try {
    if (kind === 'xlsx') {
      // A decompression bomb is refused (WorkbookTooLargeError) before the reader unzips anything.
      assertWorkbookFits(file, maxUncompressedBytes);
      await wb.xlsx.load(file as unknown as ArrayBuffer);
      sheet = wb.worksheets[0];
    } else {
      // Cells stay text: exceljs would otherwise turn codes and dates into numbers and Date objects.
      const withoutBom = file[0] === 0xef && file[1] === 0xbb && file[2] === 0xbf ? file.subarray(3) : file;
      sheet = await wb.csv.read(Readable.from(withoutBom), { map: (v: unknown) => v });
    }
  } catch (err) {
    if (err instanceof WorkbookTooLargeError) throw err;
    throw new ImportFileError(`the file cannot be read as ${kind}: ${(err as Error).message}`);
  }
  if (!sheet) throw new ImportFileError('the workbook has no worksheet');
  const rows: string[][] = [];
  sheet.eachRow({ includeEmpty: true }, (row, n) => {
    const values: string[] = [];
    row.eachCell({ includeEmpty: true }, (cell, col) => {
      values[col - 1] = cellText(cell.value);
    });
    rows[n - 1] = Array.from(values, (v) => v ?? '');
  });
  return Array.from(rows, (r) => r ?? []);
}

function cellText(v: ExcelJS.CellValue): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (typeof v === 'object') {
    if ('richText' in v) return v.richText.map((t) => t.text).join('');
    if ('text' in v) return String(v.text);
    if ('result' in v) return cellText(v.result);
    return '';
  }
  // Excel stores numbers as doubles: 1.2345 may come back as 1.2345000000000002; six decimals are exact
  // enough to recover what was typed, and amounts with more than four decimals are still refused.
  if (typeof v === 'number' && !Number.isInteger(v)) return String(Number(v.toFixed(6)));
  return String(v).trim();
}

function parseContext(policy: Policy, orgIndex: ReadonlyMap<string, Organisation>): ParseContext {
  const items = [...policy.reserve.matters, ...policy.preConstruction.steps];
  return {
    orgIndex,
    orgByName: new Map([...orgIndex.values()].map((o) => [o.name, o])),
    itemName: new Map(items.map((m) => [m.key, m.name])),
    itemKey: new Map(items.map((m) => [m.name, m.key])),
  };
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let at = target;
  for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
  at[keys[keys.length - 1]!] = value;
}

function getPath(source: unknown, path: string): unknown {
  let at = source;
  for (const k of path.split('.')) at = (at as Record<string, unknown> | undefined)?.[k];
  return at;
}

/** Validates every row; returns the valid bodies and every problem, by row and column. */
export function validateRows(sheet: string[][], opts: ValidationOptions): FileValidation {
  const { policy, orgIndex, maxRows, importerOrg, today } = opts;
  const [header, ...data] = sheet;
  if (!header || header.every((h) => h === '')) throw new ImportFileError('the file is empty: no header row');
  // Each column by its template header or one of its aliases.
  const canonical = (h: string) => {
    const n = normalHeader(h);
    return IMPORT_COLUMNS.find(
      (c) => normalHeader(c.header) === n || c.aliases?.some((a) => normalHeader(a) === n),
    )?.header;
  };
  const position = new Map(
    header.flatMap((h, i) => {
      const c = canonical(h.trim());
      return c ? [[c, i] as const] : [];
    }),
  );
  const unknown = header.filter((h) => h.trim() !== '' && !canonical(h.trim()));
  const missing = IMPORT_COLUMNS.filter((c) => c.required && !position.has(c.header)).map((c) => c.header);
  if (unknown.length > 0 || missing.length > 0)
    throw new ImportFileError('the header row does not match the import template', {
      unknownColumns: unknown,
      missingColumns: missing,
      expectedColumns: IMPORT_COLUMNS.map((c) => c.header),
    });
  const rows = data
    .map((cells, i) => ({ row: i + 2, cells }))
    .filter((r) => r.cells.some((c) => c.trim() !== ''));
  if (rows.length === 0) throw new ImportFileError('the file has a header but no project rows');
  if (rows.length > maxRows)
    throw new ImportFileError(`the file has ${rows.length} rows; at most ${maxRows} are imported at once`, {
      rows: rows.length,
      maxRows,
    });

  const ctx = parseContext(policy, orgIndex);
  const stageLabels = Object.values(ONBOARDING_STAGE_LABELS).join('/');
  const valid: ValidatedRow[] = [];
  const problems: RowProblem[] = [];
  const onboardedRows: number[] = [];
  const draftRows: number[] = [];
  const seen = new Map<string, number>();
  for (const { row, cells } of rows) {
    const rowProblems: RowProblem[] = [];
    // A cell that is missing or cannot be read is reported once, not again as invalid or contradicting.
    const unreadable = new Set<string>();
    const report = (column: Column | undefined, message: string, cell = false) => {
      const header = column?.header ?? null;
      if (header !== null && unreadable.has(header)) return;
      if (cell && header !== null) unreadable.add(header);
      rowProblems.push({ row, column: header, message });
    };
    const cellOf = (col: Column) => {
      const i = position.get(col.header);
      return i === undefined ? '' : (cells[i] ?? '').trim();
    };
    const stageCell = cellOf(IMPORT_COLUMNS.find((c) => c.header === STAGE_HEADER)!);
    const isOnboarded = !DRAFT_LABELS.has(stageCell);
    (isOnboarded ? onboardedRows : draftRows).push(row);

    const input: Record<string, unknown> = {};
    const filled = new Set<string>();
    for (const col of IMPORT_COLUMNS) {
      const raw = cellOf(col);
      if (col.header === STAGE_HEADER && !isOnboarded) continue;
      if (raw === '') {
        if (col.required) report(col, 'required', true);
        else if (col.requiredOnboarded && isOnboarded)
          report(col, `required for a project entered at ${stageLabels} (入库阶段)`, true);
        continue;
      }
      filled.add(col.field);
      if (col.onboardedOnly && !isOnboarded) {
        report(
          col,
          `only a project entered at ${stageLabels} has it: fill 入库阶段 or leave the cell empty`,
          true,
        );
        continue;
      }
      try {
        setPath(input, col.field, col.parse(raw, ctx));
      } catch (err) {
        if (!(err instanceof CellError)) throw err;
        report(col, err.plain ? err.message : `"${raw}" is not ${err.message}`, true);
      }
    }

    // The request's own schema; a member missing from a group that is filled in part names what is filled.
    const parsed = CreateProjectBody.safeParse(input);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = issue.path.join('.');
        const column = columnOf(field);
        const group = field.slice(0, field.lastIndexOf('.'));
        const partOf = IMPORT_COLUMNS.filter(
          (c) => group.startsWith('onboarding.') && c.field.startsWith(`${group}.`) && filled.has(c.field),
        );
        const message =
          getPath(input, field) === undefined && partOf.length > 0
            ? `required, as ${partOf.map((c) => c.header).join('、')} is filled`
            : issue.message;
        report(column, approvalPrefix(field, input) + message);
      }
    } else {
      const body = parsed.data;
      for (const p of referenceProblems(body, policy, orgIndex)) report(columnOf(p.field), p.message);
      // Who owns the project, as POST /projects rules it.
      for (const p of ownerProblems(body, importerOrg, orgIndex)) report(columnOf(p.field), p.message);
      const { onboarding, ownerOrg, ...declared } = body;
      if (onboarding) {
        const details: ProjectDetails = { ...declared, ownerOrg: ownerOrg ?? importerOrg };
        for (const p of onboardingProblems(details, onboarding, policy, today))
          report(columnOf(p.field), approvalPrefix(p.field, input) + p.message);
      }
      const key = `${body.name}\n${body.ownerName}`;
      const first = seen.get(key);
      if (first !== undefined) report(columnOf('name'), `the same project and owner as row ${first}`);
      else seen.set(key, row);
      if (rowProblems.length === 0) valid.push({ row, body });
    }
    problems.push(...rowProblems);
  }
  return { rows: rows.length, valid, problems, onboardedRows, draftRows };
}

/** `第2项（EIA）：` for a problem of one entry of 已办审批事项 (`onboarding.approvals.1.date`). */
function approvalPrefix(field: string, input: Record<string, unknown>): string {
  const m = /^onboarding\.approvals\.(\d+)/.exec(field);
  if (!m) return '';
  const matter = (getPath(input, `onboarding.approvals.${m[1]}.matter`) as string | undefined) ?? '';
  return `第${Number(m[1]) + 1}项${matter ? `（${matter}）` : ''}：`;
}

/** The cells of a create-project body in template order (orgs by name, amounts in 万元): the inverse of a row. */
export function projectRow(
  /** A `CreateProjectBody` (its input shape: read-only examples too). */
  body: object,
  policy: Policy,
  orgIndex: ReadonlyMap<string, Organisation> = new Map(policy.organisations.map((o) => [o.id, o])),
): string[] {
  const ctx = parseContext(policy, orgIndex);
  return IMPORT_COLUMNS.map((c) => {
    const v = getPath(body, c.field);
    if (v === undefined || v === null) return '';
    if (c.format) return c.format(v, ctx);
    return typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v);
  });
}

/** An import template (header row only, or with rows), for users and tests. */
export async function writeProjectFile(
  kind: ImportFileKind,
  rows: readonly (readonly (string | number)[])[],
): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('项目导入');
  ws.addRow(IMPORT_COLUMNS.map((c) => c.header));
  for (const r of rows) ws.addRow([...r]);
  const out = kind === 'xlsx' ? await wb.xlsx.writeBuffer() : await wb.csv.writeBuffer();
  return Buffer.from(out);
}

/**
 * The downloadable template: the header row and one example row (a 续建 project onboarded in 实施库, the
 * OpenAPI example of `POST /projects`). The .xlsx also carries each column's note and a 填写说明 sheet; the
 * .csv starts with a UTF-8 byte order mark, so Excel shows the Chinese headers.
 */
export async function importTemplate(kind: ImportFileKind, policy: Policy): Promise<Buffer> {
  const example = projectRow(CREATE_PROJECT_EXAMPLES.underConstruction.value, policy);
  if (kind === 'csv') {
    const csv = await writeProjectFile('csv', [example]);
    return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), csv]);
  }
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('项目导入');
  const head = ws.addRow(IMPORT_COLUMNS.map((c) => c.header));
  ws.addRow(example);
  IMPORT_COLUMNS.forEach((c, i) => {
    const note = columnNote(c);
    if (note) head.getCell(i + 1).note = note;
    ws.getColumn(i + 1).width = Math.max(12, c.header.length * 2 + 2);
  });
  head.font = { bold: true };
  const guide = wb.addWorksheet('填写说明');
  guide.addRow(['列名', '是否必填', '说明', '也可写作']);
  for (const c of IMPORT_COLUMNS) {
    const need = c.required
      ? '必填'
      : c.requiredOnboarded
        ? '入库项目必填'
        : c.onboardedOnly
          ? '入库项目填写'
          : '选填';
    guide.addRow([c.header, need, c.hint ?? '', (c.aliases ?? []).join('、')]);
  }
  guide.getRow(1).font = { bold: true };
  guide.getColumn(1).width = 24;
  guide.getColumn(3).width = 90;
  guide.getColumn(4).width = 30;
  return Buffer.from(await wb.xlsx.writeBuffer());
}

function columnNote(c: Column): string {
  const need = c.required ? '必填' : c.requiredOnboarded ? '入库项目必填' : '';
  return [need, c.hint].filter(Boolean).join('；');
}
