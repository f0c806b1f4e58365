import request from 'supertest';
import type { Express } from 'express';
import ExcelJS from 'exceljs';
import { importedProjectId } from '../../api/routes/imports';
import { IMPORT_COLUMNS, writeProjectFile } from '../../imports/project-file';
import { putPerson } from '../../db/people';
import { shanghaiDayOf } from '../../calendar';
import { libraryOf, projectWorkflowId } from '../../domain/project';
import type { OnboardingStage } from '../../domain/onboarding';
import { eventually, startTestSystem, type TestSystem } from '../support/harness';
import { testApp, token } from '../support/api';

let sys: TestSystem;
let app: Express;
let applicant: string;
/** The pipeline office (市项目推进中心), one of the organisations that onboard projects. */
let office: string;

beforeAll(async () => {
  sys = await startTestSystem();
  // A faster creation rate than production's default, so 2,000 rows fit a test; the path is the same.
  app = testApp(sys, { imports: { maxBytes: '20mb', maxRows: 5000, ratePerSecond: 200 } });
  applicant = `Bearer ${await token('importer', 'yaodu', 'applicant')}`;
  office = `Bearer ${await token('office', 'project-center', 'supervisor')}`;
  // The 包联领导 the rows name, by their id in the people directory.
  await putPerson(sys.models.People, {
    _id: 'vm-zhang',
    name: '张副市长',
    post: '副市长',
    org: 'leading-group',
    headOf: [],
    channels: { emails: [], webhooks: [] },
  });
});
afterAll(async () => {
  await sys?.close();
});

const CSV = 'text/csv';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** One row in template order; `over` replaces cells by header. */
function row(i: number, over: Record<string, string | number> = {}): (string | number)[] {
  const base: Record<string, string | number> = {
    项目名称: `临汾市第${i}号片区供热管网改造工程`,
    '县（市、区）': '尧都区',
    专项行动: 3,
    专项推进组: 'sg-urban',
    行业: 'housing',
    责任部门: '市住建局',
    包联领导: 'vm-zhang',
    项目业主: `临汾市热力有限公司${i}`,
    统一社会信用代码: '',
    投资主体: '国有企业',
    审批类型: '审批',
    省级重点: '否',
    市级重点: '是',
    '重大项目（绿色通道）': '否',
    应急项目: '否',
    政府投资: '是',
    民间投资推介: '否',
    涉及用地: '是',
    '年综合能耗（吨标准煤）': 1200,
    '总投资（万元）': '35000.5',
    '年度计划投资（万元）': 12000,
    计划开工日期: '2026-03-01',
    计划竣工日期: '2027-10-31',
    ...over,
  };
  return IMPORT_COLUMNS.map((c) => base[c.header] ?? '');
}

const YEAR = Number(shanghaiDayOf(Date.now()).slice(0, 4));
/** Every reserve matter a row() project needs, done two years ago (by the policy's names, or keys). */
const MATTERS = [
  `项目建议书审批|临发改审批〔${YEAR - 2}〕31号|${YEAR - 2}-04-10|市发改委`,
  `可行性研究报告审批|临发改审批〔${YEAR - 2}〕58号|${YEAR - 2}-05-16|市发改委`,
  `LAND_PRE_REVIEW|临自然资预〔${YEAR - 2}〕9号|${YEAR - 2}-04-28|市规划和自然资源局`,
  `EIA|临环审〔${YEAR - 2}〕22号|${YEAR - 2}-05-30|市生态环境局`,
  `节能承诺备案|临能源备〔${YEAR - 2}〕14号|${YEAR - 2}-05-08|市能源局`,
  `资金来源落实|临财建〔${YEAR - 2}〕3号|${YEAR - 2}-06-03|市财政局`,
];

/** Every pre-construction step a row() project needs but the construction permit, done last year. */
const STEPS = [
  `初步设计及概算批复|临发改设计〔${YEAR - 1}〕7号|${YEAR - 1}-03-02|市发改委`,
  `施工图设计审查|临住建审〔${YEAR - 1}〕15号|${YEAR - 1}-04-10|市住建局`,
  `建设用地规划许可|地字第141082${YEAR - 1}0021号|${YEAR - 1}-04-20|市规划和自然资源局`,
  `建设工程规划许可|建字第141082${YEAR - 1}0033号|${YEAR - 1}-05-08|市规划和自然资源局`,
  `财政预算评审|临财评〔${YEAR - 1}〕41号|${YEAR - 1}-05-20|市财政局`,
  `采购备案与招标投标|临招备〔${YEAR - 1}〕102号|${YEAR - 1}-06-18|市行政审批服务管理局`,
  `采购合同签订|HT-${YEAR - 1}-0618|${YEAR - 1}-06-28|霍州市`,
  `施工及监理单位进场|进场〔${YEAR - 1}〕9号|${YEAR - 1}-07-06|霍州市`,
  `社会稳定风险评估及应急预案|临稳评〔${YEAR - 1}〕5号|${YEAR - 1}-07-10|市住建局`,
];

