import express, { type NextFunction, type Request, type Response } from 'express';
import request from 'supertest';
import {
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { ApplicationFailure, DefaultFailureConverter, defaultPayloadConverter } from '@temporalio/common';
import { ApiError, PROBLEM_BASE, problemHandler } from '../../api/problem';
import { DOMAIN_ERROR_TYPES, type DomainErrorType } from '../../domain/errors';

/** Details that try to pass for every member RFC 9457 defines (and our request id and error type). */
const IMPOSTORS = {
  type: 'https://evil.example/problem',
  title: 'Impostor title',
  status: 'DONE',
  detail: 'impostor detail',
  instance: '/elsewhere',
  requestId: 'impostor-request',
  errorType: 'NOT_A_DOMAIN_ERROR',
  field: 'period',
};

/**
 * A refused workflow update as the client hands it to the API: the workflow threw a typed, non-retryable
 * ApplicationFailure with details (workflows/task-clock.ts asFailure), which travelled as a Failure proto and
 * was decoded by the client's failure converter.
 */
function refusedUpdate(type: string, message: string, details: Record<string, unknown>): Error {
  const thrown = ApplicationFailure.create({ type, message, details: [details], nonRetryable: true });
  const converter = new DefaultFailureConverter();
  const cause = converter.failureToError(
    converter.errorToFailure(thrown, defaultPayloadConverter),
    defaultPayloadConverter,
  );
  return new WorkflowUpdateFailedError('Workflow Update failed', cause);
}

/** The API's own stack around one failing route: request id, JSON body parsing, the problem handler. */
function appFailingWith(err: () => unknown) {
  const app = express();
  app.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('x-request-id', 'req-42');
    next();
  });
  app.use(express.json({ limit: '20b' }));
  app.post('/api/v1/projects/P1/action', () => {
    throw err();
  });
  app.use(problemHandler);
  return app;
}

async function problemOf(err: () => unknown, body: string = '{}') {
  return request(appFailingWith(err))
    .post('/api/v1/projects/P1/action?x=1')
    .set('Content-Type', 'application/json')
    .send(body);
}

/** Every member RFC 9457 defines, as this API promises them. */
function expectProblem(
  res: Awaited<ReturnType<typeof problemOf>>,
  status: number,
  slug: string,
  detail?: string,
) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({
    type: PROBLEM_BASE + slug,
    status,
    instance: '/api/v1/projects/P1/action?x=1',
    requestId: 'req-42',
  });
  expect(typeof res.body.title).toBe('string');
  expect(res.body.title).not.toBe(IMPOSTORS.title);
  expect(typeof res.body.detail).toBe('string');
  if (detail !== undefined) expect(res.body.detail).toBe(detail);
}

const EXPECTED: Record<DomainErrorType, [number, string]> = {
  WRONG_STAGE: [409, 'wrong-stage'],
  NOT_ASSIGNEE: [403, 'not-assignee'],
  ALREADY_DECIDED: [409, 'already-decided'],
  GATE_NOT_MET: [409, 'gate-not-met'],
  OVER_ESTIMATE: [422, 'over-estimate'],
  INVALID_DATA: [422, 'invalid-data'],
  UNKNOWN_TASK: [404, 'unknown-task'],
  STALE_VERSION: [412, 'stale-version'],
  CHANGE_REQUEST_REQUIRED: [409, 'change-request-required'],
};

describe('a refused workflow update answers its problem with the members RFC 9457 defines', () => {
  it('knows every domain error type', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...DOMAIN_ERROR_TYPES].sort());
  });

  it.each(DOMAIN_ERROR_TYPES.map((t) => [t]))(
    '%s keeps type, title, status, detail and instance whatever its details say',
    async (errorType) => {
      // Arrange
      const [status, slug] = EXPECTED[errorType];
      const message = `refused as ${errorType}`;

      // Act
      const res = await problemOf(() => refusedUpdate(errorType, message, IMPOSTORS));

      // Assert: the problem's own members, then the details as extensions (never in their place).
      expectProblem(res, status, slug, message);
      expect(res.body.errorType).toBe(errorType);
      expect(res.body.field).toBe('period');
    },
  );
});

describe('every other failure the API maps answers a complete problem', () => {
  const cases: [string, () => unknown, number, string][] = [
    [
      'a project whose workflow is gone',
      () => new WorkflowNotFoundError('gone', 'project-P1', undefined),
      409,
      'wrong-stage',
    ],
    [
      'a project id already taken',
      () => new WorkflowExecutionAlreadyStartedError('taken', 'project-P1', 'projectLifecycle'),
      409,
      'already-exists',
    ],
    [
      'an update not confirmed in time',
      () => new WorkflowUpdateRPCTimeoutOrCancelledError('timeout', { cause: new Error('deadline') }),
      504,
      'not-confirmed',
    ],
    [
      'Temporal throttling',
      () => new ServiceError('throttled', { cause: Object.assign(new Error('exhausted'), { code: 8 }) }),
      429,
      'throttled',
    ],
    [
      'Temporal unreachable',
      () => new ServiceError('down', { cause: Object.assign(new Error('unavailable'), { code: 14 }) }),
      503,
      'unavailable',
    ],
    [
      'a Temporal deadline exceeded',
      () => new ServiceError('slow', { cause: Object.assign(new Error('deadline'), { code: 4 }) }),
      504,
      'not-confirmed',
    ],
    [
      'the database unreachable',
      () => Object.assign(new Error('no server'), { name: 'MongoServerSelectionError' }),
      503,
      'unavailable',
    ],
    [
      'a workflow failure of a type the API does not know',
      () => refusedUpdate('INTERNAL', 'boom', IMPOSTORS),
      500,
      'internal',
    ],
    ['anything unexpected', () => new TypeError('x is undefined'), 500, 'internal'],
    [
      'a route’s own problem with extensions named like its members',
      () => new ApiError(404, 'not-found', 'Not found', 'no project P1', IMPOSTORS),
      404,
      'not-found',
    ],
  ];

  it.each(cases)('%s', async (_what, err, status, slug) => {
    const res = await problemOf(err);

    expectProblem(res, status, slug);
    expect(res.body.detail).not.toBe(IMPOSTORS.detail);
  });

  it('a body that is not JSON, or too large, answers 400 or 413', async () => {
    expectProblem(await problemOf(() => undefined, '{"a":'), 400, 'malformed-json');
    expectProblem(
      await problemOf(() => undefined, JSON.stringify({ a: 'x'.repeat(100) })),
      413,
      'body-too-large',
    );
  });

  it('an unexpected failure does not leak its message', async () => {
    const res = await problemOf(() => new Error('connection string mongodb://user:secret@db'));

    expect(res.body.detail).toBe('an unexpected error occurred');
    expect(JSON.stringify(res.body)).not.toContain('secret');
  });
});
