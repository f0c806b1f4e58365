/**
 * OWASP API1:2023 Broken Object Level Authorization — an applicant of another organisation (曲沃县) names the
 * ids of 尧都区's project, task, blocker, monthly report and import on every route that takes one: every read
 * answers 404 as for an id that does not exist, every change is refused (403 `not-assignee` or 404) and changes
 * nothing. Each project is in a stage where the owner's same request is valid, so only the organisation refuses.
 * (Reads by other departments and special groups: read-access.test.ts; PATCH of a project under review:
 * revisions.test.ts.)
 */
import request from 'supertest';
import type { Express } from 'express';
import { CREATE_PROJECT_EXAMPLE, CREATE_PROJECT_EXAMPLES, EXAMPLES } from '../../api/schemas';
import { IMPORT_COLUMNS, writeProjectFile } from '../../imports/project-file';
import { startTestSystem, type TestSystem } from '../support/harness';
import { testApp } from '../support/api';
import { authAs, httpAs } from '../support/http';

let sys: TestSystem;
let app: Express;
const api = httpAs(() => app);

const OWNER = 'yaodu/applicant';
const OUTSIDER = 'quwo/applicant';
const OFFICE = 'project-center/supervisor'; // onboards projects already under way for their owners

let draft: string;
let preConstruction: string;
let underConstruction: string;
let ownerTaskId: string;
let blockerId: string;
let importId: string;

beforeAll(async () => {
  sys = await startTestSystem();
  app = testApp(sys);
  const created = async (who: string, body: unknown) => {
    const res = await api.post(who, '/projects', body);
    expect(res.status).toBe(201);
    return res.body.projectId as string;
  };
  draft = await created(OWNER, { ...CREATE_PROJECT_EXAMPLE, name: '尧都区供热管网改造工程（草稿）' });
  preConstruction = await created(OFFICE, CREATE_PROJECT_EXAMPLES.preConstruction.value);
  underConstruction = await created(OFFICE, CREATE_PROJECT_EXAMPLES.underConstruction.value);

  const pre = await api.get(OWNER, `/projects/${preConstruction}`);
  ownerTaskId = (pre.body.openTasks as { id: string; assigneeOrg: string }[]).find(
    (t) => t.assigneeOrg === 'yaodu',
  )!.id;

  const raised = await api.post(OWNER, `/projects/${underConstruction}/blockers`, {
    category: 'LAND',
    level: 'COUNTY',
    responsibleOrg: 'natural-resources',
    description: '项目用地指标未落实，影响按期开工',
  });
  expect(raised.status).toBe(201);
  blockerId = raised.body.blockerId as string;
  // The blocker is resolved, so its raiser's confirmation and reopening are both valid requests now.
  expect(
    (
      await api.post('natural-resources/reviewer', `/blockers/${blockerId}/resolution`, {
        note: '用地指标已调剂到位',
      })
    ).status,
  ).toBe(200);

  // An import whose only row is invalid: stored as REJECTED, readable by its organisation.
  const file = await writeProjectFile('csv', [
    IMPORT_COLUMNS.map((c) => (c.header === '项目名称' ? '缺项项目' : '')),
  ]);
  const imported = await request(app)
    .post('/api/v1/imports')
    .set('Authorization', await authAs(OWNER))
    .set('Content-Type', 'text/csv')
    .send(file);
  expect(imported.status).toBe(422);
  importId = imported.body.importId as string;
});
afterAll(async () => {
  await sys?.close();
});

/** What the workflow and the read model hold of a project: unchanged by a refused request. */
async function stateOf(projectId: string) {
  const s = await sys.projects.query(projectId);
  return JSON.stringify({ seq: s.seq, stage: s.stage, details: s.details });
}

test('the owner reads its project, task, blocker and import (the 404s below are the organisation’s, not the ids’)', async () => {
  for (const path of [
    `/projects/${draft}`,
    `/projects/${draft}/events`,
    `/projects/${draft}/revisions`,
    `/projects/${underConstruction}/blockers`,
    `/blockers/${blockerId}`,
    `/imports/${importId}`,
  ]) {
    expect({ path, status: (await api.get(OWNER, path)).status }).toEqual({ path, status: 200 });
  }
});

