import { z } from 'zod';
import { PROBLEM_BASE } from './problem';
import type { AnyRouteSpec } from './registry';

const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string', format: 'uri', example: `${PROBLEM_BASE}wrong-stage` },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
    errorType: {
      type: 'string',
      description: 'The domain error type (WRONG_STAGE, NOT_ASSIGNEE, …) where there is one',
    },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { in: { type: 'string' }, path: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
};

const PROBLEM_TEXT: Record<number, string> = {
  400: 'Validation failed (field paths in `errors`) or malformed JSON',
  401: 'Missing, invalid or expired token',
  403: 'The caller’s role or organisation may not do this',
  404: 'Unknown project or task',
  409: 'Wrong stage, already decided or gate not met',
  412: 'If-Match names an older version: read the project again (its ETag) and reapply the change',
  413: 'Body too large',
  428: 'If-Match is required: send the ETag of the version the change starts from',
  422: 'Business rule violated (e.g. payment over the approved estimate)',
  429: 'Too many requests from this caller (retry after Retry-After), or Temporal is throttling; retry',
  503: 'Temporal or Mongo unreachable',
  504: 'Not confirmed in time; safe to retry with the same Idempotency-Key',
};

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const s = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete s.$schema;
  return s;
}

/** The OpenAPI 3 document, generated from the same route specs (and zod schemas) that serve requests. */
export function buildOpenApi(specs: readonly AnyRouteSpec[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) {
    const path = spec.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters: Record<string, unknown>[] = [];
    for (const [where, schema] of [
      ['path', spec.params],
      ['query', spec.query],
    ] as const) {
      if (!schema) continue;
      const js = jsonSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, prop] of Object.entries(js.properties ?? {})) {
        parameters.push({
          name,
          in: where,
          required: where === 'path' || (js.required ?? []).includes(name),
          schema: prop,
        });
      }
    }
    for (const h of spec.headers ?? [])
      parameters.push({
        name: h.name,
        in: 'header',
        required: h.required,
        description: h.description,
        schema: { type: 'string' },
      });
    if (spec.method !== 'get') {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description: 'Repeat a request safely: the same key has one effect and the same answer',
        schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{8,200}$' },
      });
    }
    const responses: Record<string, unknown> = {
      [spec.success.status]: {
        description: spec.success.description,
        content: {
          ...(spec.success.json === false
            ? {}
            : {
                'application/json': {
                  schema: spec.success.schema ? jsonSchema(spec.success.schema) : { type: 'object' },
                },
              }),
          ...Object.fromEntries(
            (spec.success.files ?? []).map((t) => [t, { schema: { type: 'string', format: 'binary' } }]),
          ),
        },
      },
    };
    // 429: the rate limits (api/rate-limit.ts) answer any route, as Temporal's throttling may.
    const common = spec.public ? [400, 413, 429, 503] : [400, 401, 403, 413, 429, 503];
    for (const status of [...common, ...(spec.problems ?? [])]) {
      responses[status] = {
        description: PROBLEM_TEXT[status] ?? 'Problem',
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      };
    }
    paths[path] ??= {};
    paths[path][spec.method] = {
      summary: spec.summary,
      tags: [spec.tag],
      description: spec.public ? 'No token needed' : `Roles: ${spec.roles.join(', ')}`,
      security: spec.public ? [] : [{ bearer: [] }],
      parameters,
      ...(spec.body
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': {
                  schema: jsonSchema(spec.body),
                  ...(spec.bodyExamples ? { examples: spec.bodyExamples } : { example: spec.bodyExample }),
                },
              },
            },
          }
        : {}),
      ...(spec.upload
        ? {
            requestBody: {
              required: true,
              description: spec.upload.description,
              content: Object.fromEntries(
                spec.upload.contentTypes.map((t) => [t, { schema: { type: 'string', format: 'binary' } }]),
              ),
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'project-pipeline API',
      version,
      description:
        '重大项目全链条管理：owners report, departments and groups decide, supervisors inspect every project’s history.',
    },
    servers: [{ url: '/api/v1' }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Problem: problemSchema },
    },
    paths,
  };
}
