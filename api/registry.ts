import type { Request, Response, Router } from 'express';
import type { z } from 'zod';
import { actorOf, type Role } from './auth';
import { ApiError } from './problem';
import { messageLanguage, parse } from './validate';

export interface RouteContext<P, Q, B> {
  req: Request;
  res: Response;
  actor: ReturnType<typeof actorOf>;
  params: P;
  query: Q;
  body: B;
}

/**
 * One route, declared once: Express wiring, role checks, validation and the OpenAPI document all come
 * from this description, so the documentation cannot drift from the behaviour.
 */
export interface RouteSpec<P = unknown, Q = unknown, B = unknown> {
  method: 'get' | 'post' | 'put' | 'patch';
  path: string; // Express style, e.g. /projects/:id/submit
  summary: string;
  tag: string;
  /** Roles allowed to call it; the workflow additionally checks the caller's organisation. */
  roles: readonly Role[];
  /**
   * Answered without a token (the console's sign-in): mounted before authentication, `actor` is absent and
   * `roles` must be empty.
   */
  public?: true;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  bodyExample?: unknown;
  /** Named examples (OpenAPI `examples`), where one request takes several shapes; replaces `bodyExample`. */
  bodyExamples?: Record<string, { summary: string; value: unknown }>;
  /** Request headers the route reads (documented in OpenAPI), e.g. If-Match. */
  headers?: readonly { name: string; required: boolean; description: string }[];
  /** A file upload instead of a JSON body: the raw bytes arrive as a Buffer in `req.body`. */
  upload?: { contentTypes: readonly string[]; description: string };
  /**
   * Responses other than the problem types every route may answer. `files` lists the downloads (media types) it
   * may answer instead (a `format` query); `json: false` when it answers nothing but a download.
   */
  success: {
    status: number;
    description: string;
    schema?: z.ZodType;
    files?: readonly string[];
    json?: false;
  };
  /** Problem statuses this route may answer beyond 400/401/403/413/429/503. */
  problems?: number[];
  /** Consumed by the OpenAPI generator: the route is idempotent under an Idempotency-Key header. */
  idempotent?: boolean;
  handler(ctx: RouteContext<P, Q, B>): Promise<unknown>;
}

/** The downloads routes answer (`success.files`), as the OpenAPI document names them. */
export const FILE_TYPES = {
  csv: 'text/csv',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const;

// The handler's own types are erased at registration; each spec is checked where it is written.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRouteSpec = RouteSpec<any, any, any>;

export function route<P, Q, B>(spec: RouteSpec<P, Q, B>): AnyRouteSpec {
  return spec as AnyRouteSpec;
}

export function mountRoutes(router: Router, specs: readonly AnyRouteSpec[]): void {
  for (const spec of specs) {
    router[spec.method](spec.path, async (req: Request, res: Response) => {
      const actor = actorOf(req);
      if (!spec.public && !spec.roles.some((r) => actor.roles.includes(r))) {
        throw new ApiError(
          403,
          'forbidden',
          'Forbidden',
          `${spec.method.toUpperCase()} ${spec.path} requires one of the roles: ${spec.roles.join(', ')}`,
        );
      }
      const lang = messageLanguage(req);
      const params: unknown = spec.params ? parse(spec.params, req.params, 'params', lang) : req.params;
      const query: unknown = spec.query ? parse(spec.query, req.query, 'query', lang) : {};
      const body: unknown = spec.body ? parse(spec.body, req.body ?? {}, 'body', lang) : undefined;
      const jsonBody = req.body !== undefined && !Buffer.isBuffer(req.body);
      if (spec.upload && jsonBody && Object.keys(req.body as object).length > 0) {
        throw new ApiError(
          415,
          'unsupported-media-type',
          'Unsupported media type',
          `upload the file as ${spec.upload.contentTypes.join(' or ')}`,
        );
      }
      if (
        !spec.body &&
        !spec.upload &&
        spec.method !== 'get' &&
        req.body &&
        Object.keys(req.body as object).length > 0
      ) {
        throw new ApiError(400, 'validation', 'Validation failed', 'this endpoint takes no request body', {
          errors: [{ in: 'body', path: '', message: 'no body expected' }],
        });
      }
      const result = await spec.handler({ req, res, actor, params, query, body });
      if (!res.headersSent) res.status(spec.success.status).json(result);
    });
  }
}