/**
 * A row() project onboarded at `stage` with the facts that put it there, in 霍州市; `over` replaces cells. Each
 * stands far along its stage, as the city's carried projects mostly do: 储备库 with every matter done and its code
 * still to come, 前期库 waiting for its construction permit, 实施库 a 续建 project reporting monthly.
 */
function stageRow(
  i: number,
  stage: OnboardingStage,
  over: Record<string, string | number> = {},
): (string | number)[] {
  const code = `${String(YEAR - 2).slice(2)}04-141082-04-01-${String(i).padStart(6, '0')}`;
  const common = {
    '县（市、区）': '霍州市',
    项目单位: '霍州市',
    纳入计划名称: `临汾市${YEAR - 1}年重点项目年度计划`,
    纳入计划文号: `临发改〔${YEAR - 1}〕12号`,
    纳入计划日期: `${YEAR - 1}-02-26`,
  };
  const facts: Record<OnboardingStage, Record<string, string | number>> = {
    RESERVE: { 入库阶段: '储备库', 建设性质: '新建', 已办审批事项: MATTERS.join('; ') },
    PRE_CONSTRUCTION: {
      入库阶段: '前期库',
      已办审批事项: [...MATTERS, ...STEPS].join('; '),
      项目代码: code,
      '批复概算（万元）': '34000',
    },
    UNDER_CONSTRUCTION: {
      入库阶段: '实施库',
      建设性质: '续建',
      已办审批事项: [
        ...MATTERS,
        STEPS[0]!,
        `施工许可|141082${YEAR - 1}03150101|${YEAR - 1}-03-15|市行政审批服务管理局`,
      ].join('; '),
      项目代码: code,
      '批复概算（万元）': '34000',
      '资金落实（万元）': '20000',
      资金落实文号: `临财建〔${YEAR - 1}〕11号`,
      资金落实日期: `${YEAR - 1}-03-01`,
      开工日期: `${YEAR - 1}-04-01`,
      开工依据: '施工许可',
      施工许可或合同编号: `141082${YEAR - 1}03150101`,
      统计截止日期: `${YEAR - 1}-12-31`,
      '本年完成投资（万元）': '8000',
      '累计完成投资（万元）': '19000.5',
      '本年支付（万元）': '7000',
      '累计支付（万元）': '17000',
    },
  };
  return row(i, { ...common, ...facts[stage], ...over });
}

const upload = (file: Buffer, type: string, query = '', key?: string, who = applicant) => {
  const r = request(app).post(`/api/v1/imports${query}`).set('Authorization', who).set('Content-Type', type);
  return (key ? r.set('Idempotency-Key', key) : r).send(file);
};

async function exists(projectId: string): Promise<boolean> {
  try {
    await sys.client.workflow.getHandle(projectWorkflowId(projectId)).describe();
    return true;
  } catch {
    return false;
  }
}

/** Polled each half second: the job document holds every row's body, and FerretDB is busy creating projects. */
const finished = (importId: string, who = applicant) =>
  eventually(
    async () => {
      await new Promise((r) => setTimeout(r, 500));
      return request(app).get(`/api/v1/imports/${importId}`).set('Authorization', who);
    },
    (r) => r.body.status === 'COMPLETED' || r.body.status === 'FAILED',
    1_500_000,
  );

