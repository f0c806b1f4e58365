/**
 * Bulk import of projects from the monthly report's spreadsheet (.xlsx or .csv): the file is read with exceljs,
 * each row turned into a create-project body and checked exactly as `POST /projects` checks one, and every
 * problem reported by row and column (Chinese headers, as users wrote them).
 */
import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { z } from 'zod';
import { CreateProjectBody } from '../api/schemas';
import type { Organisation, Policy } from '../policy/schema';
import { referenceProblems } from '../api/project-input';

export type ImportFileKind = 'csv' | 'xlsx';

export const IMPORT_CONTENT_TYPES: Record<string, ImportFileKind> = {
  'text/csv': 'csv',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
};

type Field = keyof z.input<typeof CreateProjectBody> | `flags.${string}`;

interface Column {
  header: string;
  /** Other headers users write for the same column (the monthly report's, the short forms). */
  aliases?: readonly string[];
  field: Field;
  required: boolean;
  parse(raw: string, ctx: ParseContext): unknown;
}

interface ParseContext {
  orgByName: Map<string, Organisation>;
  orgIds: Set<string>;
}

class CellError extends Error {}

const YES = new Set(['是', 'y', 'yes', 'true', '1']);
const NO = new Set(['否', 'n', 'no', 'false', '0', '']);

const text = (raw: string) => raw;
const yesNo = (raw: string) => {
  const v = raw.trim().toLowerCase();
  if (YES.has(v)) return true;
  if (NO.has(v)) return false;
  throw new CellError('是 or 否');
};
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
const org = (raw: string, ctx: ParseContext) => {
  const v = raw.trim();
  if (ctx.orgIds.has(v)) return v;
  const byName = ctx.orgByName.get(v);
  if (byName) return byName.id;
  throw new CellError(`unknown organisation "${v}" (an id or the Chinese name of the policy)`);
};
const choice =
  (labels: Record<string, string>) =>
  (raw: string): string => {
    const v = raw.trim();
    if (v in labels) return v;
    const code = Object.entries(labels).find(([, label]) => label === v)?.[0];
    if (code) return code;
    throw new CellError(
      `one of ${Object.entries(labels)
        .map(([k, l]) => `${l}/${k}`)
        .join(', ')}`,
    );
  };
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

/** The columns of the import template, in order; the headers are those of the monthly report. */
export const IMPORT_COLUMNS: readonly Column[] = [
  { header: '项目名称', field: 'name', required: true, parse: text },
  { header: '县（市、区）', aliases: ['县区', '县市区'], field: 'county', required: true, parse: org },
  { header: '专项行动', field: 'specialActivity', required: true, parse: integer },
  { header: '专项推进组', aliases: ['专班', '专项推进专班'], field: 'portfolio', required: true, parse: org },
  { header: '行业', field: 'industry', required: true, parse: (raw) => raw.trim() },
  { header: '责任部门', field: 'responsibleDept', required: true, parse: org },
  { header: '包联领导', field: 'assignedLeader', required: false, parse: text },
  { header: '项目业主', field: 'ownerName', required: true, parse: text },
  { header: '统一社会信用代码', field: 'ownerCreditCode', required: false, parse: (raw) => raw.trim() },
  {
    header: '投资主体',
    field: 'investorType',
    required: true,
    parse: (raw) => INVESTOR_ALIASES[raw.trim()] ?? choice(INVESTOR_TYPES)(raw),
  },
  { header: '审批类型', field: 'approvalRegime', required: true, parse: choice(APPROVAL_REGIMES) },
  { header: '省级重点', field: 'flags.provincialKey', required: false, parse: yesNo },
  { header: '市级重点', field: 'flags.cityKey', required: false, parse: yesNo },
  { header: '重大项目（绿色通道）', field: 'flags.major', required: false, parse: yesNo },
  { header: '应急项目', field: 'flags.emergency', required: false, parse: yesNo },
  { header: '政府投资', field: 'flags.governmentInvested', required: false, parse: yesNo },
  { header: '民间投资推介', field: 'flags.privatePromotion', required: false, parse: yesNo },
  { header: '涉及用地', field: 'landInvolved', required: true, parse: yesNo },
  { header: '年综合能耗（吨标准煤）', field: 'annualEnergyUseTce', required: true, parse: integer },
  { header: '总投资（万元）', field: 'totalInvestmentYuan', required: true, parse: wanToYuan },
  { header: '年度计划投资（万元）', field: 'annualPlanYuan', required: true, parse: wanToYuan },
  { header: '计划开工日期', field: 'plannedStart', required: false, parse: date },
  { header: '计划竣工日期', field: 'plannedCompletion', required: false, parse: date },
];

