import request from 'supertest';
import type { Express } from 'express';
import ExcelJS from 'exceljs';
import { createNotificationModels } from '../../db/notification-models';
import { snapshotStages } from '../../db/supervision-models';
import { ensureSupervisionSchedules } from '../../infra/schedules';
import { shanghaiDayOf } from '../../calendar';
import { eventually, startTestSystem, type TestSystem } from '../support/harness';
import { LifecycleDriver } from '../support/lifecycle-driver';
import { secondsPolicy } from '../support/policies';
import { testApp, token } from '../support/api';

let sys: TestSystem;
let app: Express;
let d: LifecycleDriver;

beforeAll(async () => {
  const policy = secondsPolicy(600);
  policy.reserve.staleAfterSeconds = 8;
  sys = await startTestSystem({ policy });
  app = testApp(sys);
  d = new LifecycleDriver(sys);
});
afterAll(async () => {
  await sys?.close();
});

const auth = async (org: string, role: string) => `Bearer ${await token(`${org}-${role}`, org, role)}`;

test('the quarterly adjustment proposes exactly the stale projects and removes one on approval, recording reason and approver', async () => {
  const stale = await d.create();
  await d.toReserve(stale);
  await eventually(
    () => sys.models.Project.findById(stale).lean(),
    (p) => (p?.flags as { stale?: boolean })?.stale === true,
    30_000,
  );
  const fresh = await d.create({ name: '新入库项目' });
  await d.toReserve(fresh);
  const draft = await d.create({ name: '谋划中项目' });

  const run = await sys.client.workflow.execute('supervisionRun', {
    taskQueue: sys.taskQueue,
    workflowId: `adjustment-${stale}`,
    args: [{ kind: 'QUARTERLY_ADJUSTMENT', period: '2026-Q3', force: true }],
  });
  expect(run).toMatchObject({ ran: true, snapshotId: 'QUARTERLY_ADJUSTMENT:2026-Q3', proposals: 1 });
  const list = await request(app)
    .get('/api/v1/proposals')
    .set('Authorization', await auth('project-center', 'supervisor'));
  expect((list.body.proposals as { projectId: string }[]).map((p) => p.projectId)).toEqual([stale]);
  expect([fresh, draft]).not.toContain(list.body.proposals[0].projectId);

  const proposalId = `2026-Q3:${stale}`;
  const wrongGroup = await request(app)
    .post(`/api/v1/proposals/${proposalId}/decision`)
    .set('Authorization', await auth('sg-urban', 'leader'))
    .send({ decision: 'APPROVE', reason: 'OTHER', explanation: '长期未推进' });
  expect(wrongGroup.status).toBe(403);
  const approved = await request(app)
    .post(`/api/v1/proposals/${proposalId}/decision`)
    .set('Authorization', await auth('leading-group', 'leader'))
    .send({ decision: 'APPROVE', reason: 'OTHER', explanation: '长期未取得审批进展，按程序调出库' });
  expect(approved.status).toBe(200);
  expect(approved.body).toMatchObject({ status: 'APPROVED', decidedBy: 'leading-group-leader' });
  const final = await sys.projects.handle(stale).result();
  expect(final).toMatchObject({
    stage: 'REMOVED',
    removal: {
      reason: 'OTHER',
      approver: 'leading-group-leader',
      explanation: '长期未取得审批进展，按程序调出库',
    },
  });
  const again = await request(app)
    .post(`/api/v1/proposals/${proposalId}/decision`)
    .set('Authorization', await auth('leading-group', 'leader'))
    .send({ decision: 'REJECT', explanation: '再议' });
  expect(again.status).toBe(409);
  // Its portfolio is asked for a replacement project.
  await eventually(
    () => createNotificationModels(sys.mongo).Notification.find({ 'recipient.org': 'sg-urban' }).lean(),
    (n) => n.some((x) => String(x._id).startsWith(`${stale}:replacement`)),
  );
  // A second run of the same quarter changes nothing: snapshots are immutable.
  const rerun = await sys.client.workflow.execute('supervisionRun', {
    taskQueue: sys.taskQueue,
    workflowId: `adjustment-again-${stale}`,
    args: [{ kind: 'QUARTERLY_ADJUSTMENT', period: '2026-Q3', force: true }],
  });
  expect(rerun.ran).toBe(false);
});

