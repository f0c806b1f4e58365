import { NativeConnection } from '@temporalio/worker';
import mongoose from 'mongoose';
import {
  createNotificationActivities,
  type EnqueueNotificationsInput,
  type NotificationActivities,
} from '../../activities/notifications';
import {
  createNotificationModels,
  setOrgChannels,
  type NotificationModels,
} from '../../db/notification-models';
import { createWorker } from '../../worker/create-worker';
import {
  eventually,
  stackEnv,
  startTestSystem,
  type TestNotificationOptions,
  type TestSystem,
} from '../support/harness';
import { WebhookReceiver } from '../support/receivers';
import { MongoFaultProxy } from '../support/mongo-fault-proxy';

const SECRET = 'outbox-defects-webhook-secret';
const NOTIFICATIONS: TestNotificationOptions = {
  smtp: { host: '127.0.0.1', port: 1, from: 'test <test@localhost>' },
  httpTimeoutMs: 5_000,
  retry: { initialIntervalMs: 200, backoffCoefficient: 2, maximumIntervalMs: 1_000 },
  dispatch: { scanIntervalMs: 200, maxScanIntervalMs: 400 },
};

let sys: TestSystem;
/** The test's database, reached directly. */
let direct: NotificationModels;
/** The same database through the fault proxy: what a process whose network to Mongo breaks sees. */
let proxied: NotificationModels;
let proxiedConnection: mongoose.Connection;
let proxy: MongoFaultProxy;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  sys = await startTestSystem({ notifications: NOTIFICATIONS });
  // Each test runs the workers it needs (some reach Mongo through the proxy).
  await sys.stopWorker();
  direct = createNotificationModels(sys.mongo);
  const ferret = new URL(stackEnv().mongoBase);
  proxy = new MongoFaultProxy({ host: ferret.hostname, port: Number(ferret.port) });
  const uri = new URL(sys.mongoUri);
  uri.host = `127.0.0.1:${await proxy.listen()}`;
  // A short server selection: a write while Mongo is unreachable fails within a second, as it would in production
  // after its (longer) timeout.
  proxiedConnection = await mongoose
    .createConnection(uri.toString(), {
      serverSelectionTimeoutMS: 1_000,
      retryWrites: false,
      autoIndex: false,
    })
    .asPromise();
  proxied = createNotificationModels(proxiedConnection);
});

afterAll(async () => {
  await proxiedConnection?.close(true);
  await proxy?.close();
  await sys?.close();
  for (const r of receivers) await r.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function webhookOf(org: string): Promise<WebhookReceiver> {
  const r = new WebhookReceiver(SECRET);
  receivers.push(r);
  const port = await r.listen();
  await setOrgChannels(direct, org, { webhooks: [{ url: `http://127.0.0.1:${port}/hook`, secret: SECRET }] });
  return r;
}

/** The notification activities of a process that reaches Mongo through `models`. */
function activitiesOn(models: NotificationModels): NotificationActivities {
  return createNotificationActivities({
    ...NOTIFICATIONS,
    models,
    client: sys.client,
    taskQueue: sys.taskQueue,
  });
}

/** A worker process of the test's task queue (its dispatcher delivers the outbox) whose notifications use `models`. */
async function startWorker(
  models: NotificationModels,
  dispatch: TestNotificationOptions['dispatch'] = NOTIFICATIONS.dispatch,
): Promise<{ stop(): Promise<void> }> {
  const connection = await NativeConnection.connect({ address: stackEnv().address });
  const worker = await createWorker({
    connection,
    namespace: 'default',
    taskQueue: sys.taskQueue,
    models: sys.models,
    calendarModels: sys.calendarModels,
    supervisionModels: sys.supervisionModels,
    policy: sys.policy,
    notifications: { ...NOTIFICATIONS, dispatch, models, client: sys.client, taskQueue: sys.taskQueue },
    workflowBundle: { codePath: stackEnv().bundle },
  });
  const running = worker.run();
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        worker.shutdown();
        await running;
        await connection.close();
      })();
      return stopped;
    },
  };
}

/**
 * Waits until a worker's dispatcher delivers: a new worker takes the dispatcher over only once Temporal gives up on
 * the stopped one's sticky queue, some seconds after it stopped.
 */
