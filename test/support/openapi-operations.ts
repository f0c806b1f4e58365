import request from 'supertest';
import type { Express } from 'express';

/** One operation of the API's own OpenAPI document, as the authorisation tests read it. */
export interface DocumentedOperation {
  method: string;
  /** The document's path template, e.g. `/projects/{id}`. */
  path: string;
  /** The roles named in its description (`Roles: a, b`). */
  roles: string[];
  /** The first JSON request example, if the operation takes a body. */
  example?: unknown;
  /** Answered without a token (the console's sign-in): outside the role table. */
  public: boolean;
}

interface DocumentShape {
  paths: Record<
    string,
    Record<
      string,
      {
        description: string;
        security: unknown[];
        requestBody?: {
          content: Record<
            string,
            { example?: unknown; examples?: Record<string, { value: unknown }> } | undefined
          >;
        };
      }
    >
  >;
}

/** Every operation the served document lists (`GET /api/v1/openapi.json`). */
export async function documentedOperations(app: Express): Promise<DocumentedOperation[]> {
  const spec = (await request(app).get('/api/v1/openapi.json')).body as DocumentShape;
  return Object.entries(spec.paths).flatMap(([p, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const c = op.requestBody?.content['application/json'];
      return {
        method,
        path: p,
        roles: op.description.replace(/^Roles: /, '').split(', '),
        example: c?.example ?? Object.values(c?.examples ?? {})[0]?.value,
        public: op.security.length === 0,
      };
    }),
  );
}
