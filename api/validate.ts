import type { Request } from 'express';
import type { z } from 'zod';
import { zhCN } from 'zod/locales';
import { ApiError } from './problem';

const zhMessages = zhCN().localeError;

/** The language of validation messages: Chinese when the caller prefers it (the console), else English. */
export function messageLanguage(req: Request): 'zh' | 'en' {
  return req.acceptsLanguages('en', 'zh-CN', 'zh') === 'en' ? 'en' : 'zh';
}

/** Parses one part of the request with its zod schema; a 400 problem lists every offending field path. */
export function parse<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'body' | 'query' | 'params',
  language: 'zh' | 'en' = 'en',
): z.infer<S> {
  // Messages written in a schema stay as written; the generic ones follow the caller's language.
  const r = language === 'zh' ? schema.safeParse(value, { error: zhMessages }) : schema.safeParse(value);
  if (r.success) return r.data;
  throw new ApiError(400, 'validation', 'Validation failed', `the request ${where} is invalid`, {
    errors: r.error.issues.map((i) => ({ in: where, path: i.path.join('.'), message: i.message })),
  });
}

export const body = <S extends z.ZodType>(req: Request, s: S) => parse(s, req.body ?? {}, 'body');
export const query = <S extends z.ZodType>(req: Request, s: S) => parse(s, req.query, 'query');
export const params = <S extends z.ZodType>(req: Request, s: S) => parse(s, req.params, 'params');
