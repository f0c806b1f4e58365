import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { Connection as MongoConnection } from 'mongoose';
import type { NotificationModels } from '../../db/notification-models';
import { connectMongo, createModels, type Models } from '../../db/models';
import { createNotificationModels } from '../../db/notification-models';
import { createCalendarModels, type CalendarModels } from '../../db/calendar-models';
import { createSupervisionModels, type SupervisionModels } from '../../db/supervision-models';
import { putPerson } from '../../db/people';
import type { NotificationActivityDeps } from '../../activities/notifications';
import { ProjectClient } from '../../client/project-client';
import { loadPolicy } from '../../policy/load';
import type { Policy } from '../../policy/schema';
import { createWorker, dispatcherWorkflowId, type PipelineWorker } from '../../worker/create-worker';
import type { NotificationDispatcherInput } from '../../workflows/notification-dispatcher';
import { EXAMPLE_PEOPLE } from './fixtures';

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    /* already installed in this module registry */
  }
}

export function stackEnv() {
  const address = process.env.TEST_TEMPORAL_ADDRESS;
  const mongoBase = process.env.TEST_MONGO_URI_BASE;
  const bundle = process.env.TEST_WORKFLOW_BUNDLE;
  if (!address || !mongoBase || !bundle)
    throw new Error('test stack not started: run the suite through jest (globalSetup)');
  return { address, mongoBase, bundle };
}

export interface TestSystem {
  taskQueue: string;
  policy: Policy;
  client: Client;
  connection: Connection;
  projects: ProjectClient;
  models: Models;
  calendarModels: CalendarModels;
  supervisionModels: SupervisionModels;
  mongo: MongoConnection;
  mongoUri: string;
  /** Starts (or restarts) the worker; tests that kill the worker call stopWorker/startWorker. */
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

/** Notification settings for the worker; the harness supplies models, client and task queue. */
export type TestNotificationOptions = Omit<NotificationActivityDeps, 'models' | 'client' | 'taskQueue'>;

/** A real worker on its own task queue and a fresh database: each test file is isolated from the others. */
export async function startTestSystem(
  opts: {
    policy?: Policy;
    taskQueue?: string;
    notifications?: TestNotificationOptions;
    dispatcher?: NotificationDispatcherInput;
  } = {},
): Promise<TestSystem> {
  quietRuntime();
  const env = stackEnv();
  const taskQueue = opts.taskQueue ?? `tq-${randomUUID()}`;
  const mongoUri = `${env.mongoBase}/t${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const policy = opts.policy ?? loadPolicy();
  const mongo = await connectMongo(mongoUri);
  const models = createModels(mongo);
  for (const person of EXAMPLE_PEOPLE) await putPerson(models.People, person);
  const calendarModels = createCalendarModels(mongo);
  const notificationModels = createNotificationModels(mongo);
  const supervisionModels = createSupervisionModels(mongo);
  const connection = await Connection.connect({ address: env.address });
  const client = new Client({ connection, namespace: 'default' });
  const projects = new ProjectClient({ client, taskQueue, policy });
  let native: NativeConnection | undefined;
  let worker: PipelineWorker | undefined;
  let running: Promise<void> | undefined;
  const sys: TestSystem = {
    taskQueue,
    policy,
    client,
    connection,
    projects,
    models,
    calendarModels,
    supervisionModels,
    mongo,
    mongoUri,
    async startWorker() {
      native = await NativeConnection.connect({ address: env.address });
      worker = await createWorker({
        connection: native,
        namespace: 'default',
        taskQueue,
        models,
        calendarModels,
        supervisionModels,
        policy,
        notifications: {
          // Without a test SMTP server, email goes to a closed port: only tests that configure email channels send any.
          smtp: { host: '127.0.0.1', port: 1, from: 'test <test@localhost>' },
          // Tests enqueue from outside the worker too: the dispatcher finds those by reading the outbox.
          // Tests enqueue from their own process too: the worker's dispatcher finds those by reading the outbox.
          dispatch: { scanIntervalMs: 200, maxScanIntervalMs: 400 },
          ...opts.notifications,
          models: notificationModels,
          client,
          taskQueue,
        },
        workflowBundle: { codePath: env.bundle },
        dispatcher: opts.dispatcher,
      });
      running = worker.run();
    },
    async stopWorker() {
      if (!worker) return;
      worker.shutdown();
      await running;
      await native?.close();
      worker = undefined;
    },
    async close() {
      await sys.stopWorker();
      // The dispatcher runs for good; with this test's task queue gone nothing would poll for it.
      await client.workflow
        .getHandle(dispatcherWorkflowId(taskQueue))
        .terminate('test over')
        .catch(() => undefined);
      await connection.close();
      await mongo.dropDatabase().catch(() => undefined);
      await mongo.close();
    },
  };
  await sys.startWorker();
  return sys;
}

/** Polls until `fn` returns a value that satisfies `ok` (read models are eventually consistent). */
export async function eventually<T>(
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (ok(last)) return last;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)} ${lastErr instanceof Error ? lastErr.message : ''}`,
  );
}

/** Waits until every channel of one notification has its final record (nothing of it left in the outbox). */
export async function notificationSettled(
  models: NotificationModels,
  notificationKey: string,
): Promise<void> {
  await eventually(
    async () => [
      await models.NotificationOutbox.countDocuments({ notificationKey }),
      await models.Notification.countDocuments({ notificationKey }),
    ],
    ([inFlight, final]) => inFlight === 0 && final! > 0,
    60_000,
  );
}