test('a file with bad rows reports every row’s errors and creates nothing; valid-only imports the valid rows', async () => {
  const file = await writeProjectFile('csv', [
    row(1),
    row(2, { '县（市、区）': '火星区', '总投资（万元）': '1.23456' }),
    row(3, { 项目名称: '', 涉及用地: '也许' }),
    row(4, { 行业: 'mining', 责任部门: 'sg-urban' }),
    row(1), // the same project and owner as the first row
  ]);
  const running = () =>
    sys.client.workflow.count(`WorkflowType = 'projectLifecycle' AND ExecutionStatus = 'Running'`);
  const before = await running();
  const res = await upload(file, CSV);
  expect(res.status).toBe(422);
  expect(res.body.status).toBe('REJECTED');
  expect(res.body).toMatchObject({ rows: 5, valid: 1, invalid: 4, toCreate: 0 });
  const byRow = (n: number) =>
    (res.body.problems as { row: number; column: string; message: string }[])
      .filter((p) => p.row === n)
      .map((p) => p.column)
      .sort();
  expect(byRow(3)).toEqual(['县（市、区）', '总投资（万元）']);
  expect(byRow(4)).toEqual(['涉及用地', '项目名称']);
  expect(byRow(5)).toEqual(['行业', '责任部门']);
  expect(byRow(6)).toEqual(['项目名称']);
  const importId = res.body.importId as string;
  expect(await exists(importedProjectId(importId, 2))).toBe(false);
  // The rejected attempt and its report stay readable.
  const stored = await request(app).get(`/api/v1/imports/${importId}`).set('Authorization', applicant);
  expect(stored.body.problems).toEqual(res.body.problems);
  expect((await running()).count).toBe(before.count); // no workflow started at all

  const partial = await upload(file, CSV, '?mode=valid-only');
  expect(partial.status).toBe(202);
  expect(partial.headers.location).toBe(`/api/v1/imports/${partial.body.importId}`);
  const done = await finished(partial.body.importId as string);
  expect(done.body).toMatchObject({
    status: 'COMPLETED',
    valid: 1,
    toCreate: 1,
    created: 1,
    progressPercent: 100,
  });
  const [created] = done.body.projects as { row: number; projectId: string }[];
  expect(created!.row).toBe(2);
  const live = await sys.projects.query(created!.projectId);
  expect(live.details).toMatchObject({
    county: 'yaodu',
    responsibleDept: 'housing',
    ownerOrg: 'yaodu',
    totalInvestmentYuan: 350_005_000, // 35000.5 万元, exactly
    annualPlanYuan: 120_000_000,
    investorType: 'SOE',
  });
  for (const n of [3, 4, 5, 6])
    expect(await exists(importedProjectId(partial.body.importId as string, n))).toBe(false);
});

test('the monthly report’s headers and the short labels users write are understood', async () => {
  const headers = IMPORT_COLUMNS.map((c) =>
    c.header === '县（市、区）' ? '县区' : c.header === '专项推进组' ? '专班' : c.header,
  );
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('项目');
  ws.addRow(headers);
  // Amounts typed as numbers: Excel keeps doubles, 1234.5678 万元 must still be exactly 12,345,678 元.
  ws.addRow(row(7, { 投资主体: '民营', '总投资（万元）': 1234.5678 }).map((v) => v));
  const file = Buffer.from(await wb.xlsx.writeBuffer());
  const res = await upload(file, XLSX);
  expect(res.status).toBe(202);
  const done = await finished(res.body.importId as string);
  const [p] = done.body.projects as { projectId: string }[];
  const live = await sys.projects.query(p!.projectId);
  expect(live.details).toMatchObject({
    investorType: 'PRIVATE',
    totalInvestmentYuan: 12_345_678,
    county: 'yaodu',
  });
});

test('a file that is not the template is refused as a whole', async () => {
  const wb = new ExcelJS.Workbook();
  wb.addWorksheet('x').addRow(['名称', '金额']);
  const wrong = Buffer.from(await wb.xlsx.writeBuffer());
  const res = await upload(wrong, XLSX);
  expect(res.status).toBe(422);
  expect(res.body.unknownColumns).toEqual(['名称', '金额']);
  expect(res.body.missingColumns).toContain('项目名称');
  const json = await request(app).post('/api/v1/imports').set('Authorization', applicant).send({ rows: [] });
  expect(json.status).toBe(415);
  const reviewer = await request(app)
    .post('/api/v1/imports')
    .set('Authorization', `Bearer ${await token('r', 'ndrc', 'reviewer')}`)
    .set('Content-Type', CSV)
    .send(await writeProjectFile('csv', [row(1)]));
  expect(reviewer.status).toBe(403);
  expect(reviewer.body.type).toBe('https://project-pipeline.dev/problems/draft-by-applicant');
});

