import request from 'supertest';
import type { Express } from 'express';
import ExcelJS from 'exceljs';
import type { Task } from '../../domain/state';
import { shanghaiDayOf } from '../../calendar';
import { eventually, startTestSystem, type TestSystem } from '../support/harness';
import { LifecycleDriver } from '../support/lifecycle-driver';
import { secondsPolicy } from '../support/policies';
import { testApp, token } from '../support/api';
import { actor } from '../support/fixtures';

let sys: TestSystem;
let app: Express;
let d: LifecycleDriver;
/** Stays a DRAFT (谋划) in 尧都区 with no lead leader; submitted (谋划, overdue reviews) in 侯马市; 储备; 前期. */
const ids = { draft: '', screening: '', reserve: '', pre: '' };

const auth = async (org: string, role: string) => `Bearer ${await token(`${org}-${role}`, org, role)}`;
const get = async (path: string, org = 'project-center', role = 'supervisor') =>
  request(app)
    .get(`/api/v1${path}`)
    .set('Authorization', await auth(org, role));
const download = async (path: string) =>
  request(app)
    .get(`/api/v1${path}`)
    .set('Authorization', await auth('project-center', 'supervisor'))
    .buffer(true)
    .parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    });
async function sheets(body: Buffer) {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(body as never);
  return wb;
}
const cellsOf = (ws: ExcelJS.Worksheet) =>
  (ws.getSheetValues().filter(Boolean) as unknown[][]).map((r) => Array.from(r.slice(1), (v) => v ?? null));

const today = () => shanghaiDayOf(Date.now());
const thisMonth = () => today().slice(0, 7);

/** The open tasks of a project past their deadline now, by the workflow's own state. */
async function overdueTaskIds(projectId: string, asOf: number): Promise<string[]> {
  const tasks: Task[] = await d.openTasks(projectId);
  return tasks
    .filter(
      (t) =>
        t.deadline &&
        t.deadline.dueAt < asOf &&
        !t.clock?.pauses.some((p) => p.from <= asOf && (p.to === undefined || p.to > asOf)),
    )
    .map((t) => t.id);
}

beforeAll(async () => {
  sys = await startTestSystem({ policy: secondsPolicy(6) });
  app = testApp(sys);
  d = new LifecycleDriver(sys);
  ids.draft = await d.create({ name: '谋划中项目', assignedLeader: undefined });
  ids.screening = await d.create({ name: '侯马市初审项目', county: 'houma', ownerOrg: 'houma' });
  await d.act(ids.screening, actor('houma', 'applicant'), { type: 'submit' });
  ids.reserve = await d.create({ name: '储备库项目' });
  await d.toReserve(ids.reserve);
  ids.pre = await d.create({
    name: '前期库交通项目',
    portfolio: 'sg-infrastructure',
    industry: 'transport',
    responsibleDept: 'transport',
  });
  await d.toPreConstruction(ids.pre);
  for (const id of Object.values(ids)) await d.expectConsistent(id);
}, 300_000);
afterAll(async () => {
  await sys?.close();
});

