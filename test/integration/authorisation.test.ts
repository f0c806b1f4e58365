import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import { ROLES } from '../../api/auth';
import { CREATE_PROJECT_EXAMPLE } from '../../api/schemas';
import { startTestSystem, type TestSystem } from '../support/harness';
import { testApp, token } from '../support/api';
import { documentedOperations, type DocumentedOperation } from '../support/openapi-operations';

type Op = DocumentedOperation;

let sys: TestSystem;
let app: Express;
let ops: Op[];
let publicOps: Op[];

beforeAll(async () => {
  sys = await startTestSystem();
  app = testApp(sys);
  ops = await documentedOperations(app);
  publicOps = ops.filter((o) => o.public);
  ops = ops.filter((o) => !o.public);
});

afterAll(async () => {
  await sys?.close();
});

/** Table rows as cells: `[endpoint, ✓-or-empty per role]`, whatever the Markdown column padding. */
function expectedRows(list: Op[]): string[][] {
  return list.map((o) => [
    `\`${o.method.toUpperCase()} ${o.path}\``,
    ...ROLES.map((r) => (o.roles.includes(r) ? '✓' : '')),
  ]);
}

function readmeRows(readme: string): string[][] {
  const start = readme.indexOf('### Role × endpoint');
  const section = readme.slice(start, readme.indexOf('\n## ', start));
  const header = section.split('\n').find((l) => l.startsWith('| Endpoint'));
  expect(
    header
      ?.split('|')
      .slice(2, -1)
      .map((c) => c.trim()),
  ).toEqual([...ROLES]);
  return section
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) =>
      l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
}

test('the README’s role × endpoint table is the one the API enforces', () => {
  const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  expect(readmeRows(readme)).toEqual(expectedRows(ops));
});

test('every role is refused on every endpoint it is not in the table for, and let through where it is', async () => {
  const owner = await token('owner', 'yaodu', 'applicant');
  const created = await request(app)
    .post('/api/v1/projects')
    .set('Authorization', `Bearer ${owner}`)
    .send(CREATE_PROJECT_EXAMPLE);
  const projectId = created.body.projectId as string;
  const fill = (p: string) =>
    p
      .replace('{id}', projectId)
      .replace('{taskId}', `${projectId}~R1-T1-ndrc`)
      .replace('{year}', '2027')
      .replace('{blockerId}', `${projectId}-B1`)
      .replace('{personId}', 'vm-zhang');
  let checked = 0;
  for (const op of ops) {
    for (const role of ROLES) {
      const t = await token(`u-${role}`, role === 'applicant' ? 'yaodu' : 'ndrc', role);
      const res = await request(app)
        [op.method as 'get' | 'post' | 'put' | 'patch'](`/api/v1${fill(op.path)}`)
        .set('Authorization', `Bearer ${t}`)
        .send(op.example ?? {});
      const refusedForRole =
        res.status === 403 && res.body.type === 'https://project-pipeline.dev/problems/forbidden';
      expect({ op: `${op.method} ${op.path}`, role, refusedForRole }).toEqual({
        op: `${op.method} ${op.path}`,
        role,
        refusedForRole: !op.roles.includes(role),
      });
      checked++;
    }
  }
  expect(checked).toBe(ops.length * ROLES.length);
});

test('only the sign-in routes answer without a token; every other route refuses one', async () => {
  expect(publicOps.map((o) => `${o.method.toUpperCase()} ${o.path}`).sort()).toEqual([
    'GET /session/config',
    'POST /session/local',
  ]);
  for (const op of ops.slice(0, 200)) {
    const res = await request(app)[op.method as 'get' | 'post' | 'put' | 'patch'](`/api/v1${op.path}`);
    expect({ op: `${op.method} ${op.path}`, status: res.status }).toEqual({
      op: `${op.method} ${op.path}`,
      status: 401,
    });
  }
});
