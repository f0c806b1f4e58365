import type { Express } from 'express';
import { createApp, type ApiDeps } from '../../api/app';
import { createLogger } from '../../api/logger';
import { signLocalToken } from '../../api/auth';
import type { TestSystem } from './harness';

export const TEST_JWT_SECRET = 'test-secret-of-at-least-thirty-two-chars';

/** The real API app over the test system's real client and database. */
export function testApp(sys: TestSystem, over: Partial<ApiDeps> = {}): Express {
  return createApp({
    projects: sys.projects,
    models: sys.models,
    calendarModels: sys.calendarModels,
    supervisionModels: sys.supervisionModels,
    taskQueue: sys.taskQueue,
    health: {
      temporal: async () => (await sys.connection.healthService.check({}), true),
      mongo: async () => (await sys.mongo.db!.admin().ping(), true),
    },
    auth: { jwtSecret: TEST_JWT_SECRET },
    orgIndex: new Map(sys.policy.organisations.map((o) => [o.id, o])),
    corsOrigins: [],
    bodyLimit: '100kb',
    temporalUiUrl: 'http://127.0.0.1:8233',
    namespace: 'default',
    updateTimeoutMs: 10_000,
    logger: createLogger('error'),
    ...over,
  });
}

export function token(sub: string, org: string, ...roles: string[]): Promise<string> {
  return signLocalToken(TEST_JWT_SECRET, { sub, org, roles });
}