async function dispatcherDelivering(probe: WebhookReceiver, org: string): Promise<void> {
  const before = probe.accepted().length;
  await activitiesOn(direct).enqueueNotifications(notice(`probe:${Date.now()}`, org));
  await eventually(
    () => Promise.resolve(probe.accepted().length),
    (n) => n > before,
    30_000,
  );
}

function notice(key: string, org: string): EnqueueNotificationsInput {
  return {
    notificationKey: key,
    recipients: [{ org }],
    template: 'GENERIC',
    payload: { subject: '测试', text: '缺陷回归测试' },
  };
}

test('an enqueue retried after its notification was delivered does not put it back in the outbox, so no other worker sends it again', async () => {
  // Arrange: the notification is delivered and recorded final by one worker, which then goes away
  const hook = await webhookOf('retried-enqueue-org');
  const input = notice('defect-1:retried-enqueue', 'retried-enqueue-org');
  const first = await startWorker(direct);
  const [queued] = (await activitiesOn(direct).enqueueNotifications(input)).notifications;
  await eventually(
    () => direct.Notification.findById(queued!.outboxId).lean(),
    (d) => d?.status === 'SENT',
    30_000,
  );
  await first.stop();
  // The next worker's dispatcher has not seen that delivery.
  const next = await startWorker(direct);
  try {
    await dispatcherDelivering(await webhookOf('retried-enqueue-probe'), 'retried-enqueue-probe');

    // Act: the same enqueue, retried by a process whose connection to Mongo breaks right after any outbox insert
    proxy.cutAfterReply('insert', 'notificationOutbox');
    const retried = await activitiesOn(proxied)
      .enqueueNotifications(input)
      .catch((err: unknown) => err);
    await sleep(2_000); // a document put back would be read and sent within a few outbox reads

    // Assert
    expect(hook.accepted()).toHaveLength(1);
    expect(await direct.NotificationOutbox.countDocuments({ notificationKey: input.notificationKey })).toBe(
      0,
    );
    expect(retried).toEqual({
      notifications: [expect.objectContaining({ outboxId: queued!.outboxId, status: 'SENT' })],
    });
  } finally {
    proxy.disarm();
    proxy.restore();
    await next.stop();
  }
});

test('results a stopping dispatcher cannot write while Mongo is away are written once it is back, so the next worker sends nothing again', async () => {
  // Arrange: a slow receiver, so the send is under way when the worker's network to Mongo breaks
  const hook = await webhookOf('unrecorded-org');
  hook.delayMs = 1_000;
  const input = notice('defect-2:unrecorded', 'unrecorded-org');
  const first = await startWorker(proxied);
  try {
    const [queued] = (await activitiesOn(direct).enqueueNotifications(input)).notifications;
    await eventually(
      () => Promise.resolve(hook.maxInFlight),
      (n) => n >= 1,
      30_000,
    );

    // Act: Mongo becomes unreachable and the worker is stopped; Mongo comes back a few seconds later
    proxy.cut();
    const stopping = first.stop();
    await sleep(6_000);
    proxy.restore();
    await stopping;
    hook.delayMs = 0;
    const next = await startWorker(direct);
    try {
      await dispatcherDelivering(await webhookOf('unrecorded-probe'), 'unrecorded-probe');
      const final = await eventually(
        () => direct.Notification.findById(queued!.outboxId).lean(),
        (d) => d !== null,
        30_000,
      );
      await sleep(1_000); // a second send would come within a few outbox reads

      // Assert
      expect(hook.received).toHaveLength(1);
      expect(final).toMatchObject({ status: 'SENT', attempts: 1 });
      expect(await direct.NotificationOutbox.countDocuments({ notificationKey: input.notificationKey })).toBe(
        0,
      );
    } finally {
      await next.stop();
    }
  } finally {
    proxy.restore();
    await first.stop();
  }
});