test('the template’s example row — a 续建 project in 实施库 — imports as it stands', async () => {
  const csv = await request(app).get('/api/v1/imports/template?format=csv').set('Authorization', office);
  expect(csv.status).toBe(200);
  expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
  expect(csv.text.replace(/^\uFEFF/, '').split(/\r?\n/)[0]).toBe(
    IMPORT_COLUMNS.map((c) => c.header).join(','),
  );
  const xlsx = await request(app)
    .get('/api/v1/imports/template')
    .set('Authorization', office)
    .buffer(true)
    .parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
  expect(xlsx.status).toBe(200);
  expect(xlsx.headers['content-disposition']).toContain('.xlsx');

  const res = await upload(xlsx.body as Buffer, XLSX, '', undefined, office);

  expect(res.status).toBe(202);
  const done = await finished(res.body.importId as string, office);
  const [p] = done.body.projects as { projectId: string }[];
  const view = await eventually(
    () => request(app).get(`/api/v1/projects/${p!.projectId}`).set('Authorization', office),
    (r) => r.status === 200,
  );
  expect(view.body).toMatchObject({ stage: 'UNDER_CONSTRUCTION', library: '实施' });
  const live = await sys.projects.query(p!.projectId);
  expect(live.details.ownerOrg).toBe('yaodu');
  expect(live.onboarded).toMatchObject({ by: { userId: 'office', org: 'project-center' } });
});

test('500 rows across 储备库, 前期库 and 实施库 imported by the pipeline office: each project stands in its stage', async () => {
  const stages: OnboardingStage[] = ['RESERVE', 'PRE_CONSTRUCTION', 'UNDER_CONSTRUCTION'];
  const rows = Array.from({ length: 500 }, (_, i) => stageRow(5000 + i, stages[i % 3]!));
  const file = await writeProjectFile('xlsx', rows);

  const res = await upload(file, XLSX, '?fileName=存量项目入库.xlsx', 'onboarding-import-500', office);

  expect({ status: res.status, problems: res.body.problems as unknown }).toEqual({
    status: 202,
    problems: [],
  });
  const done = await finished(res.body.importId as string, office);
  expect(done.body).toMatchObject({ status: 'COMPLETED', created: 500 });
  const expected = new Map(
    (done.body.projects as { row: number; projectId: string }[]).map((p) => [
      p.projectId,
      stages[(p.row - 2) % 3]!,
    ]),
  );
  // Every project in the read model at its stage: the office's list of 霍州市's projects, page by page (by name,
  // an order that projects being updated meanwhile do not shift).
  const listed = async () => {
    const seen = new Map<string, { stage: string; library: string }>();
    for (let cursor: string | null = ''; cursor !== null;) {
      const page = await request(app)
        .get(`/api/v1/projects?county=huozhou&sort=name&limit=200${cursor ? `&cursor=${cursor}` : ''}`)
        .set('Authorization', office);
      expect(page.status).toBe(200);
      for (const p of page.body.projects as { projectId: string; stage: string; library: string }[])
        seen.set(p.projectId, { stage: p.stage, library: p.library });
      cursor = page.body.nextCursor as string | null;
    }
    return [...expected]
      .filter(([id, stage]) => seen.get(id)?.stage !== stage || seen.get(id)?.library !== libraryOf(stage))
      .map(([id, stage]) => `${id}: ${stage} expected, ${JSON.stringify(seen.get(id) ?? 'not listed')}`)
      .concat(seen.size === expected.size ? [] : [`${seen.size} listed`]);
  };
  // The read model follows the workflows at the rate the local FerretDB writes (see BENCHMARKS.md).
  let wrong = await listed();
  for (const until = Date.now() + 300_000; wrong.length > 0 && Date.now() < until; wrong = await listed())
    await new Promise((r) => setTimeout(r, 3000));
  expect(wrong).toEqual([]);
  // One of each through the project's own view, with its facts.
  for (const stage of stages) {
    const id = [...expected].find(([, s]) => s === stage)![0];
    const view = await request(app).get(`/api/v1/projects/${id}`).set('Authorization', office);
    expect(view.body).toMatchObject({ stage, details: { ownerOrg: 'huozhou', county: 'huozhou' } });
  }
  const continuing = await sys.projects.query([...expected].find(([, s]) => s === 'UNDER_CONSTRUCTION')![0]);
  expect(continuing).toMatchObject({
    constructionType: 'CONTINUING',
    approvedEstimateYuan: 340_000_000,
    investmentToDate: { cumulativeInvestmentYuan: 190_005_000, cumulativePaidYuan: 170_000_000 },
  });
}, 900_000);

