import type { ErrorRequestHandler, Response } from 'express';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  ServiceError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { isDomainErrorType, type DomainErrorType } from '../domain/errors';

// gRPC status codes (stable across gRPC implementations).
const GrpcStatus = { DEADLINE_EXCEEDED: 4, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14 } as const;

export const PROBLEM_BASE = 'https://project-pipeline.dev/problems/';

/** An RFC 9457 problem; `type` is stable per error so integrators can switch on it. */
export class ApiError extends Error {
  constructor(
    public readonly status: number,
    public readonly slug: string,
    public readonly title: string,
    detail?: string,
    public readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
  }
}

const DOMAIN_STATUS: Record<DomainErrorType, [number, string]> = {
  WRONG_STAGE: [409, 'Wrong stage'],
  ALREADY_DECIDED: [409, 'Already decided'],
  GATE_NOT_MET: [409, 'Gate not met'],
  NOT_ASSIGNEE: [403, 'Not the assignee'],
  OVER_ESTIMATE: [422, 'Over the approved estimate'],
  INVALID_DATA: [422, 'Invalid data'],
  UNKNOWN_TASK: [404, 'Unknown task'],
  STALE_VERSION: [412, 'Precondition failed'],
  CHANGE_REQUEST_REQUIRED: [409, 'Change request required'],
};

export function sendProblem(res: Response, err: ApiError): void {
  res
    .status(err.status)
    .type('application/problem+json')
    .json({
      // Extension members come first: none may overwrite the members RFC 9457 defines.
      ...withoutReservedMembers(err.extra),
      type: PROBLEM_BASE + err.slug,
      title: err.title,
      status: err.status,
      detail: err.message,
      instance: res.req.originalUrl,
      requestId: res.getHeader('x-request-id'),
    });
}

/** The members of a problem that RFC 9457 defines (and our request id): extensions never carry them. */
export const RESERVED_PROBLEM_MEMBERS = [
  'type',
  'title',
  'status',
  'detail',
  'instance',
  'requestId',
] as const;

function withoutReservedMembers(extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(extra))
    if (!(RESERVED_PROBLEM_MEMBERS as readonly string[]).includes(k)) out[k] = v;
  return out;
}

function grpcCode(err: unknown): number | undefined {
  const cause = (err as { cause?: { code?: number } })?.cause;
  if (err instanceof ServiceError && typeof cause?.code === 'number') return cause.code;
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Maps Temporal, Mongo and domain failures to problems; anything unknown is a 500 without internals. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const type = err.cause.type;
    if (isDomainErrorType(type)) {
      const [status, title] = DOMAIN_STATUS[type];
      const details = (err.cause.details?.[0] ?? {}) as Record<string, unknown>;
      // `errorType` names the refusal as `type` does: a detail of the same name does not replace it.
      // A refusal that names a body field also lists it in `errors`, as validation does, so a form shows it there.
      const field = typeof details.field === 'string' ? details.field : undefined;
      return new ApiError(status, type.toLowerCase().replace(/_/g, '-'), title, err.cause.message, {
        ...(field && !details.errors
          ? { errors: [{ in: 'body', path: field, message: err.cause.message }] }
          : {}),
        ...details,
        errorType: type,
      });
    }
  }
  if (err instanceof WorkflowNotFoundError) {
    return new ApiError(
      409,
      'wrong-stage',
      'Wrong stage',
      'the project is closed or its workflow does not run',
      { errorType: 'WRONG_STAGE' },
    );
  }
  if (err instanceof WorkflowExecutionAlreadyStartedError) {
    return new ApiError(409, 'already-exists', 'Already exists', 'a project with this id already exists');
  }
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return new ApiError(
      504,
      'not-confirmed',
      'Not confirmed in time',
      'the decision could not be confirmed in time; retry with the same Idempotency-Key',
    );
  }
  const code = grpcCode(err);
  if (code === GrpcStatus.RESOURCE_EXHAUSTED)
    return new ApiError(429, 'throttled', 'Too many requests', 'Temporal is throttling; retry shortly');
  if (code === GrpcStatus.UNAVAILABLE)
    return new ApiError(503, 'unavailable', 'Service unavailable', 'Temporal is unreachable');
  if (code === GrpcStatus.DEADLINE_EXCEEDED) {
    return new ApiError(
      504,
      'not-confirmed',
      'Not confirmed in time',
      'the request could not be confirmed in time; retry with the same Idempotency-Key',
    );
  }
  const name = (err as { name?: string })?.name ?? '';
  if (/^Mongo(ServerSelection|Network)/.test(name))
    return new ApiError(503, 'unavailable', 'Service unavailable', 'the database is unreachable');
  return new ApiError(500, 'internal', 'Internal error', 'an unexpected error occurred');
}

export const problemHandler: ErrorRequestHandler = (err: unknown, req, res, _next) => {
  const bodyErr = err as { type?: string; status?: number };
  let problem: ApiError;
  if (bodyErr?.type === 'entity.too.large')
    problem = new ApiError(413, 'body-too-large', 'Body too large', 'the request body exceeds the limit');
  else if (bodyErr?.type === 'entity.parse.failed')
    problem = new ApiError(400, 'malformed-json', 'Malformed JSON', 'the request body is not valid JSON');
  else problem = toApiError(err);
  const log = (req as { log?: (level: string, msg: string, extra: object) => void }).log;
  if (problem.status >= 500)
    log?.('error', 'request failed', { err: err instanceof Error ? err.stack : String(err) });
  sendProblem(res, problem);
};
