import { Client, Connection } from '@temporalio/client';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config';
import { ConnectionStates } from 'mongoose';
import { connectMongo, createModels } from '../db/models';
import { createCalendarModels } from '../db/calendar-models';
import { createSupervisionModels } from '../db/supervision-models';
import { ProjectClient } from '../client/project-client';
import { loadPolicy } from '../policy/load';
import { createApp } from './app';
import { createLogger } from './logger';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const policy = loadPolicy(config.policyPath);
  const mongo = await connectMongo(config.mongo.uri);
  // Connection.lazy: the API starts (and /readyz reports 503) even while Temporal is still coming up.
  const connection = Connection.lazy({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const app = createApp({
    projects: new ProjectClient({ client, taskQueue: config.temporal.taskQueue, policy }),
    models: createModels(mongo),
    calendarModels: createCalendarModels(mongo),
    supervisionModels: createSupervisionModels(mongo),
    taskQueue: config.temporal.taskQueue,
    updateTimeoutMs: config.api.updateTimeoutMs,
    health: {
      temporal: async () => {
        await client.withDeadline(Date.now() + 2000, () => connection.healthService.check({}));
        return true;
      },
      mongo: async () => {
        await mongo.db?.admin().ping();
        return mongo.readyState === ConnectionStates.connected;
      },
    },
    auth: {
      jwtSecret: config.auth.jwtSecret,
      jwksUrl: config.auth.jwksUrl,
      issuer: config.auth.issuer,
      audience: config.auth.audience,
    },
    orgIndex: new Map(policy.organisations.map((o) => [o.id, o])),
    corsOrigins: config.api.corsOrigins,
    bodyLimit: config.api.bodyLimit,
    imports: config.api.imports,
    rateLimits: config.api.rateLimits,
    temporalUiUrl: config.temporal.uiUrl,
    namespace: config.temporal.namespace,
    logger,
    signIn: {
      localSignIn: config.auth.localSignIn,
      jwtSecret: config.auth.jwtSecret,
      oidc:
        config.auth.issuer && config.auth.oidcClientId
          ? { issuer: config.auth.issuer, clientId: config.auth.oidcClientId, scope: config.auth.oidcScope }
          : undefined,
    },
    consoleDir:
      config.consoleDir && existsSync(path.join(config.consoleDir, 'index.html'))
        ? config.consoleDir
        : undefined,
  });
  const server = app.listen(config.api.port, config.api.host, () => {
    logger.log('info', 'api listening', { url: `http://${config.api.host}:${config.api.port}` });
  });
  const shutdown = () => {
    server.close(() => {
      void Promise.all([connection.close(), mongo.close()]).finally(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
