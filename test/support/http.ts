import request from 'supertest';
import type { Express } from 'express';
import { token } from './api';

/** Who acts, as `org/role` (e.g. `yaodu/applicant`): a token for a user of that organisation with that role. */
export async function authAs(who: string): Promise<string> {
  const [org, role] = who.split('/') as [string, string];
  return `Bearer ${await token(`${org}-${role}-user`, org, role)}`;
}

/**
 * The API as people call it, for tests that go through HTTP. `app` is read at each call, since suites create it
 * in `beforeAll`.
 */
export function httpAs(app: () => Express) {
  async function call(
    method: 'get' | 'post' | 'patch',
    who: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    const r = request(app())
      [method](`/api/v1${path}`)
      .set('Authorization', await authAs(who));
    for (const [k, v] of Object.entries(headers)) void r.set(k, v);
    return body === undefined ? r : r.send(body as object);
  }
  return {
    call,
    get: (who: string, path: string) => call('get', who, path),
    post: (who: string, path: string, body: unknown = {}, headers?: Record<string, string>) =>
      call('post', who, path, body, headers),
    patch: (who: string, path: string, body: unknown, ifMatch?: string) =>
      call('patch', who, path, body, ifMatch === undefined ? {} : { 'If-Match': ifMatch }),
  };
}
