import {
  createNotificationActivities,
  webhookChannelKey,
  type EnqueuedNotification,
  type NotificationActivities,
} from '../../activities/notifications';
import {
  createNotificationModels,
  failingChannels,
  setOrgChannels,
  type NotificationModels,
} from '../../db/notification-models';
import { freePort } from '../../infra/processes';
import {
  eventually,
  startTestSystem,
  type TestNotificationOptions,
  type TestSystem,
} from '../support/harness';

import { SmtpReceiver, WebhookReceiver, type ReceivedMail } from '../support/receivers';

// Test-only secrets; production secrets come from the orgChannels collection.
const SECRET_OK = 'test-webhook-secret-0001';
const SECRET_FLAKY = 'test-webhook-secret-0002';
const SECRET_DOWN = 'test-webhook-secret-0003';
const SECRET_GONE = 'test-webhook-secret-0004';

let sys: TestSystem;
let models: NotificationModels;
let acts: NotificationActivities;
const smtp = new SmtpReceiver();
const mails: ReceivedMail[] = smtp.mails;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  const smtpPort = await smtp.listen();
  const notifications: TestNotificationOptions = {
    smtp: {
      host: '127.0.0.1',
      port: smtpPort,
      secure: false,
      from: '重大项目管理系统 <noreply@pipeline.test>',
    },
    httpTimeoutMs: 2_000,
    failingAfter: 3,
    retry: { initialIntervalMs: 200, backoffCoefficient: 2, maximumIntervalMs: 1_000 },
    dispatch: { perChannel: 3, scanIntervalMs: 200, maxScanIntervalMs: 400 },
  };
  sys = await startTestSystem({ notifications });
  models = createNotificationModels(sys.mongo);
  // The same factory the worker runs; called directly here as the project workflow's activity would be.
  acts = createNotificationActivities({
    ...notifications,
    models,
    client: sys.client,
    taskQueue: sys.taskQueue,
  });
});

afterAll(async () => {
  await sys?.close();
  for (const r of receivers) await r.close();
  await smtp.close();
});

async function receiver(secret: string, port?: number): Promise<{ r: WebhookReceiver; port: number }> {
  const r = new WebhookReceiver(secret);
  receivers.push(r);
  return { r, port: await r.listen(port) };
}

