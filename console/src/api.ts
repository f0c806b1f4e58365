/**
 * The console's only way to the engine: the public REST API under /api/v1, with the tab's token. Errors come
 * back as RFC 9457 problems; field errors (`errors[].path`) are shown beside the form fields they name.
 */
import { readToken, signOutTo } from './session';

export const API_BASE = '/api/v1';

export interface FieldError {
  in: string;
  path: string;
  message: string;
}

/** A problem+json answer (or a network failure, status 0) in a form the pages can show in words. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors: FieldError[] = [],
    readonly type = '',
    readonly requestId?: string,
  ) {
    super(detail || title);
  }
  /** Worth retrying as it is: the network, 503 (Temporal or Mongo away), 504 (not confirmed in time), 429. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 503 || this.status === 504 || this.status === 429;
  }
}

type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  /** For actions: the same key makes a repeated request (a retry) have one effect. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export function urlOf(path: string, query?: Query): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {}))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return `${API_BASE}${path}${s ? `?${s}` : ''}`;
}

async function problemOf(res: Response): Promise<ApiProblem> {
  const text = await res.text();
  try {
    const p = JSON.parse(text) as Partial<{
      title: string;
      detail: string;
      errors: FieldError[];
      type: string;
      requestId: string;
    }>;
    return new ApiProblem(
      res.status,
      p.title ?? res.statusText,
      p.detail ?? '',
      Array.isArray(p.errors) ? p.errors : [],
      p.type ?? '',
      p.requestId,
    );
  } catch {
    return new ApiProblem(res.status, res.statusText || '请求失败', text.slice(0, 300));
  }
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const token = readToken();
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
  let res: Response;
  try {
    res = await fetch(urlOf(path, opts.query), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal ?? null,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiProblem(0, '无法连接服务', '网络中断或服务未启动');
  }
  if (res.status === 401 && token) {
    // An expired or revoked token: back to sign-in, then to this very page.
    signOutTo(window.location.pathname + window.location.search);
  }
  if (!res.ok) throw await problemOf(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const get = <T>(path: string, query?: Query, signal?: AbortSignal) =>
  request<T>('GET', path, { query, ...(signal ? { signal } : {}) });

/** An action: a fresh Idempotency-Key per user action, so a retry of the same click has one effect. */
export const post = <T>(path: string, body?: unknown, headers?: Record<string, string>) =>
  request<T>('POST', path, { body, idempotencyKey: crypto.randomUUID(), ...(headers ? { headers } : {}) });

export const put = <T>(path: string, body?: unknown) => request<T>('PUT', path, { body });

export const patch = <T>(path: string, body: unknown, headers?: Record<string, string>) =>
  request<T>('PATCH', path, { body, idempotencyKey: crypto.randomUUID(), ...(headers ? { headers } : {}) });

/** A download (xlsx, csv) with the token, saved under the server's file name. */
export async function download(path: string, query?: Query): Promise<string> {
  const token = readToken();
  const res = await fetch(urlOf(path, query), { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!res.ok) throw await problemOf(res);
  const disposition = res.headers.get('content-disposition') ?? '';
  // RFC 6266: the UTF-8 name (filename*) when given, else the plain one.
  const name =
    /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1] ??
    /filename="?([^";]+)"?/i.exec(disposition)?.[1] ??
    'download';
  const blob = await res.blob();
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = decodeURIComponent(name);
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
  return a.download;
}

/** A file upload (the bulk import): the raw bytes with their type, and a fresh Idempotency-Key. */
export async function upload<T>(path: string, file: File, query?: Query): Promise<T> {
  const token = readToken();
  const type = file.name.toLowerCase().endsWith('.csv')
    ? 'text/csv'
    : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
  let res: Response;
  try {
    res = await fetch(urlOf(path, query), {
      method: 'POST',
      headers: {
        accept: 'application/json',
        'content-type': type,
        'idempotency-key': crypto.randomUUID(),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: file,
    });
  } catch {
    throw new ApiProblem(0, '无法连接服务', '网络中断或服务未启动');
  }
  // A file whose rows were refused is still an import (422 with its id and per-row problems), shown as one.
  if (res.status === 422 && (res.headers.get('content-type') ?? '').startsWith('application/json'))
    return (await res.json()) as T;
  if (!res.ok) throw await problemOf(res);
  return (await res.json()) as T;
}