test('a final record whose insert loses its connection is written again, not dropped with its outbox document', async () => {
  // Arrange
  const hook = await webhookOf('lost-insert-org');
  const input = notice('defect-2:lost-insert', 'lost-insert-org');
  const worker = await startWorker(proxied);
  try {
    // Act: the dispatcher's first insert of final records loses its connection before it reaches Mongo
    proxy.dropConnectionOn('insert', 'notifications');
    const [queued] = (await activitiesOn(direct).enqueueNotifications(input)).notifications;

    // Assert
    const final = await eventually(
      () => direct.Notification.findById(queued!.outboxId).lean(),
      (d) => d !== null,
      30_000,
    );
    expect(final).toMatchObject({ status: 'SENT', attempts: 1 });
    expect(hook.accepted()).toHaveLength(1);
    // The outbox document leaves in the same batch's next write, just after the final record.
    const left = await eventually(
      () => direct.NotificationOutbox.countDocuments({ notificationKey: input.notificationKey }),
      (n) => n === 0,
      10_000,
    );
    expect(left).toBe(0);
  } finally {
    proxy.disarm();
    await worker.stop();
  }
});

test('a notification recorded final whose outbox document outlived its worker (killed between the two writes) is not sent again', async () => {
  // Arrange: what a dispatcher killed after inserting the final record and before deleting the outbox document
  // leaves behind — both documents
  const hook = await webhookOf('killed-between-writes-org');
  const input = notice('defect-3:killed-between-writes', 'killed-between-writes-org');
  const [queued] = (await activitiesOn(direct).enqueueNotifications(input)).notifications;
  const outboxDoc = await direct.NotificationOutbox.findById(queued!.outboxId).lean();
  expect(outboxDoc).not.toBeNull();
  const sentAt = new Date();
  await direct.Notification.collection.insertOne({
    ...outboxDoc!,
    status: 'SENT',
    attempts: 1,
    sentAt,
    lastAttemptAt: sentAt,
    updatedAt: sentAt,
  } as never);

  // Act: the next worker's dispatcher reads the outbox
  const next = await startWorker(direct);
  try {
    await dispatcherDelivering(await webhookOf('killed-between-writes-probe'), 'killed-between-writes-probe');
    const left = await eventually(
      () => direct.NotificationOutbox.countDocuments({ notificationKey: input.notificationKey }),
      (n) => n === 0,
      30_000,
    );

    // Assert: the outbox document is gone, the receiver got nothing, the final record is the one written before
    expect(left).toBe(0);
    expect(hook.received).toHaveLength(0);
    expect(await direct.Notification.findById(queued!.outboxId).lean()).toMatchObject({
      status: 'SENT',
      attempts: 1,
    });
  } finally {
    await next.stop();
  }
});

test('a batch of more than a hundred retries is recorded without stalling FerretDB, and each notification is delivered once when the receiver is back', async () => {
  // Arrange: a receiver that is down, and a dispatcher that records its results rarely, so one write carries them all
  const hook = new WebhookReceiver(SECRET);
  receivers.push(hook);
  const port = await hook.listen();
  await setOrgChannels(direct, 'many-retries-org', {
    webhooks: [{ url: `http://127.0.0.1:${port}/hook`, secret: SECRET }],
  });
  await hook.close();
  const worker = await startWorker(direct, {
    ...NOTIFICATIONS.dispatch,
    recordBatch: 1_000,
    recordEveryMs: 3_000,
  });
  try {
    const keys = Array.from({ length: 150 }, (_, i) => `defect-4:many-retries:${i}`);
    for (let i = 0; i < keys.length; i += 50)
      await activitiesOn(direct).enqueueNotificationBatch({
        notifications: keys.slice(i, i + 50).map((k) => notice(k, 'many-retries-org')),
      });

    // Act: every first attempt fails and is recorded as a retry in one write
    const retrying = await eventually(
      () => direct.NotificationOutbox.countDocuments({ status: 'RETRYING', attempts: { $gte: 1 } }),
      (n) => n >= keys.length,
      60_000,
    );
    await hook.listen(port);

    // Assert: FerretDB kept answering (the counts above), and every notification arrives once
    expect(retrying).toBeGreaterThanOrEqual(keys.length);
    const delivered = await eventually(
      () => Promise.resolve(new Set(hook.accepted().map((r) => r.body.notificationId as string)).size),
      (n) => n >= keys.length,
      90_000,
    );
    expect(delivered).toBe(keys.length);
    await sleep(1_000);
    expect(hook.accepted()).toHaveLength(keys.length);
  } finally {
    await worker.stop();
  }
}, 240_000);
