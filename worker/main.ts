import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { createCalendarModels } from '../db/calendar-models';
import { createNotificationModels } from '../db/notification-models';
import { createSupervisionModels } from '../db/supervision-models';
import { ensureSupervisionSchedules } from '../infra/schedules';
import { loadPolicy } from '../policy/load';
import { loadConfig } from '../config';
import { connectMongo, createModels } from '../db/models';
import { prepareReadModel } from '../db/read-model-setup';
import { prepareNamespace } from '../infra/temporal-setup';
import { createWorker } from './create-worker';

async function main(): Promise<void> {
  const config = loadConfig();
  Runtime.install({ logger: new DefaultLogger(config.logLevel === 'debug' ? 'DEBUG' : 'INFO') });
  await prepareNamespace(config.temporal.address, config.temporal.namespace, config.temporal.retentionDays);
  const mongo = await connectMongo(config.mongo.uri);
  const models = createModels(mongo);
  const { migratedInboxItems } = await prepareReadModel(models);
  if (migratedInboxItems > 0)
    console.log(`moved ${migratedInboxItems} inbox entries to their organisation's inbox collection`);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  // Notification enqueueing starts delivery workflows, which needs a client beside the worker's connection.
  const clientConnection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
  const policy = loadPolicy(config.policyPath);
  await ensureSupervisionSchedules(client, config.temporal.taskQueue, policy.supervision);
  const worker = await createWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    models,
    calendarModels: createCalendarModels(mongo),
    supervisionModels: createSupervisionModels(mongo),
    policy,
    notifications: {
      models: createNotificationModels(mongo),
      client,
      taskQueue: config.temporal.taskQueue,
      smtp: config.smtp,
    },
  });
  console.log(`worker polling task queue "${config.temporal.taskQueue}" on ${config.temporal.address}`);
  await worker.run(); // returns after SIGINT/SIGTERM: the SDK shuts the worker down gracefully
  await connection.close();
  await clientConnection.close();
  await mongo.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