test('a scheduled dispatch run (postponed to today by the leading group) stores the report; the .xlsx download holds the same numbers', async () => {
  const id = await d.create({
    name: '调度测试项目',
    portfolio: 'sg-infrastructure',
    county: 'houma',
    industry: 'transport',
    responsibleDept: 'transport',
  });
  const today = shanghaiDayOf(Date.now());
  const month = today.slice(0, 7);
  const postpone = await request(app)
    .post('/api/v1/reports/dispatch-postponement')
    .set('Authorization', await auth('leading-group', 'leader'))
    .send({ month, postponedTo: today, reason: '测试：调度会顺延至今日' });
  expect(postpone.status).toBe(200);
  await ensureSupervisionSchedules(sys.client, sys.taskQueue, sys.policy.supervision);
  await ensureSupervisionSchedules(sys.client, sys.taskQueue, sys.policy.supervision); // idempotent
  await sys.client.schedule.getHandle('supervision-monthly-dispatch').trigger();
  const snapshot = await eventually(
    () => sys.supervisionModels.ReportSnapshot.findById(`MONTHLY_DISPATCH:${month}`).lean(),
    (s) => s !== null,
    30_000,
  );
  expect(snapshot!.policyVersion).toBe(sys.policy.version);
  const report = snapshot!.report as {
    dispatch: {
      rows: {
        orgId: string;
        libraries: Record<string, number>;
        totalProjects: number;
        newProjects: number;
        annualPlan: { wan: string };
      }[];
    };
  };
  // The stage map lives beside the snapshot (it would outgrow one document at ~100,000 projects).
  expect(report).not.toHaveProperty('stages');
  expect((await snapshotStages(sys.supervisionModels, `MONTHLY_DISPATCH:${month}`))?.[id]).toBe('DRAFT');
  // Hand-computed: the only sg-infrastructure project is this DRAFT one, created this month, annual plan 120,000,000 元.
  const row = report.dispatch.rows.find((r) => r.orgId === 'sg-infrastructure')!;
  expect(row).toMatchObject({
    totalProjects: 1,
    newProjects: 1,
    libraries: { 谋划: 1, 储备: 0, 前期: 0, 实施: 0 },
  });
  const json = await request(app)
    .get(`/api/v1/reports/MONTHLY_DISPATCH:${month}`)
    .set('Authorization', await auth('project-center', 'supervisor'));
  expect(json.status).toBe(200);
  const xlsx = await request(app)
    .get(`/api/v1/reports/MONTHLY_DISPATCH:${month}?format=xlsx&table=dispatch`)
    .set('Authorization', await auth('project-center', 'supervisor'))
    .buffer(true)
    .parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    });
  expect(xlsx.status).toBe(200);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(xlsx.body as never);
  const sheetRow = wb.worksheets
    .flatMap((ws) => ws.getSheetValues())
    .find((r) => Array.isArray(r) && r.includes('基础设施专项推进组')) as unknown[] | undefined;
  expect(sheetRow).toBeDefined();
  const values = sheetRow!.map((v) => String(v));
  expect(values).toContain('1'); // 谋划 1, new 1, total 1
  expect(values.some((v) => Number(v) === Number(row.annualPlan.wan) || v === row.annualPlan.wan)).toBe(true);
  await sys.client.schedule.getHandle('supervision-monthly-dispatch').delete();
  for (const s of [
    'supervision-quarterly-adjustment',
    'supervision-quarterly-bulletin',
    'supervision-annual-assessment',
  ])
    await sys.client.schedule.getHandle(s).delete();
});
