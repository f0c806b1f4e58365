import request from 'supertest';
import type { Express } from 'express';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { ensureSupervisionSchedules } from '../../infra/schedules';
import type { SupervisionRunResult } from '../../workflows/supervision';
import { eventually, startTestSystem, type TestSystem } from '../support/harness';
import { LifecycleDriver } from '../support/lifecycle-driver';
import { testApp, token } from '../support/api';

// 2026: 30 November is a Monday and the last working day of November; 2 December a Wednesday; 31 December a
// Thursday and the last working day of December (the calendar data covers 2026).
const at = (day: string, time = '16:00') => new Date(`${day}T${time}:00+08:00`);
const DISPATCH = 'supervision-monthly-dispatch';

let sys: TestSystem;
let app: Express;
let d: LifecycleDriver;

beforeAll(async () => {
  sys = await startTestSystem();
  app = testApp(sys);
  d = new LifecycleDriver(sys);
  await ensureSupervisionSchedules(sys.client, sys.taskQueue, sys.policy.supervision);
});
afterAll(async () => {
  for (const id of [
    DISPATCH,
    'supervision-quarterly-adjustment',
    'supervision-quarterly-bulletin',
    'supervision-annual-assessment',
  ])
    await sys?.client.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined);
  await sys?.close();
});

const auth = async (org: string, role: string) => `Bearer ${await token(`${org}-${role}`, org, role)}`;

/** The dispatch schedule's runs for the days from `first` to `last`, as if it had fired on each (a backfill). */
async function scheduledRunsFor(first: string, last: string) {
  const [from, to] = [at(first, '00:00'), at(last, '23:59')];
  const handle = sys.client.schedule.getHandle(DISPATCH);
  await handle.backfill({ start: from, end: to, overlap: ScheduleOverlapPolicy.BUFFER_ALL });
  const days = Math.round((to.getTime() - from.getTime()) / 86_400_000);
  const actions = await eventually(
    async () =>
      (await handle.describe()).info.recentActions.filter(
        (a) => a.scheduledAt >= from && a.scheduledAt <= to,
      ),
    (list) => list.length === days,
    60_000,
  );
  return Promise.all(
    actions.map(async (a) => ({
      day: new Date(a.scheduledAt.getTime() + 8 * 3_600_000).toISOString().slice(0, 10),
      result: (await sys.client.workflow
        .getHandle(a.action.workflow.workflowId)
        .result()) as SupervisionRunResult,
    })),
  );
}

test('a dispatch postponed from 30 November to 2 December producing November’s report on 2 December, once', async () => {
  // Arrange
  const id = await d.create({ name: '顺延调度测试项目', portfolio: 'sg-infrastructure' });
  await eventually(
    () => sys.models.Project.findById(id).lean(),
    (p) => p !== null,
  );
  const postpone = await request(app)
    .post('/api/v1/reports/dispatch-postponement')
    .set('Authorization', await auth('leading-group', 'leader'))
    .send({ month: '2026-11', postponedTo: '2026-12-02', reason: '市长出席省级会议，调度会顺延' });
  expect(postpone.status).toBe(200);

  // Act: the daily dispatch check fires on 30 November, 1, 2 and 3 December
  const runs = await scheduledRunsFor('2026-11-30', '2026-12-03');

  // Assert
  const byDay = Object.fromEntries(runs.map((r) => [r.day, r.result]));
  expect(byDay).toEqual({
    '2026-11-30': {
      ran: false,
      reason: 'the dispatch meeting of 2026-11 is on 2026-12-02',
    },
    '2026-12-01': { ran: false, reason: 'the dispatch meeting of 2026-12 is on 2026-12-31' },
    '2026-12-02': {
      ran: true,
      snapshotId: 'MONTHLY_DISPATCH:2026-11',
      snapshotIds: ['MONTHLY_DISPATCH:2026-11'],
      proposals: 0,
    },
    '2026-12-03': { ran: false, reason: 'the dispatch meeting of 2026-12 is on 2026-12-31' },
  });
  const report = await request(app)
    .get('/api/v1/reports/MONTHLY_DISPATCH:2026-11')
    .set('Authorization', await auth('project-center', 'supervisor'));
  expect(report.status).toBe(200);
  expect(report.body).toMatchObject({ kind: 'MONTHLY_DISPATCH', period: '2026-11' });
  expect(report.body.report.stages[id]).toBe('DRAFT');
  expect(report.body.report.dispatch.period).toBe('2026年11月');
  expect(await sys.supervisionModels.ReportSnapshot.countDocuments({ kind: 'MONTHLY_DISPATCH' })).toBe(1);

  // A second check on 2 December (a retried or duplicated run) reports nothing twice.
  const again = await sys.client.workflow.execute('supervisionRun', {
    taskQueue: sys.taskQueue,
    workflowId: `dispatch-again-${id}`,
    args: [{ kind: 'MONTHLY_DISPATCH', at: at('2026-12-02').getTime() }],
  });
  expect(again).toEqual({
    ran: false,
    reason: 'the MONTHLY_DISPATCH report for 2026-11 already exists (snapshots are immutable)',
  });
});

test('the regular December dispatch still runs on 31 December, its conversion figures taken from November’s snapshot', async () => {
  // Arrange: November's report exists (made by the test above, or here when this test runs alone); October's does not.
  await sys.client.workflow.execute('supervisionRun', {
    taskQueue: sys.taskQueue,
    workflowId: `dispatch-november-${Date.now()}`,
    args: [{ kind: 'MONTHLY_DISPATCH', period: '2026-11', force: true }],
  });
  const november = await sys.supervisionModels.ReportSnapshot.findById('MONTHLY_DISPATCH:2026-11').lean();

  // Act
  const run = await sys.client.workflow.execute('supervisionRun', {
    taskQueue: sys.taskQueue,
    workflowId: `dispatch-december-${Date.now()}`,
    args: [{ kind: 'MONTHLY_DISPATCH', at: at('2026-12-31').getTime() }],
  });

  // Assert
  expect(run).toEqual({
    ran: true,
    snapshotId: 'MONTHLY_DISPATCH:2026-12',
    snapshotIds: ['MONTHLY_DISPATCH:2026-12'],
    proposals: 0,
  });
  type Dispatch = { total: { converted: number | null }; warnings: string[] };
  const december = await sys.supervisionModels.ReportSnapshot.findById('MONTHLY_DISPATCH:2026-12').lean();
  const [nov, dec] = [november!.report.dispatch as Dispatch, december!.report.dispatch as Dispatch];
  // Without October's snapshot November has no stage history; December has November's.
  expect(nov.total.converted).toBeNull();
  expect(nov.warnings).toContain('no stage history supplied: conversions not computed');
  expect(dec.total.converted).toEqual(expect.any(Number));
  expect(dec.warnings).not.toContain('no stage history supplied: conversions not computed');
});