test('the dashboard counts projects per library and investment against 序时进度 from the same figures as the dispatch report', async () => {
  const res = await eventually(
    () => get('/supervision/dashboard'),
    (r) => r.status === 200 && (r.body as { libraries: { projects: number }[] }).libraries[2]?.projects === 1,
  );
  const body = res.body as {
    year: number;
    libraries: { library: string; projects: number; investment: { yuan: number } }[];
    ended: { completed: number; out: number };
    investmentByMonth: {
      month: string;
      annualPlan: { yuan: number };
      ytdInvestment: { yuan: number };
      target: { yuan: number };
      completion: { percent: string } | null;
      timeElapsed: { numerator: number; denominator: number };
    }[];
  };
  expect(body.libraries.map((l) => [l.library, l.projects])).toEqual([
    ['谋划', 2],
    ['储备', 1],
    ['前期', 1],
    ['实施', 0],
  ]);
  expect(body.libraries[0]!.investment.yuan).toBe(2 * 350_000_000);
  expect(body.ended).toEqual({ completed: 0, out: 0 });

  // Only the 前期 project counts against the annual plan (120,000,000 元); nothing reported yet.
  const m = Number(thisMonth().slice(5, 7));
  expect(body.year).toBe(Number(today().slice(0, 4)));
  expect(body.investmentByMonth.map((x) => x.month)).toEqual(
    Array.from({ length: m }, (_, i) => `${body.year}-${String(i + 1).padStart(2, '0')}`),
  );
  const last = body.investmentByMonth[m - 1]!;
  expect(last).toMatchObject({
    annualPlan: { yuan: 120_000_000 },
    ytdInvestment: { yuan: 0 },
    target: { yuan: 10_000_000 * m },
    completion: { percent: '0.00' },
    timeElapsed: { numerator: m, denominator: 12 },
  });

  // The same month's dispatch snapshot holds the same total.
  await sys.client.workflow.execute('supervisionRun', {
    taskQueue: sys.taskQueue,
    workflowId: `dashboard-dispatch-${ids.pre}`,
    args: [{ kind: 'MONTHLY_DISPATCH', period: thisMonth(), force: true }],
  });
  const snap = await sys.supervisionModels.ReportSnapshot.findById(`MONTHLY_DISPATCH:${thisMonth()}`).lean();
  const total = (snap!.report.dispatch as { total: { annualPlan: { yuan: number } } }).total;
  expect(total.annualPlan.yuan).toBe(last.annualPlan.yuan);
});