/** The outcome of one outbox document: its final record, once the dispatcher has written it. */
async function resultOf(
  n: EnqueuedNotification,
): Promise<{ outboxId: string; status: string; reason?: string }> {
  expect(n.status).toBe('PENDING');
  const doc = await eventually(
    () => models.Notification.findById(n.outboxId).lean(),
    (d) => d !== null,
    30_000,
  );
  return { outboxId: n.outboxId, status: doc!.status, ...(doc!.lastError ? { reason: doc!.lastError } : {}) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const REMINDER_PAYLOAD = {
  projectId: 'p-001',
  projectName: '临汾市汾河东岸综合整治项目',
  taskTitle: '用地预审与选址意见书',
  dueAt: '2025-10-30T09:00:00.000Z',
  workingDaysLeft: 3,
};

test('a healthy webhook receives each notification exactly once with a valid signature, even when enqueued twice', async () => {
  const { r, port } = await receiver(SECRET_OK);
  const url = `http://127.0.0.1:${port}/robot/send?access_token=tok-123`;
  await setOrgChannels(models, 'fgw', { webhooks: [{ url, secret: SECRET_OK }] });
  const input = {
    notificationKey: 'p-001:task-7:reminder:3',
    recipients: [{ org: 'fgw' }],
    template: 'REMINDER',
    payload: REMINDER_PAYLOAD,
  };

  const [first, second] = await Promise.all([
    acts.enqueueNotifications(input),
    acts.enqueueNotifications(input),
  ]);
  const queued = first.notifications[0]!;
  expect(first.notifications).toHaveLength(1);
  expect(second.notifications[0]!.outboxId).toBe(queued.outboxId);
  expect(await resultOf(queued)).toEqual({ outboxId: queued.outboxId, status: 'SENT' });
  const again = await acts.enqueueNotifications(input);
  await sleep(1_000);

  expect(again.notifications[0]).toMatchObject({ outboxId: queued.outboxId, status: 'SENT' });
  expect(await models.NotificationOutbox.findById(queued.outboxId).lean()).toBeNull();
  expect(r.received).toHaveLength(1);
  const hook = r.received[0]!;
  expect(hook.signatureValid).toBe(true);
  expect(hook.headers['x-notification-id']).toBe(queued.outboxId);
  expect(Number(hook.headers['x-timestamp'])).toBeGreaterThan(0);
  expect(hook.body).toMatchObject({
    notificationId: queued.outboxId,
    template: 'REMINDER',
    recipient: { org: 'fgw' },
    subject: '【提醒】临汾市汾河东岸综合整治项目「用地预审与选址意见书」将于2025年10月30日 17:00到期',
    payload: REMINDER_PAYLOAD,
  });
  expect(hook.body.text).toContain('剩余 3 个工作日');
  const doc = await models.Notification.findById(queued.outboxId).lean();
  expect(doc).toMatchObject({ status: 'SENT', attempts: 1, lastError: null });
  expect(doc!.channel!.target).toBe(`http://127.0.0.1:${port}/robot/send`); // the access token stays out of the outbox
  expect(JSON.stringify(doc)).not.toContain('tok-123');
});

test('an e-mail arrives at the SMTP server with the rendered Chinese subject and a stable Message-ID', async () => {
  await setOrgChannels(models, 'zrzy', { emails: ['duban@zrzy.test'] });
  const result = await acts.enqueueNotifications({
    notificationKey: 'p-002:task-3:escalation:L2',
    recipients: [{ org: 'zrzy' }, { person: { name: '张伟', email: 'zhangwei@leader.test' } }],
    template: 'ESCALATION',
    payload: {
      projectName: '尧都区智慧物流园',
      taskTitle: '环评批复',
      dueAt: '2025-10-30T09:00:00.000Z',
      overdueWorkingDays: 3,
      level: 2,
      levelLabel: '专项推进组',
    },
  });

  expect(result.notifications.map((n) => n.channel?.target)).toEqual([
    'duban@zrzy.test',
    'zhangwei@leader.test',
  ]);
  for (const n of result.notifications) expect((await resultOf(n))?.status).toBe('SENT');
  const toOrg = mails.find((m) => m.to.includes('duban@zrzy.test'));
  const toPerson = mails.find((m) => m.to.includes('zhangwei@leader.test'));
  expect(toOrg?.headers.get('subject')).toBe('【督办】尧都区智慧物流园「环评批复」已逾期3个工作日');
  expect(toOrg?.headers.get('x-notification-id')).toBe(result.notifications[0]!.outboxId);
  expect(toOrg?.headers.get('message-id')).toMatch(/^<[0-9a-f]{32}@pipeline\.test>$/);
  expect(toPerson?.headers.get('message-id')).not.toBe(toOrg?.headers.get('message-id'));
  expect(mails.filter((m) => m.to.includes('duban@zrzy.test'))).toHaveLength(1);
});

test('a receiver answering 500 is marked failing, then gets the notification once it recovers, and is healthy again', async () => {
  const { r, port } = await receiver(SECRET_FLAKY);
  r.answer = 500;
  const url = `http://127.0.0.1:${port}/hook`;
  await setOrgChannels(models, 'jtj', { webhooks: [{ url, secret: SECRET_FLAKY }] });
  const channelKey = webhookChannelKey(url);

  const { notifications } = await acts.enqueueNotifications({
    notificationKey: 'report:2025-10',
    recipients: [{ org: 'jtj' }],
    template: 'REPORT_READY',
    payload: { reportTitle: '月度调度报告', period: '2025年10月' },
  });
  const failing = await eventually(
    () => failingChannels(models),
    (list) => list.some((c) => c._id === channelKey),
  );
  expect(failing.find((c) => c._id === channelKey)).toMatchObject({
    org: 'jtj',
    lastError: expect.stringContaining('HTTP 500'),
  });
  expect(await acts.listFailingChannels()).toEqual(
    expect.arrayContaining([expect.objectContaining({ channelKey, target: url, kind: 'webhook' })]),
  );
  r.answer = 200;

  expect((await resultOf(notifications[0]!))?.status).toBe('SENT');
  await sleep(500);
  expect(r.received.length).toBeGreaterThanOrEqual(4);
  expect(r.accepted()).toHaveLength(1);
  expect(
    r.received.every((h) => h.signatureValid && h.body.notificationId === notifications[0]!.outboxId),
  ).toBe(true);
  expect(r.accepted()[0]!.body.subject).toBe('【报告】2025年10月 月度调度报告已生成');
  const health = await models.ChannelHealth.findById(channelKey).lean();
  expect(health).toMatchObject({ failing: false, consecutiveFailures: 0 });
  expect((await failingChannels(models)).map((c) => c._id)).not.toContain(channelKey);
  const doc = await models.Notification.findById(notifications[0]!.outboxId).lean();
  expect(doc!.attempts).toBe(r.received.length);
});

test('a receiver that is down (nothing listening) gets the notification once it starts', async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/hook`;
  await setOrgChannels(models, 'slj', { webhooks: [{ url, secret: SECRET_DOWN }] });
  const channelKey = webhookChannelKey(url);

  const { notifications } = await acts.enqueueNotifications({
    notificationKey: 'generic:water-1',
    recipients: [{ org: 'slj' }],
    template: 'GENERIC',
    payload: { subject: '系统维护', text: '今晚 22:00 系统维护。' },
  });
  await eventually(
    () => models.ChannelHealth.findById(channelKey).lean(),
    (h) => h?.failing === true,
  );
  const { r } = await receiver(SECRET_DOWN, port);

  expect((await resultOf(notifications[0]!))?.status).toBe('SENT');
  expect(r.received).toHaveLength(1);
  expect(r.received[0]!.signatureValid).toBe(true);
  expect(await models.ChannelHealth.findById(channelKey).lean()).toMatchObject({
    failing: false,
    consecutiveFailures: 0,
  });
});

test('an organisation without channels yields a NO_CHANNEL record and nothing in the outbox', async () => {
  const { notifications } = await acts.enqueueNotifications({
    notificationKey: 'p-003:task-1:reminder:1',
    recipients: [{ org: 'org-without-channels' }],
    template: 'REMINDER',
    payload: REMINDER_PAYLOAD,
  });

  expect(notifications).toEqual([expect.objectContaining({ status: 'NO_CHANNEL', channel: null })]);
  const doc = await models.Notification.findById(notifications[0]!.outboxId).lean();
  expect(doc).toMatchObject({
    status: 'NO_CHANNEL',
    recipient: { org: 'org-without-channels' },
    attempts: 0,
  });
  expect(doc!.subject).toContain('【提醒】');
});

test('a receiver refusing with 404 is recorded FAILED after one attempt, without retries', async () => {
  const { r, port } = await receiver(SECRET_GONE);
  r.answer = 404;
  await setOrgChannels(models, 'wlj', {
    webhooks: [{ url: `http://127.0.0.1:${port}/gone`, secret: SECRET_GONE }],
  });

  const { notifications } = await acts.enqueueNotifications({
    notificationKey: 'generic:gone-1',
    recipients: [{ org: 'wlj' }],
    template: 'GENERIC',
    payload: { subject: '测试', text: '测试' },
  });

  const result = await resultOf(notifications[0]!);
  expect(result).toMatchObject({ status: 'FAILED', reason: expect.stringContaining('HTTP 404') });
  expect(r.received).toHaveLength(1);
  expect(await models.Notification.findById(notifications[0]!.outboxId).lean()).toMatchObject({
    status: 'FAILED',
    attempts: 1,
  });
});