export interface RowProblem {
  row: number; // the spreadsheet's row number (the header is row 1)
  column: string | null; // the Chinese header, or null for the whole row
  message: string;
}

export interface ValidatedRow {
  row: number;
  body: CreateProjectBody;
}

export interface FileValidation {
  rows: number;
  valid: ValidatedRow[];
  problems: RowProblem[];
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
export async function readSheet(file: Buffer, kind: ImportFileKind): Promise<string[][]> {
  const wb = new ExcelJS.Workbook();
  let sheet: ExcelJS.Worksheet | undefined;
  try {
    if (kind === 'xlsx') {
      await wb.xlsx.load(file as unknown as ArrayBuffer);
      sheet = wb.worksheets[0];
    } else {
      // Cells stay text: exceljs would otherwise turn codes and dates into numbers and Date objects.
      const withoutBom = file[0] === 0xef && file[1] === 0xbb && file[2] === 0xbf ? file.subarray(3) : file;
      sheet = await wb.csv.read(Readable.from(withoutBom), { map: (v: unknown) => v });
    }
  } catch (err) {
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

/** Validates every row; returns the valid bodies and every problem, by row and column. */
export function validateRows(
  sheet: string[][],
  policy: Policy,
  orgIndex: ReadonlyMap<string, Organisation>,
  maxRows: number,
): FileValidation {
  const [header, ...data] = sheet;
  if (!header || header.every((h) => h === '')) throw new ImportFileError('the file is empty: no header row');
  // Each column by its template header or one of its aliases.
  const canonical = (h: string) =>
    IMPORT_COLUMNS.find((c) => c.header === h || c.aliases?.includes(h))?.header;
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

  const ctx: ParseContext = {
    orgIds: new Set(orgIndex.keys()),
    orgByName: new Map([...orgIndex.values()].map((o) => [o.name, o])),
  };
  const valid: ValidatedRow[] = [];
  const problems: RowProblem[] = [];
  const seen = new Map<string, number>();
  for (const { row, cells } of rows) {
    const rowProblems: RowProblem[] = [];
    const input: Record<string, unknown> = {};
    const flags: Record<string, unknown> = {};
    for (const col of IMPORT_COLUMNS) {
      const i = position.get(col.header);
      const raw = i === undefined ? '' : (cells[i] ?? '').trim();
      if (raw === '') {
        if (col.required) rowProblems.push({ row, column: col.header, message: 'required' });
        continue;
      }
      try {
        const value = col.parse(raw, ctx);
        if (col.field.startsWith('flags.')) flags[col.field.slice(6)] = value;
        else input[col.field] = value;
      } catch (err) {
        if (!(err instanceof CellError)) throw err;
        rowProblems.push({ row, column: col.header, message: `"${raw}" is not ${err.message}` });
      }
    }
    if (Object.keys(flags).length > 0) input.flags = flags;
    if (rowProblems.length === 0) {
      const parsed = CreateProjectBody.safeParse(input);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          const field = issue.path.join('.');
          const column = IMPORT_COLUMNS.find((c) => c.field === field)?.header ?? null;
          rowProblems.push({ row, column, message: issue.message });
        }
      } else {
        for (const p of referenceProblems(parsed.data, policy, orgIndex))
          rowProblems.push({
            row,
            column: IMPORT_COLUMNS.find((c) => c.field === p.field)?.header ?? null,
            message: p.message,
          });
        const key = `${parsed.data.name}\n${parsed.data.ownerName}`;
        const first = seen.get(key);
        if (first !== undefined)
          rowProblems.push({
            row,
            column: '项目名称',
            message: `the same project and owner as row ${first}`,
          });
        else seen.set(key, row);
        if (rowProblems.length === 0) valid.push({ row, body: parsed.data });
      }
    }
    problems.push(...rowProblems);
  }
  return { rows: rows.length, valid, problems };
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
