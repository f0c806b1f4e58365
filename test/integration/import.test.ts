import request from 'supertest';
import type { Express } from 'express';
import ExcelJS from 'exceljs';
import { importedProjectId } from '../../api/routes/imports';
import { IMPORT_COLUMNS, writeProjectFile } from '../../imports/project-file';
import { projectWorkflowId } from '../../domain/project';
import { eventually, startTestSystem, type TestSystem } from '../support/harness';
import { testApp, token } from '../support/api';

let sys: TestSystem;
let app: Express;
let applicant: string;

beforeAll(async () => {
  sys = await startTestSystem();
  // A faster creation rate than production's default, so 2,000 rows fit a test; the path is the same.
  app = testApp(sys, { imports: { maxBytes: '20mb', maxRows: 5000, ratePerSecond: 200 } });
  applicant = `Bearer ${await token('importer', 'yaodu', 'applicant')}`;
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
    包联领导: '张副市长',
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

const upload = (file: Buffer, type: string, query = '', key?: string) => {
  const r = request(app)
    .post(`/api/v1/imports${query}`)
    .set('Authorization', applicant)
    .set('Content-Type', type);
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

const finished = (importId: string) =>
  eventually(
    () => request(app).get(`/api/v1/imports/${importId}`).set('Authorization', applicant),
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