test('a file whose rows contradict their stage reports every bad row by column and creates nothing', async () => {
  const file = await writeProjectFile('csv', [
    stageRow(6001, 'UNDER_CONSTRUCTION'),
    stageRow(6002, 'UNDER_CONSTRUCTION', { 开工日期: '', 开工依据: '', 施工许可或合同编号: '' }),
    stageRow(6003, 'UNDER_CONSTRUCTION', { '累计支付（万元）': '34000.0001' }),
    stageRow(6004, 'PRE_CONSTRUCTION', {
      项目代码: '',
      已办审批事项: [...MATTERS.slice(1), ...STEPS].join('; '),
    }),
    stageRow(6005, 'RESERVE', { 建设性质: '续建', 项目单位: '' }),
    stageRow(6006, 'RESERVE', { 已办审批事项: `EIA|临环审〔${YEAR}〕1号|${YEAR + 1}-01-01|市生态环境局` }),
    stageRow(6007, 'UNDER_CONSTRUCTION', { 资金落实文号: '', 入库阶段: '在建库' }),
  ]);
  const running = () =>
    sys.client.workflow.count(`WorkflowType = 'projectLifecycle' AND ExecutionStatus = 'Running'`);
  const before = await running();

  const res = await upload(file, CSV, '', undefined, office);

  expect(res.status).toBe(422);
  expect(res.body).toMatchObject({ status: 'REJECTED', rows: 7, valid: 1, invalid: 6, toCreate: 0 });
  const byRow = (n: number) =>
    (res.body.problems as { row: number; column: string }[])
      .filter((p) => p.row === n)
      .map((p) => p.column)
      .sort();
  expect(byRow(2)).toEqual([]);
  expect(byRow(3)).toEqual(['开工日期']);
  expect(byRow(4)).toEqual(['累计支付（万元）']);
  expect(byRow(5)).toEqual(['已办审批事项', '项目代码']);
  expect(byRow(6)).toEqual(['建设性质', '项目单位']);
  expect(byRow(7)).toEqual(['已办审批事项']);
  expect(byRow(8)).toEqual(['入库阶段', '资金落实文号']);
  expect(
    (res.body.problems as { row: number; column: string; message: string }[]).find((p) => p.row === 7),
  ).toMatchObject({ message: expect.stringMatching(/^第1项（EIA）：.* is in the future/) as unknown });
  expect(await exists(importedProjectId(res.body.importId as string, 2))).toBe(false);
  expect((await running()).count).toBe(before.count);
});

test('an applicant’s file with rows beyond DRAFT is refused as a whole, naming the rule', async () => {
  const file = await writeProjectFile('xlsx', [row(7001), stageRow(7002, 'RESERVE'), row(7003)]);
  const imports = async () =>
    ((await request(app).get('/api/v1/imports').set('Authorization', applicant)).body.imports as unknown[])
      .length;
  const stored = await imports();

  const res = await upload(file, XLSX);

  expect(res.status).toBe(403);
  expect(res.body).toMatchObject({
    type: 'https://project-pipeline.dev/problems/onboarding-not-allowed',
    rows: [3],
    column: '入库阶段',
  });
  expect(res.body.detail).toContain('policy onboarding.organisations');
  expect(await imports()).toBe(stored); // nothing stored, nothing started
});

test('2,000 rows of an .xlsx import in one go: 2,000 running project workflows, once', async () => {
  const rows = Array.from({ length: 2000 }, (_, i) => row(1000 + i));
  const file = await writeProjectFile('xlsx', rows);
  const before = await sys.client.workflow.count(
    `WorkflowType = 'projectLifecycle' AND ExecutionStatus = 'Running'`,
  );
  const res = await upload(file, XLSX, '?fileName=2026年重大项目.xlsx', 'bulk-import-2000-rows');
  expect(res.status).toBe(202);
  expect(res.body).toMatchObject({ rows: 2000, valid: 2000, invalid: 0, toCreate: 2000 });
  // The same upload again (a retry) is the same import: nothing is created twice.
  const again = await upload(file, XLSX, '?fileName=2026年重大项目.xlsx', 'bulk-import-2000-rows');
  expect(again.body.importId).toBe(res.body.importId);
  const done = await finished(res.body.importId as string);
  expect(done.body).toMatchObject({ status: 'COMPLETED', created: 2000 });
  const after = await eventually(
    () => sys.client.workflow.count(`WorkflowType = 'projectLifecycle' AND ExecutionStatus = 'Running'`),
    (c) => c.count - before.count >= 2000,
    60_000,
  );
  expect(after.count - before.count).toBe(2000);
  const ids = (done.body.projects as { projectId: string }[]).map((p) => p.projectId);
  expect(new Set(ids).size).toBe(2000);
  expect(await exists(ids[1999]!)).toBe(true);
}, 1_800_000);
