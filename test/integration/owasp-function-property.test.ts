/**
 * OWASP API5:2023 Broken Function Level Authorization — beyond the role table (authorisation.test.ts): the
 * console hides pages by role, but the API is what refuses. Every request a role-gated console page makes is
 * refused (403) to a role the page is not for, unless the role table grants it.
 *
 * OWASP API3:2023 Broken Object Property Level Authorization — no request body sets what only the workflow
 * sets: every JSON body, sent with the stage, sequence, decisions, approver, actor or readers added, is refused
 * naming those fields, and nothing happens.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import { ROLES, type Role } from '../../api/auth';
import { CREATE_PROJECT_EXAMPLE } from '../../api/schemas';
import { startTestSystem, type TestSystem } from '../support/harness';
import { testApp, token } from '../support/api';
import { documentedOperations, type DocumentedOperation } from '../support/openapi-operations';

type Op = DocumentedOperation;

const CONSOLE = path.join(__dirname, '..', '..', 'console', 'src');
const ORG_OF: Record<Role, string> = {
  applicant: 'yaodu',
  reviewer: 'ndrc',
  leader: 'leading-group',
  supervisor: 'project-center',
  admin: 'ndrc',
};

let sys: TestSystem;
let app: Express;
let ops: Op[];
let projectId: string;

beforeAll(async () => {
  sys = await startTestSystem();
  app = testApp(sys);
  // Operations behind a token: the public sign-in routes are outside both checks.
  ops = (await documentedOperations(app)).filter((o) => !o.public);
  const created = await request(app)
    .post('/api/v1/projects')
    .set('Authorization', await bearer('applicant'))
    .send(CREATE_PROJECT_EXAMPLE);
  expect(created.status).toBe(201);
  projectId = created.body.projectId as string;
});
afterAll(async () => {
  await sys?.close();
});

async function bearer(role: Role): Promise<string> {
  return `Bearer ${await token(`owasp-${role}`, ORG_OF[role], role)}`;
}

/** The OpenAPI operation a concrete path (`/people/x`) calls, if any. */
function opOf(method: string, concrete: string): Op | undefined {
  return ops.find(
    (o) =>
      o.method === method &&
      new RegExp(`^${o.path.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(concrete.replace(/\?.*$/, '')),
  );
}

/** The console's role-gated pages (App.tsx `<For roles={…}>`) and the source files each is built from. */
function gatedPages(): { route: string; roles: Role[]; files: string[] }[] {
  const appSource = readFileSync(path.join(CONSOLE, 'App.tsx'), 'utf8');
  const modules = new Map(
    [...appSource.matchAll(/const (\w+) = lazy\(\(\) => import\('\.\/([^']+)'\)/g)].map((m) => [
      m[1]!,
      m[2]!,
    ]),
  );
  const filesOf = (module: string): string[] => {
    const dir = path.join(CONSOLE, module);
    if (statSync(dir, { throwIfNoEntry: false })?.isDirectory())
      return readdirSync(dir)
        .filter((f) => f.endsWith('.tsx') || f.endsWith('.ts'))
        .map((f) => path.join(dir, f));
    return [`${dir}.tsx`];
  };
  return [
    ...appSource.matchAll(
      /<Route\s+path="([^"]+)"\s+element=\{\s*<For roles=\{\[([^\]]*)\]\}>\s*<(\w+)\s*\/>/g,
    ),
  ].map((m) => ({
    route: m[1]!,
    roles: [...m[2]!.matchAll(/'(\w+)'/g)].map((r) => r[1] as Role),
    files: filesOf(modules.get(m[3]!)!),
  }));
}

/** The API requests a console source file makes, as `[method, path]` with every `${…}` as `x`. */
function requestsIn(file: string): [string, string][] {
  const source = readFileSync(file, 'utf8');
  const calls = source.matchAll(/\b(get|post|put|patch|upload|download)(?:<[^(]*>)?\(\s*(['`])(\/[^'`]*)\2/g);
  return [...calls].map((m) => [
    m[1] === 'upload' ? 'post' : m[1] === 'download' ? 'get' : m[1]!,
    m[3]!.replace(/\$\{[^}]*\}/g, 'x'),
  ]);
}

test('what the console hides from a role, the API refuses to it', async () => {
  const pages = gatedPages();
  expect(pages.map((p) => p.route)).toEqual(
    expect.arrayContaining(['/admin/*', '/leader/*', '/supervision/*']),
  );
  let refused = 0;
  for (const page of pages) {
    const calls = page.files.flatMap(requestsIn).filter(([m, p]) => opOf(m, p));
    for (const [method, concrete] of calls) {
      const op = opOf(method, concrete)!;
      for (const role of ROLES.filter((r) => !page.roles.includes(r) && !op.roles.includes(r))) {
        const res = await request(app)
          [method as 'get' | 'post' | 'put' | 'patch'](`/api/v1${concrete}`)
          .set('Authorization', await bearer(role))
          .send(op.example ?? {});
        expect({ page: page.route, call: `${method} ${concrete}`, role, status: res.status }).toEqual({
          page: page.route,
          call: `${method} ${concrete}`,
          role,
          status: 403,
        });
        refused++;
      }
    }
  }
  // The admin, leader and supervision pages alone make dozens of requests other roles may not.
  expect(refused).toBeGreaterThan(50);
});

const WORKFLOW_OWNED = {
  stage: 'UNDER_CONSTRUCTION',
  seq: 999,
  decisions: [{ tier: 3, decision: 'PASS' }],
  approvedBy: { userId: 'mallory', org: 'leading-group', roles: ['leader'] },
  actor: { userId: 'mallory', org: 'leading-group', roles: ['leader'] },
  readers: ['quwo'],
};

test('no request body sets the stage, sequence, decisions, approver, actor or readers', async () => {
  // Ids of the right shape, so the body is what the request is judged on.
  const fill = (p: string) =>
    p
      .replace(/^\/reports\/\{id\}/, '/reports/ANNUAL_ASSESSMENT:2026')
      .replace(/^\/proposals\/\{id\}/, '/proposals/2026-Q1:P1')
      .replace('{id}', projectId)
      .replace('{taskId}', `${projectId}~R1-T1-ndrc`)
      .replace('{year}', '2027')
      .replace('{month}', '2027-01')
      .replace('{blockerId}', `${projectId}-B1`)
      .replace('{personId}', 'vm-zhang')
      .replace('{expertId}', 'EX0123456789abcdef');
  const bodied = ops.filter((o) => o.example !== undefined && typeof o.example === 'object');
  expect(bodied.length).toBeGreaterThan(30);
  for (const op of bodied) {
    const role = op.roles[0] as Role;
    const res = await request(app)
      [op.method as 'post' | 'put' | 'patch'](`/api/v1${fill(op.path)}`)
      .set('Accept-Language', 'en')
      .set('If-Match', '"v1"')
      .set('Authorization', await bearer(role))
      .send({ ...(op.example as object), ...WORKFLOW_OWNED });
    const named = Object.keys(WORKFLOW_OWNED).filter((k) =>
      JSON.stringify(res.body.errors ?? '').includes(k),
    );
    expect({ op: `${op.method} ${op.path}`, status: res.status, named }).toEqual({
      op: `${op.method} ${op.path}`,
      status: 400,
      named: Object.keys(WORKFLOW_OWNED),
    });
  }
  // Nothing happened to the project the requests named.
  const view = await request(app)
    .get(`/api/v1/projects/${projectId}`)
    .set('Authorization', await bearer('applicant'));
  expect(view.body.stage).toBe('DRAFT');
  expect(view.body.readers ?? []).not.toContain('quwo');
});