test('the overdue list holds exactly the open tasks past their deadline, filters by unit, county and level, and exports the rows it shows', async () => {
  // Every task opened so far is due 6 s after it opened: wait until the read model shows them all overdue.
  const { body } = await eventually(
    async () => {
      const res = await get('/supervision/overdue?pageSize=200');
      const asOf = Date.parse((res.body as { asOf: string }).asOf);
      const expected: string[] = [];
      for (const id of Object.values(ids)) expected.push(...(await overdueTaskIds(id, asOf)));
      return { body: res.body as OverduePage, expected: expected.sort() };
    },
    ({ body, expected }) =>
      expected.length > 0 &&
      JSON.stringify(body.rows.map((r) => r.taskId).sort()) === JSON.stringify(expected),
    60_000,
  );
  expect(body.total).toBe(body.rows.length);
  expect(body.rows.every((r) => r.workingDaysOverdue >= 0 && r.dueAt < body.asOf)).toBe(true);
  // Facets count all overdue tasks: by county the 侯马市 project's reviews are there.
  const houma = body.rows.filter((r) => r.projectId === ids.screening);
  expect(houma.length).toBeGreaterThan(0);
  expect(body.facets.counties).toContainEqual({ orgId: 'houma', name: '侯马市', count: houma.length });
  expect(body.facets.levels.reduce((s, l) => s + l.count, 0)).toBe(body.total);

  const byCounty = (await get(`/supervision/overdue?county=houma&asOf=${body.asOf}`)).body as OverduePage;
  expect(byCounty.rows.map((r) => r.taskId).sort()).toEqual(houma.map((r) => r.taskId).sort());
  expect(byCounty.rows.every((r) => r.county === '侯马市' && r.countyId === 'houma')).toBe(true);

  const unit = houma[0]!.responsibleOrgId;
  const byUnit = (await get(`/supervision/overdue?department=${unit}&asOf=${body.asOf}`)).body as OverduePage;
  expect(byUnit.rows.length).toBe(body.facets.departments.find((f) => f.orgId === unit)!.count);
  expect(byUnit.rows.every((r) => r.responsibleOrgId === unit)).toBe(true);

  const level = houma[0]!.escalationLevel;
  const byLevel = (await get(`/supervision/overdue?level=${level}&asOf=${body.asOf}`)).body as OverduePage;
  expect(byLevel.rows.every((r) => r.escalationLevel === level)).toBe(true);

  const paged = (await get(`/supervision/overdue?page=2&pageSize=1&asOf=${body.asOf}`)).body as OverduePage;
  expect(paged).toMatchObject({ page: 2, pageSize: 1 });
  if (body.total > 1) expect(paged.rows.map((r) => r.taskId)).toEqual([body.rows[1]!.taskId]);

  const xlsx = await download(`/supervision/overdue?county=houma&asOf=${body.asOf}&format=xlsx`);
  expect(xlsx.status).toBe(200);
  expect(xlsx.headers['content-disposition']).toMatch(/filename="?overdue_\d{8}\.xlsx/);
  const ws = (await sheets(xlsx.body as Buffer)).getWorksheet('逾期清单')!;
  const [header, ...rows] = cellsOf(ws);
  expect(header).toContain('逾期事项');
  const taskCol = header!.indexOf('逾期事项');
  expect(rows.map((r) => r[taskCol])).toEqual(byCounty.rows.map((r) => r.task));
  expect(rows.every((r) => r.includes('侯马市'))).toBe(true);
  // An instant before the working calendar begins is refused, not a 500 (found by the API fuzzer).
  const ancient = await get('/supervision/overdue?asOf=0020-02-29T00:00:00Z');
  expect(ancient.status).toBe(400);
  expect(ancient.headers['content-type']).toMatch(/^application\/problem\+json/);

  // The dashboard's counts are the same list's.
  const dash = (await get('/supervision/dashboard')).body as {
    overdue: { total: number; byCounty: { orgId: string; count: number }[] };
  };
  expect(dash.overdue.byCounty.find((c) => c.orgId === 'houma')?.count).toBe(houma.length);
});

test('open blockers are counted by escalation level and by 三级联动 level', async () => {
  const raised = await request(app)
    .post(`/api/v1/projects/${ids.reserve}/blockers`)
    .set('Authorization', await auth('yaodu', 'applicant'))
    .send({
      category: 'LAND',
      level: 'CITY',
      responsibleOrg: 'natural-resources',
      description: '项目用地指标未落实，影响按期开工',
    });
  expect(raised.status).toBe(201);
  const res = await eventually(
    () => get('/supervision/dashboard'),
    (r) => (r.body as { blockers?: { open: number } }).blockers?.open === 1,
  );
  const { blockers } = res.body as {
    blockers: {
      open: number;
      byEscalation: { level: number; count: number }[];
      byLevel: { level: string; label: string; count: number }[];
    };
  };
  expect(blockers.byEscalation.reduce((s, l) => s + l.count, 0)).toBe(1);
  expect(blockers.byLevel).toEqual([
    { level: 'COUNTY', label: '县级', count: 0 },
    { level: 'CITY', label: '市级', count: 1 },
    { level: 'PROVINCE', label: '省级', count: 0 },
  ]);
});

test('the dashboard shows the newest rankings its reader may see; unapproved assessments stay with supervisors and the leading group', async () => {
  const dispatchId = `MONTHLY_DISPATCH:${thisMonth()}`;
  if (!(await sys.supervisionModels.ReportSnapshot.exists({ _id: dispatchId })))
    await sys.client.workflow.execute('supervisionRun', {
      taskQueue: sys.taskQueue,
      workflowId: `dashboard-dispatch-again-${ids.pre}`,
      args: [{ kind: 'MONTHLY_DISPATCH', period: thisMonth(), force: true }],
    });
  const lastYear = String(Number(today().slice(0, 4)) - 1);
  await sys.client.workflow.execute('supervisionRun', {
    taskQueue: sys.taskQueue,
    workflowId: `dashboard-assessment-${ids.pre}`,
    args: [{ kind: 'ANNUAL_ASSESSMENT', period: lastYear, force: true }],
  });
  const assessmentId = `ANNUAL_ASSESSMENT:${lastYear}`;
  const dispatch = await sys.supervisionModels.ReportSnapshot.findById(dispatchId).lean();
  const ranked = dispatch!.report.rankings as {
    redList: unknown[];
    blackList: unknown[];
    departments: unknown[];
  };

  const supervisor = (await get('/supervision/dashboard')).body as { rankings: { snapshotId: string } };
  expect(supervisor.rankings.snapshotId).toBe(assessmentId);
  const groupLeader = (await get('/supervision/dashboard', 'sg-urban', 'leader')).body as {
    rankings: { snapshotId: string; redList: unknown[]; blackList: unknown[]; departments: unknown[] };
  };
  expect(groupLeader.rankings.snapshotId).toBe(dispatchId);
  expect(groupLeader.rankings.redList).toEqual(ranked.redList);
  expect(groupLeader.rankings.blackList).toEqual(ranked.blackList);
  expect(groupLeader.rankings.departments).toEqual(ranked.departments);
  // Hand-derived: 市交通运输局's only project is in 前期 with nothing invested against its plan: behind 序时进度.
  expect(groupLeader.rankings.blackList).toContainEqual(
    expect.objectContaining({ series: 'DEPARTMENT', orgId: 'transport' }),
  );

  const list = (await get('/reports')).body as ReportList;
  expect(list.reports.map((r) => r.id)).toEqual([assessmentId, dispatchId]);
  expect(list.reports[0]).toMatchObject({
    kind: 'ANNUAL_ASSESSMENT',
    kindLabel: '年度考核',
    period: lastYear,
    approval: { status: 'AWAITING', approvedAt: null },
  });
  expect(list.reports[1]).toMatchObject({ kind: 'MONTHLY_DISPATCH', approval: null, projectCount: 4 });
  expect(list.total).toBe(2);
  const filtered = (await get('/reports?kind=MONTHLY_DISPATCH')).body as ReportList;
  expect(filtered.reports.map((r) => r.id)).toEqual([dispatchId]);
  const second = (await get('/reports?page=2&pageSize=1')).body as ReportList;
  expect(second).toMatchObject({ total: 2, page: 2, pageSize: 1 });
  expect(second.reports.map((r) => r.id)).toEqual([dispatchId]);
  const leaderList = (await get('/reports', 'sg-urban', 'leader')).body as ReportList;
  expect(leaderList.reports.map((r) => r.id)).toEqual([dispatchId]);
  expect((await get(`/reports/${assessmentId}/tables`, 'sg-urban', 'leader')).status).toBe(404);

  const tables = await get(`/reports/${dispatchId}/tables`);
  expect(tables.status).toBe(200);
  const t = tables.body as {
    summary: { id: string };
    tables: { key: string; exportable: boolean; sheets: { name: string; rows: unknown[][] }[] }[];
  };
  expect(t.summary.id).toBe(dispatchId);
  expect(t.tables.map((x) => x.key)).toEqual(['dispatch', 'overdue', 'rankings', 'dataQuality', 'targets']);
  const dispatchSheet = t.tables[0]!.sheets.find((s) => s.name === '专题调度')!;
  expect(dispatchSheet.rows.some((r) => r.includes('基础设施专项推进组'))).toBe(true);
});

test('the data-quality and missing-report lists are live, filterable by county, and export as .xlsx', async () => {
  const res = await eventually(
    () => get('/supervision/data-quality?county=yaodu'),
    (r) => r.status === 200,
  );
  const q = res.body as {
    missingLeader: { projectId: string; county: string }[];
    missingDepartment: unknown[];
    counties: { orgId: string }[];
    missingMonthlyReports: { period: string };
  };
  expect(q.missingLeader.map((r) => r.projectId)).toEqual([ids.draft]);
  expect(q.counties.map((c) => c.orgId)).toContain('houma');
  const houma = (await get('/supervision/data-quality?county=houma')).body as { missingLeader: unknown[] };
  expect(houma.missingLeader).toEqual([]);

  const xlsx = await download('/supervision/data-quality?county=yaodu&format=xlsx');
  expect(xlsx.status).toBe(200);
  const leaderSheet = (await sheets(xlsx.body as Buffer)).getWorksheet('缺少包联领导')!;
  expect(
    cellsOf(leaderSheet)
      .slice(1)
      .map((r) => r[1]),
  ).toEqual(['谋划中项目']);

  const missing = (await get('/supervision/missing-reports')).body as {
    period: string;
    owed: number;
    missing: unknown[];
  };
  const [y, m] = thisMonth().split('-').map(Number) as [number, number];
  const previous = m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
  // None of these projects is under construction: none owes a monthly report.
  expect(missing).toMatchObject({ period: previous, owed: 0, missing: [] });
  const chosen = (await get('/supervision/missing-reports?period=2026-01&county=houma')).body as {
    period: string;
  };
  expect(chosen.period).toBe('2026-01');
  const missingXlsx = await download('/supervision/missing-reports?format=xlsx');
  expect(missingXlsx.status).toBe(200);
  expect((await sheets(missingXlsx.body as Buffer)).worksheets.map((w) => w.name)).toEqual(['未报月报']);
  expect((await get('/supervision/missing-reports?period=2026-13')).status).toBe(400);
});

test('an applicant and a reviewer are refused the supervision endpoints', async () => {
  for (const path of [
    '/supervision/dashboard',
    '/supervision/overdue',
    '/supervision/data-quality',
    '/supervision/missing-reports',
    '/reports',
  ]) {
    const res = await get(path, 'yaodu', 'applicant');
    expect({ path, status: res.status }).toEqual({ path, status: 403 });
    expect(res.headers['content-type']).toMatch(/problem\+json/);
  }
  expect((await get('/supervision/dashboard', 'housing', 'reviewer')).status).toBe(403);
  expect((await get('/supervision/overdue', 'housing', 'reviewer')).status).toBe(403);
  expect((await get('/reports', 'housing', 'reviewer')).status).toBe(200);
  expect((await request(app).get('/api/v1/supervision/dashboard')).status).toBe(401);
});

test('the OpenAPI document describes the new endpoints, their roles, parameters and answers', async () => {
  const doc = (await request(app).get('/api/v1/openapi.json')).body as {
    paths: Record<string, Record<string, OpenApiOp>>;
  };
  const dashboard = doc.paths['/supervision/dashboard']!.get!;
  expect(dashboard.description).toBe('Roles: supervisor, admin, leader');
  const answer = dashboard.responses['200']!.content['application/json']!.schema;
  expect(Object.keys(answer.properties!)).toEqual(
    expect.arrayContaining(['libraries', 'ended', 'investmentByMonth', 'overdue', 'blockers', 'rankings']),
  );
  expect(dashboard.responses['403']).toBeDefined();

  const reports = doc.paths['/reports']!.get!;
  expect(reports.parameters.map((p) => p.name)).toEqual(['kind', 'page', 'pageSize']);
  expect(
    Object.keys(reports.responses['200']!.content['application/json']!.schema.properties!).sort(),
  ).toEqual(['page', 'pageSize', 'reports', 'total']);

  const overdue = doc.paths['/supervision/overdue']!.get!;
  expect(overdue.parameters.map((p) => p.name)).toEqual([
    'department',
    'county',
    'level',
    'asOf',
    'page',
    'pageSize',
    'format',
  ]);
  for (const path of ['/supervision/data-quality', '/supervision/missing-reports', '/reports/{id}/tables'])
    expect(
      doc.paths[path]?.get?.responses['200']?.content['application/json']?.schema.properties,
    ).toBeDefined();
  // The downloads are documented as what they are (the fuzzer checks every answer's media type against them).
  for (const path of ['/supervision/overdue', '/supervision/data-quality', '/supervision/missing-reports'])
    expect(Object.keys(doc.paths[path]!.get!.responses['200']!.content).sort()).toEqual([
      'application/json',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'text/csv',
    ]);
  expect(Object.keys(doc.paths['/imports/template']!.get!.responses['200']!.content).sort()).toEqual([
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    'text/csv',
  ]);
  expect(doc.paths['/supervision/overdue']!.get!.responses['429']).toBeDefined();
});

interface OverdueRow {
  taskId: string;
  task: string;
  projectId: string;
  county: string;
  countyId: string;
  responsibleOrgId: string;
  dueAt: string;
  workingDaysOverdue: number;
  escalationLevel: number;
}
interface OverduePage {
  asOf: string;
  total: number;
  page: number;
  pageSize: number;
  rows: OverdueRow[];
  facets: {
    departments: { orgId: string; name: string; count: number }[];
    counties: { orgId: string; name: string; count: number }[];
    levels: { level: number; count: number }[];
  };
}
interface ReportList {
  reports: { id: string; kind: string; approval: unknown; projectCount: number }[];
  total: number;
  page: number;
  pageSize: number;
}
interface OpenApiOp {
  description: string;
  parameters: { name: string }[];
  responses: Record<
    string,
    { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } | undefined
  >;
}
