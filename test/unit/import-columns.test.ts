import { CREATE_PROJECT_EXAMPLES, CreateProjectBody } from '../../api/schemas';
import {
  IMPORT_COLUMNS,
  importTemplate,
  projectRow,
  readSheet,
  validateRows,
  wanToYuan,
  yuanToWan,
  type RowProblem,
} from '../../imports/project-file';
import { loadPolicy } from '../../policy/load';

const policy = loadPolicy();
const orgIndex = new Map(policy.organisations.map((o) => [o.id, o]));
const TODAY = '2026-06-30';
const HEADERS = IMPORT_COLUMNS.map((c) => c.header);
const EXAMPLE = CREATE_PROJECT_EXAMPLES.underConstruction.value;

/** The template's example row (a 续建 project in 实施库) with cells replaced by header. */
function row(over: Record<string, string> = {}, body: object = EXAMPLE): string[] {
  const cells = projectRow(body, policy);
  return IMPORT_COLUMNS.map((c, i) => (c.header in over ? over[c.header]! : cells[i]!));
}
const validate = (rows: string[][], headers = HEADERS, importerOrg = 'project-center') =>
  validateRows([headers, ...rows], { policy, orgIndex, maxRows: 100, importerOrg, today: TODAY });
const columnsOf = (problems: RowProblem[], n: number) =>
  problems
    .filter((p) => p.row === n)
    .map((p) => p.column)
    .sort();

test('万元 and 元 convert both ways by string arithmetic', () => {
  for (const [wan, yuan] of [
    ['0', 0],
    ['0.0001', 1],
    ['1234.5678', 12_345_678],
    ['35000.5', 350_005_000],
    ['90071992547.4099', 900_719_925_474_099],
  ] as const) {
    expect(wanToYuan(wan)).toBe(yuan);
    expect(yuanToWan(yuan)).toBe(wan);
  }
});

test('the example row of the template reads back as the OpenAPI example, onboarded at UNDER_CONSTRUCTION', () => {
  const cells = row();
  const at = (h: string) => cells[HEADERS.indexOf(h)];
  expect(at('入库阶段')).toBe('实施库');
  expect(at('建设性质')).toBe('续建');
  expect(at('项目单位')).toBe('尧都区');
  expect(at('开工依据')).toBe('施工许可');
  expect(at('批复概算（万元）')).toBe('34000');
  expect(at('已办审批事项')).toMatch(/^项目建议书审批\|临发改审批〔2023〕31号\|2023-04-10\|市发改委; /);

  const v = validate([cells]);

  expect(v.problems).toEqual([]);
  expect(v.onboardedRows).toEqual([2]);
  expect(v.valid[0]!.body).toEqual(CreateProjectBody.parse(EXAMPLE));
});

test('the downloadable template, .xlsx and .csv, imports as it stands', async () => {
  for (const kind of ['xlsx', 'csv'] as const) {
    const sheet = await readSheet(await importTemplate(kind, policy), kind);
    expect(sheet[0]).toEqual(HEADERS);
    const v = validate(sheet.slice(1));
    expect({ kind, problems: v.problems }).toEqual({ kind, problems: [] });
    expect(v.valid[0]!.body.onboarding?.targetStage).toBe('UNDER_CONSTRUCTION');
  }
});

test('approvals are written by policy name or key, separated by ; or ；, and badly written entries are named', () => {
  const keys =
    'PROJECT_PROPOSAL|临发改审批〔2023〕31号|2023-04-10|市发改委；FEASIBILITY_APPROVAL|临发改审批〔2023〕58号|2023/5/16|市发改委';
  const reserve = (i: number, approvals: string) =>
    row({
      项目名称: `储备项目${i}`,
      入库阶段: '储备库',
      建设性质: '新建',
      已办审批事项: approvals,
      项目代码: '',
      '批复概算（万元）': '',
      '资金落实（万元）': '',
      资金落实文号: '',
      资金落实日期: '',
      开工日期: '',
      开工依据: '',
      施工许可或合同编号: '',
      统计截止日期: '',
      '本年完成投资（万元）': '',
      '累计完成投资（万元）': '',
      '本年支付（万元）': '',
      '累计支付（万元）': '',
    });

  const v = validate([
    reserve(1, keys),
    reserve(2, 'PROJECT_PROPOSAL|临发改审批〔2023〕31号|2023-04-10'),
    reserve(3, '可研批复|临发改审批〔2023〕58号|2023-05-16|市发改委'),
    reserve(4, '项目建议书审批|临发改审批〔2023〕31号|去年|市发改委'),
    reserve(5, 'PROJECT_PROPOSAL|文号|2023-04-10|市发改委; MAGIC_STAMP|文号|2023-04-10|市发改委'),
  ]);

  expect(v.valid.map((r) => r.row)).toEqual([2]);
  expect(v.valid[0]!.body.onboarding!.approvals).toEqual([
    {
      matter: 'PROJECT_PROPOSAL',
      documentNumber: '临发改审批〔2023〕31号',
      date: '2023-04-10',
      approvingOrg: '市发改委',
    },
    {
      matter: 'FEASIBILITY_APPROVAL',
      documentNumber: '临发改审批〔2023〕58号',
      date: '2023-05-16',
      approvingOrg: '市发改委',
    },
  ]);
  const messages = (n: number) =>
    v.problems.filter((p) => p.row === n).map((p) => `${p.column} ${p.message}`);
  expect(messages(3)).toEqual([
    expect.stringMatching(/^已办审批事项 第1项 ".*" is not 事项\|文号\|日期\|审批机关/),
  ]);
  expect(messages(4)).toEqual([expect.stringMatching(/^已办审批事项 第1项: "可研批复" is neither/)]);
  expect(messages(5)).toEqual(['已办审批事项 第1项: "去年" is not a date YYYY-MM-DD']);
  expect(messages(6)).toEqual([
    expect.stringMatching(/^已办审批事项 第2项（MAGIC_STAMP）：MAGIC_STAMP is not/),
  ]);
});