test('a burst to one slow receiver is delivered once each, never more than the channel’s limit at a time', async () => {
  const { r, port } = await receiver(SECRET_OK);
  r.delayMs = 50;
  await setOrgChannels(models, 'burst-org', {
    webhooks: [{ url: `http://127.0.0.1:${port}/burst`, secret: SECRET_OK }],
  });
  const keys = Array.from({ length: 40 }, (_, i) => `burst:${i}`);

  const { refused } = await acts.enqueueNotificationBatch({
    notifications: keys.map((notificationKey) => ({
      notificationKey,
      recipients: [{ org: 'burst-org' }],
      template: 'GENERIC',
      payload: { subject: '批量', text: '批量测试' },
    })),
  });

  expect(refused).toEqual([]);
  await eventually(
    () => models.Notification.countDocuments({ notificationKey: { $in: keys }, status: 'SENT' }),
    (n) => n === keys.length,
    30_000,
  );
  const ids = r.accepted().map((h) => String(h.headers['x-notification-id']));
  expect(ids).toHaveLength(keys.length);
  expect(new Set(ids).size).toBe(keys.length);
  expect(r.maxInFlight).toBeLessThanOrEqual(3);
  expect(r.maxInFlight).toBeGreaterThan(1); // sends to one channel do overlap
  expect(await models.NotificationOutbox.countDocuments({ notificationKey: { $in: keys } })).toBe(0);
});

test('notifications waiting while the worker stops are delivered once by the next worker', async () => {
  const port = await freePort();
  await setOrgChannels(models, 'restart-org', {
    webhooks: [{ url: `http://127.0.0.1:${port}/hook`, secret: SECRET_DOWN }],
  });
  const keys = Array.from({ length: 5 }, (_, i) => `restart:${i}`);
  for (const notificationKey of keys)
    await acts.enqueueNotifications({
      notificationKey,
      recipients: [{ org: 'restart-org' }],
      template: 'GENERIC',
      payload: { subject: '重启', text: '重启测试' },
    });
  // Each has been tried and waits for its retry when the worker goes away.
  await eventually(
    () => models.NotificationOutbox.find({ notificationKey: { $in: keys } }).lean(),
    (docs) => docs.length === keys.length && docs.every((d) => d.attempts >= 1),
  );
  await sys.stopWorker();
  const { r } = await receiver(SECRET_DOWN, port);
  await sleep(1_000);
  expect(r.received).toHaveLength(0); // nobody delivers while no worker runs

  await sys.startWorker();

  await eventually(
    () => models.Notification.countDocuments({ notificationKey: { $in: keys }, status: 'SENT' }),
    (n) => n === keys.length,
    30_000,
  );
  await sleep(500);
  const ids = r.received.map((h) => String(h.headers['x-notification-id']));
  expect(ids.sort()).toEqual(
    keys.map((k) => `${k}|org:restart-org|${webhookChannelKey(`http://127.0.0.1:${port}/hook`)}`).sort(),
  );
});