test('another organisation’s applicant reads none of them: 404 as for ids that do not exist, and no list shows them', async () => {
  for (const path of [
    `/projects/${draft}`,
    `/projects/${draft}/events`,
    `/projects/${draft}/revisions`,
    `/projects/${underConstruction}`,
    `/projects/${underConstruction}/blockers`,
    `/blockers/${blockerId}`,
    `/imports/${importId}`,
  ]) {
    const res = await api.get(OUTSIDER, path);
    expect({ path, status: res.status, type: res.body.type }).toEqual({
      path,
      status: 404,
      type: 'https://project-pipeline.dev/problems/not-found',
    });
  }
  const projects = (await api.get(OUTSIDER, '/projects?limit=200')).body.projects as { projectId: string }[];
  expect(projects.map((p) => p.projectId)).not.toEqual(
    expect.arrayContaining([
      expect.stringMatching(new RegExp(`^(${draft}|${preConstruction}|${underConstruction})$`)),
    ]),
  );
  const blockers = (await api.get(OUTSIDER, '/blockers')).body.blockers as { blockerId: string }[];
  expect(blockers.map((b) => b.blockerId)).not.toContain(blockerId);
  const imports = (await api.get(OUTSIDER, '/imports')).body.imports as { importId: string }[];
  expect(imports.map((i) => i.importId)).not.toContain(importId);
});

test('another organisation’s applicant changes none of them: each request refused, each project unchanged', async () => {
  const before = {
    draft: await stateOf(draft),
    preConstruction: await stateOf(preConstruction),
    underConstruction: await stateOf(underConstruction),
  };
  const blockerBefore = JSON.stringify((await api.get(OWNER, `/blockers/${blockerId}`)).body);
  const version = (await api.get(OWNER, `/projects/${underConstruction}`)).headers.etag as string;
  const attempts: [
    method: 'post' | 'patch',
    path: string,
    body: unknown,
    headers?: Record<string, string>,
  ][] = [
    ['patch', `/projects/${draft}`, { contactPerson: '张三' }, { 'If-Match': '"v1"' }],
    ['post', `/projects/${draft}/submit`, undefined],
    ['post', `/projects/${draft}/withdraw`, EXAMPLES.withdraw],
    ['post', `/projects/${preConstruction}/start`, EXAMPLES.start],
    ['post', `/tasks/${ownerTaskId}/complete`, EXAMPLES.completeTask],
    ['post', `/projects/${underConstruction}/progress-reports`, EXAMPLES.progress],
    ['post', `/projects/${underConstruction}/payments`, EXAMPLES.payment],
    ['post', `/projects/${underConstruction}/funding-sources`, EXAMPLES.fundingSource],
    ['post', `/projects/${underConstruction}/suspend`, EXAMPLES.suspend],
    [
      'post',
      `/projects/${underConstruction}/change-requests`,
      EXAMPLES.changeRequest,
      { 'If-Match': version },
    ],
    [
      'post',
      `/projects/${underConstruction}/blockers`,
      { category: 'LAND', level: 'COUNTY', responsibleOrg: 'quwo', description: '冒名登记的堵点问题' },
    ],
    ['post', `/blockers/${blockerId}/confirmation`, { note: '已销号' }],
    ['post', `/blockers/${blockerId}/reopening`, { reason: '问题仍未解决' }],
  ];
  for (const [method, path, body, headers] of attempts) {
    const res = await api.call(method, OUTSIDER, path, body, headers);
    const refused =
      (res.status === 403 && res.body.type === 'https://project-pipeline.dev/problems/not-assignee') ||
      (res.status === 404 && res.body.type === 'https://project-pipeline.dev/problems/not-found');
    expect({ method, path, refused, answer: refused ? undefined : [res.status, res.body.detail] }).toEqual({
      method,
      path,
      refused: true,
      answer: undefined,
    });
  }

  expect({
    draft: await stateOf(draft),
    preConstruction: await stateOf(preConstruction),
    underConstruction: await stateOf(underConstruction),
  }).toEqual(before);
  expect(JSON.stringify((await api.get(OWNER, `/blockers/${blockerId}`)).body)).toBe(blockerBefore);
});
