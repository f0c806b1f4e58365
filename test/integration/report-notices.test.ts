import request from 'supertest';
import { createNotificationModels, setOrgChannels } from '../../db/notification-models';
import { testApp, token } from '../support/api';
import { eventually, startTestSystem, type TestSystem } from '../support/harness';
import { WebhookReceiver } from '../support/receivers';

const SECRET = 'report-notice-webhook-secret';
let sys: TestSystem;
/** Three recipients of a supervision report, each with a channel of its own. */
const hooks = {
  'leading-group': new WebhookReceiver(SECRET),
  'sg-urban': new WebhookReceiver(SECRET),
  finance: new WebhookReceiver(SECRET),
};

beforeAll(async () => {
  sys = await startTestSystem({
    notifications: {
      smtp: { host: '127.0.0.1', port: 1, from: 'test <test@localhost>' },
      retry: { initialIntervalMs: 200, backoffCoefficient: 2, maximumIntervalMs: 1000 },
    },
  });
  const models = createNotificationModels(sys.mongo);
  for (const [org, hook] of Object.entries(hooks))
    await setOrgChannels(models, org, {
      webhooks: [{ url: `http://127.0.0.1:${await hook.listen()}/hook`, secret: SECRET }],
    });
});
afterAll(async () => {
  await sys?.close();
  await Promise.all(Object.values(hooks).map((h) => h.close()));
});

test('a supervision report’s notice reaches every recipient organisation with a channel, once each', async () => {
  // Act: a manual dispatch run, as `POST /reports/run` starts it
  await sys.client.workflow.execute('supervisionRun', {
    taskQueue: sys.taskQueue,
    workflowId: `report-notices-${Date.now()}`,
    args: [{ kind: 'MONTHLY_DISPATCH', period: '2026-10', force: true }],
  });

  // Assert: each organisation's own webhook got the notice (before the fix only the first one did)
  for (const [org, hook] of Object.entries(hooks)) {
    const got = await eventually(
      () => Promise.resolve(hook.accepted()),
      (d) => d.length >= 1,
      30_000,
    ).catch(() => {
      throw new Error(`${org} received no report notice`);
    });
    expect(got[0]!.body).toMatchObject({ template: 'REPORT_READY' });
  }
  const ids = Object.values(hooks).map((h) => h.accepted()[0]!.headers['x-notification-id']);
  expect(new Set(ids).size).toBe(3);
  await new Promise((r) => setTimeout(r, 1000));
  for (const hook of Object.values(hooks)) expect(hook.accepted()).toHaveLength(1);
});

test('annual assessment results reach departments only once the leading group has approved them', async () => {
  // Arrange: the assessment of 2025 is computed; only the leading group is told that it awaits approval
  await sys.client.workflow.execute('supervisionRun', {
    taskQueue: sys.taskQueue,
    workflowId: `assessment-${Date.now()}`,
    args: [{ kind: 'ANNUAL_ASSESSMENT', period: '2025', force: true }],
  });
  const app = testApp(sys);
  const as = async (org: string, role: string) => `Bearer ${await token(`${org}-${role}`, org, role)}`;
  const before = hooks.finance.accepted().length;

  // Act / Assert: a department cannot read it yet, nor can a special group approve it
  const early = await request(app)
    .get('/api/v1/reports/ANNUAL_ASSESSMENT:2025')
    .set('Authorization', await as('finance', 'reviewer'));
  expect(early.status).toBe(404);
  const wrong = await request(app)
    .post('/api/v1/reports/ANNUAL_ASSESSMENT:2025/approval')
    .set('Authorization', await as('sg-urban', 'leader'));
  expect(wrong.status).toBe(403);
  const approved = await request(app)
    .post('/api/v1/reports/ANNUAL_ASSESSMENT:2025/approval')
    .set('Authorization', await as('leading-group', 'leader'));
  expect(approved.status).toBe(200);
  const again = await request(app)
    .post('/api/v1/reports/ANNUAL_ASSESSMENT:2025/approval')
    .set('Authorization', await as('leading-group', 'leader'));
  expect(again.status).toBe(409);

  // The department is told, and reads it now
  await eventually(
    () => Promise.resolve(hooks.finance.accepted().length),
    (n) => n > before,
    30_000,
  );
  expect(hooks.finance.accepted().at(-1)!.body.subject).toContain('年度考核结果已审定');
  const late = await request(app)
    .get('/api/v1/reports/ANNUAL_ASSESSMENT:2025')
    .set('Authorization', await as('finance', 'reviewer'));
  expect(late.status).toBe(200);
});
