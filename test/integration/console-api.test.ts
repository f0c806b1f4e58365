/**
 * What the console needs of the API: its sign-in (local page or provider), the built console at `/`, the inbox's
 * working days left, Chinese validation messages for a browser in Chinese, and one timeline with revisions and
 * blockers.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import { CREATE_PROJECT_EXAMPLE } from '../../api/schemas';
import { startTestSystem, type TestSystem } from '../support/harness';
import { TEST_JWT_SECRET, testApp } from '../support/api';
import { httpAs } from '../support/http';

let sys: TestSystem;
let localApp: Express;
let tokenOnlyApp: Express;
let oidcApp: Express;
const consoleDir = mkdtempSync(path.join(tmpdir(), 'pp-console-dist-'));

beforeAll(async () => {
  sys = await startTestSystem();
  mkdirSync(path.join(consoleDir, 'assets'));
  writeFileSync(
    path.join(consoleDir, 'index.html'),
    '<!doctype html><title>控制台</title><div id="root"></div>',
  );
  writeFileSync(path.join(consoleDir, 'assets', 'index-abc123.js'), 'console.log(1)');
  localApp = testApp(sys, { signIn: { localSignIn: true, jwtSecret: TEST_JWT_SECRET }, consoleDir });
  tokenOnlyApp = testApp(sys);
  oidcApp = testApp(sys, {
    signIn: {
      localSignIn: true,
      jwtSecret: TEST_JWT_SECRET,
      oidc: {
        issuer: 'https://id.linfen.example/realms/city',
        clientId: 'pipeline-console',
        scope: 'openid profile',
      },
    },
    consoleDir,
  });
});
afterAll(async () => {
  await sys?.close();
});

const http = httpAs(() => localApp);

describe('sign-in', () => {
  test('local mode offers the organisations and signs a token for the one picked', async () => {
    const config = await request(localApp).get('/api/v1/session/config');
    expect(config.status).toBe(200);
    expect(config.body.mode).toBe('local');
    expect(config.body.organisations).toContainEqual({ id: 'yaodu', name: '尧都区', kind: 'COUNTY' });
    const signed = await request(localApp)
      .post('/api/v1/session/local')
      .send({ org: 'yaodu', role: 'applicant', userId: 'wang.li', name: '王丽' });
    expect(signed.status).toBe(201);
    expect(Date.parse(signed.body.expiresAt as string)).toBeGreaterThan(Date.now());
    // The token works as any other: the projects of that organisation, with that name on the trail.
    const listed = await request(localApp)
      .get('/api/v1/projects')
      .set('Authorization', `Bearer ${signed.body.token}`);
    expect(listed.status).toBe(200);
  });

  test('a bad sign-in names its field and signs nothing', async () => {
    const unknownOrg = await request(localApp)
      .post('/api/v1/session/local')
      .send({ org: 'atlantis', role: 'applicant', userId: 'wang.li', name: '王丽' });
    expect(unknownOrg.status).toBe(400);
    expect(unknownOrg.body.errors).toEqual([
      { in: 'body', path: 'org', message: expect.stringContaining('atlantis') },
    ]);
    expect(unknownOrg.body.token).toBeUndefined();
    const badRole = await request(localApp)
      .post('/api/v1/session/local')
      .send({ org: 'yaodu', role: 'mayor', userId: 'x', name: '' });
    expect(badRole.status).toBe(400);
    expect((badRole.body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual([
      'name',
      'role',
      'userId',
    ]);
  });

  test('with OIDC configured the console signs in through the provider and the local sign-in is off', async () => {
    const config = await request(oidcApp).get('/api/v1/session/config');
    expect(config.body).toMatchObject({
      mode: 'oidc',
      oidc: { issuer: 'https://id.linfen.example/realms/city', clientId: 'pipeline-console' },
    });
    expect(config.body.organisations).toBeUndefined();
    const local = await request(oidcApp)
      .post('/api/v1/session/local')
      .send({ org: 'yaodu', role: 'applicant', userId: 'wang.li', name: '王丽' });
    expect(local.status).toBe(404);
    // The console may exchange the code with the provider from the browser, and with nobody else.
    const page = await request(oidcApp).get('/');
    expect(page.headers['content-security-policy']).toContain("connect-src 'self' https://id.linfen.example");
  });

  test('without local mode or a provider there is no sign-in endpoint, only a token', async () => {
    expect((await request(tokenOnlyApp).get('/api/v1/session/config')).body.mode).toBe('token');
    const local = await request(tokenOnlyApp)
      .post('/api/v1/session/local')
      .send({ org: 'yaodu', role: 'admin', userId: 'mallory', name: '某人' });
    expect(local.status).toBe(404);
    expect(local.body.token).toBeUndefined();
  });

  test('the OpenAPI document describes the sign-in routes as needing no token', async () => {
    const doc = (await request(localApp).get('/api/v1/openapi.json')).body;
    expect(doc.paths['/session/local'].post.security).toEqual([]);
    expect(doc.paths['/session/config'].get.security).toEqual([]);
    expect(doc.paths['/projects'].get.security).toEqual([{ bearer: [] }]);
  });
});

describe('the console at /', () => {
  test('serves the page for any console path, its assets cached, and leaves the API its own answers', async () => {
    for (const p of ['/', '/inbox', '/projects/P1/edit']) {
      const page = await request(localApp).get(p).set('Accept', 'text/html');
      expect(page.status).toBe(200);
      expect(page.text).toContain('<div id="root">');
      expect(page.headers['cache-control']).toBe('no-cache');
    }
    const asset = await request(localApp).get('/assets/index-abc123.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await request(localApp).get('/assets/missing.js').set('Accept', 'text/html')).status).toBe(404);
    // An API path never falls back to the page: a problem, whatever the Accept header says.
    const api = await request(localApp).get('/api/v1/nothing-here').set('Accept', 'text/html');
    expect(api.status).toBe(401);
    expect(api.headers['content-type']).toContain('application/problem+json');
    expect((await request(tokenOnlyApp).get('/').set('Accept', 'text/html')).status).toBe(404);
  });
});

test('the inbox counts the official working days left to each deadline', async () => {
  const created = await http.call('post', 'yaodu/applicant', '/projects', {
    ...CREATE_PROJECT_EXAMPLE,
    name: '工作日倒计时项目',
  });
  const id = created.body.projectId as string;
  expect((await http.call('post', 'yaodu/applicant', `/projects/${id}/submit`, {})).status).toBe(200);
  const inbox = await http.call('get', 'ndrc/reviewer', '/tasks');
  const task = (inbox.body.tasks as { projectId: string; workingDaysLeft: number | null }[]).find(
    (t) => t.projectId === id,
  );
  // Tier 1 gives 10 working days from today (policy default) — unless the official arrangement for the due day's
  // year is not published yet (late December), when the deadline is provisional and no count is given.
  const view = await http.call('get', 'ndrc/reviewer', `/projects/${id}`);
  const deadline = (view.body.openTasks as { id: string; deadline: { provisional: boolean } }[]).find(
    (t) => t.id === `${id}~R1-T1-ndrc`,
  )!.deadline;
  expect(task?.workingDaysLeft).toBe(deadline.provisional ? null : 10);
});

test('a browser in Chinese reads validation messages in Chinese; other callers in English', async () => {
  const body = { ...CREATE_PROJECT_EXAMPLE, totalInvestmentYuan: -5 };
  const zh = await http.call('post', 'yaodu/applicant', '/projects', body, {
    'Accept-Language': 'zh-CN,zh;q=0.9',
  });
  expect(zh.status).toBe(400);
  expect(zh.body.errors[0]).toMatchObject({
    path: 'totalInvestmentYuan',
    message: expect.stringMatching(/数值过小/),
  });
  const en = await http.call('post', 'yaodu/applicant', '/projects', body);
  expect(en.body.errors[0].message).toMatch(/Too small/);
});

test('the timeline merges the trail with the project’s revisions and its blockers', async () => {
  const created = await http.call('post', 'yaodu/applicant', '/projects', {
    ...CREATE_PROJECT_EXAMPLE,
    name: '时间线合并项目',
  });
  const id = created.body.projectId as string;
  await http.call(
    'patch',
    'yaodu/applicant',
    `/projects/${id}`,
    { annualPlanYuan: 100_000_000, reason: '按初审意见调减' },
    {
      'If-Match': '"v1"',
    },
  );
  expect((await http.call('post', 'yaodu/applicant', `/projects/${id}/submit`, {})).status).toBe(200);
  const raised = await http.call('post', 'yaodu/applicant', `/projects/${id}/blockers`, {
    category: 'LAND',
    level: 'CITY',
    responsibleOrg: 'natural-resources',
    description: '用地指标尚未落实',
  });
  expect(raised.status).toBe(201);
  const history = await http.call('get', 'project-center/supervisor', `/projects/${id}/history`);
  const sources = new Set((history.body.entries as { source: string }[]).map((e) => e.source));
  expect([...sources].sort()).toEqual(['audit', 'blocker', 'revision', 'temporal']);
  const revision = (history.body.entries as { source: string; details: { reason?: string } }[]).find(
    (e) => e.source === 'revision',
  );
  expect(revision?.details.reason).toBe('按初审意见调减');
});
