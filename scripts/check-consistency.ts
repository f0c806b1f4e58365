/**
 * `npm run check:consistency`: compares every project's workflow state with the read model (client/consistency.ts)
 * against the stack the configuration names (TEMPORAL_ADDRESS, MONGO_URI; a running `npm start` by default),
 * prints each difference and exits 1 if there is any (2 if the stack cannot be reached).
 */
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config';
import { connectMongo, createModels } from '../db/models';
import { createNotificationModels } from '../db/notification-models';
import { checkConsistency, formatDifference } from '../client/consistency';

async function main(): Promise<number> {
  const config = loadConfig();
  const mongo = await connectMongo(config.mongo.uri);
  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const report = await checkConsistency({
      client,
      models: createModels(mongo),
      notifications: createNotificationModels(mongo),
      taskQueue: config.temporal.taskQueue,
    });
    for (const d of report.differences) console.log(formatDifference(d));
    console.log(
      `${report.projects} projects checked: ${report.differences.length ? `${report.differences.length} differences` : 'consistent'}`,
    );
    return report.differences.length ? 1 : 0;
  } finally {
    await connection.close();
    await mongo.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
