import type { Request } from 'express';
import type { z } from 'zod';
import { ApiError } from './problem';

/** Parses one part of the request with its zod schema; a 400 problem lists every offending field path. */
export function parse<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'body' | 'query' | 'params',
): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new ApiError(400, 'validation', 'Validation failed', `the request ${where} is invalid`, {
    errors: r.error.issues.map((i) => ({ in: where, path: i.path.join('.'), message: i.message })),
  });
}

export const body = <S extends z.ZodType>(req: Request, s: S) => parse(s, req.body ?? {}, 'body');
export const query = <S extends z.ZodType>(req: Request, s: S) => parse(s, req.query, 'query');
export const params = <S extends z.ZodType>(req: Request, s: S) => parse(s, req.params, 'params');