test('every contradiction of a row is reported by its column; DRAFT rows keep to the DRAFT columns', () => {
  const thisYear = TODAY.slice(0, 4);
  const v = validate(
    [
      // 2: no start at all, and paid more than the estimate
      row({ 开工日期: '', 开工依据: '', 施工许可或合同编号: '', '累计支付（万元）': '34000.0001' }),
      // 3: 续建 that started this year (after its figures' day, too); an approval dated after today
      row({
        开工日期: `${thisYear}-01-05`,
        已办审批事项: row()[HEADERS.indexOf('已办审批事项')]!.replace('2023-04-10', '2099-01-01'),
      }),
      // 4: funds in part; no 项目单位; a 续建 in 前期库 with a start
      row({ 入库阶段: '前期库', 资金落实文号: '', 项目单位: '' }),
      // 5: an applying unit that is a department; an unknown stage
      row({ 项目单位: '市住建局' }),
      row({ 入库阶段: '在建库', 项目单位: '市住建局' }),
      // 7: a DRAFT with every onboarding fact of the example
      row({ 入库阶段: '' }),
    ].map((cells, i) => cells.map((c, j) => (HEADERS[j] === '项目名称' ? `矛盾事实项目${i}` : c))),
    HEADERS,
    'yaodu',
  );

  expect(v.valid).toEqual([]);
  expect(v.onboardedRows).toEqual([2, 3, 4, 5, 6]);
  expect(v.draftRows).toEqual([7]);
  expect(columnsOf(v.problems, 2)).toEqual(['开工日期', '累计支付（万元）']);
  expect(columnsOf(v.problems, 3)).toEqual(['已办审批事项', '开工日期', '统计截止日期']);
  expect(v.problems.find((p) => p.row === 3 && p.column === '已办审批事项')!.message).toMatch(
    /^第1项（PROJECT_PROPOSAL）：2099-01-01 is in the future/,
  );
  expect(v.problems.find((p) => p.row === 4 && p.column === '资金落实文号')!.message).toBe(
    'required, as 资金落实（万元）、资金落实日期 is filled',
  );
  expect(columnsOf(v.problems, 4)).toEqual(['资金落实文号', '项目单位']);
  expect(columnsOf(v.problems, 5)).toEqual(['项目单位']);
  expect(columnsOf(v.problems, 6)).toEqual(['入库阶段']);
  // A DRAFT row: every fact column filled is a problem; its 项目单位 is the importer's, so that one is not.
  expect(columnsOf(v.problems, 7)).toEqual(
    IMPORT_COLUMNS.filter((c) => c.onboardedOnly)
      .map((c) => c.header)
      .sort(),
  );
  expect(v.problems.find((p) => p.row === 7)!.message).toBe(
    'only a project entered at 储备库/前期库/实施库 has it: fill 入库阶段 or leave the cell empty',
  );
  const draftOfAnother = row({ 入库阶段: '', 项目单位: '侯马市' }).map((c, j) =>
    IMPORT_COLUMNS[j]!.onboardedOnly ? '' : c,
  );
  const other = validate([draftOfAnother], HEADERS, 'yaodu');
  expect(other.problems).toEqual([
    {
      row: 2,
      column: '项目单位',
      message: 'a DRAFT is of the creating organisation (yaodu)',
    },
  ]);
});

test('the 前期库 example of POST /projects reads back as it stands', () => {
  const pre = CREATE_PROJECT_EXAMPLES.preConstruction.value;
  const v = validate([row({}, pre)]);
  expect(v.problems).toEqual([]);
  expect(v.valid[0]!.body).toEqual(CreateProjectBody.parse(pre));
});

test('headers with half-width brackets and the old template without stage columns still import as DRAFTs', () => {
  const draft = CREATE_PROJECT_EXAMPLES.draft.value;
  const oldColumns = IMPORT_COLUMNS.filter(
    (c) => !c.field.startsWith('onboarding') && c.field !== 'ownerOrg',
  );
  const headers = oldColumns.map((c) => c.header.replace('（', '(').replace('）', ')'));
  const cells = projectRow(draft, policy).filter((_, i) => oldColumns.includes(IMPORT_COLUMNS[i]!));

  const v = validate([cells], headers, 'yaodu');

  expect(v.problems).toEqual([]);
  expect(v.draftRows).toEqual([2]);
  expect(v.valid[0]!.body).toEqual(CreateProjectBody.parse(draft));
});
