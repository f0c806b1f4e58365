import type { Express } from 'express';
import { CREATE_PROJECT_EXAMPLE, CREATE_PROJECT_EXAMPLES } from '../../api/schemas';
import { eventually, startTestSystem, type TestSystem } from '../support/harness';
import { testApp } from '../support/api';
import { httpAs } from '../support/http';

let sys: TestSystem;
let app: Express;

beforeAll(async () => {
  sys = await startTestSystem();
  app = testApp(sys);
});
afterAll(async () => {
  await sys?.close();
});

const OWNER = 'yaodu/applicant';
const NDRC = 'ndrc/reviewer';

const http = httpAs(() => app);
const get = http.get;
const send = (method: 'post' | 'patch', who: string, path: string, body: object, ifMatch?: string) =>
  method === 'post'
    ? http.post(who, path, body, ifMatch === undefined ? {} : { 'If-Match': ifMatch })
    : http.patch(who, path, body, ifMatch);
/** The project as the read model shows it once it has caught up with `version`. */
async function projectAt(id: string, version: number) {
  return eventually(
    () => get(OWNER, `/projects/${id}`),
    (r) => r.status === 200 && r.headers.etag === `"v${version}"`,
  );
}

test('a RETURN, a revision the reviewer sees as a diff, and a resubmission; a stale or missing If-Match changes nothing', async () => {
  // Arrange: a DRAFT submitted and returned by 市发改委 at screening.
  const created = await send('post', OWNER, '/projects', {
    ...CREATE_PROJECT_EXAMPLE,
    name: '退回修改再申报项目',
  });
  const id = created.body.projectId as string;
  await send('post', OWNER, `/projects/${id}/submit`, {});
  const returned = await send('post', NDRC, `/tasks/${id}~R1-T1-ndrc/decision`, {
    decision: 'RETURN',
    opinion: '总投资测算偏低，请按最新造价核实',
  });
  expect(returned.status).toBe(200);
  const before = await eventually(
    () => get(OWNER, `/projects/${id}`),
    (r) => r.body.stage === 'DRAFT',
  );
  expect(before.headers.etag).toBe('"v1"');

  // Act: the owner revises what the reviewer asked about, starting from version 1.
  const revised = await send(
    'patch',
    OWNER,
    `/projects/${id}`,
    { totalInvestmentYuan: 420_000_000, contactPerson: '李工', reason: '按初审意见核实造价' },
    '"v1"',
  );

  // Assert: version 2, and the reviewer sees exactly what changed since its RETURN, with its opinion.
  expect(revised.status).toBe(200);
  expect(revised.headers.etag).toBe('"v2"');
  await projectAt(id, 2);
  const seen = await get(NDRC, `/projects/${id}/revisions`);
  expect(seen.status).toBe(200);
  expect(seen.body.sinceLastReturn).toMatchObject({
    by: 'ndrc',
    opinion: '总投资测算偏低，请按最新造价核实',
    changes: expect.arrayContaining([
      { field: 'totalInvestmentYuan', from: 350_000_000, to: 420_000_000 },
      { field: 'contactPerson', from: null, to: '李工' },
    ]),
  });
  expect(seen.body.revisions).toEqual([
    expect.objectContaining({
      version: 2,
      via: 'EDIT',
      reason: '按初审意见核实造价',
      actor: expect.objectContaining({ userId: 'yaodu-applicant-user', org: 'yaodu' }),
    }),
  ]);

  // A second editor still holding version 1 is refused and changes nothing; so is an edit without If-Match.
  const stale = await send('patch', OWNER, `/projects/${id}`, { totalInvestmentYuan: 1 }, '"v1"');
  expect(stale.status).toBe(412);
  expect(stale.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(stale.body).toMatchObject({ status: 412, currentVersion: 2 });
  const blind = await send('patch', OWNER, `/projects/${id}`, { totalInvestmentYuan: 1 });
  expect(blind.status).toBe(428);
  expect((await sys.projects.query(id)).details.totalInvestmentYuan).toBe(420_000_000);

  // The owner resubmits: round 2 of screening starts from the revised project.
  const again = await send('post', OWNER, `/projects/${id}/submit`, {});
  expect(again.status).toBe(200);
  const live = await sys.projects.query(id);
  expect(live).toMatchObject({ stage: 'DEPT_SCREENING', round: 2, detailsVersion: 2 });
});

test('past 谋划 the facts others rely on change by a change request that 市发改委 approves or refuses; small facts change directly', async () => {
  // Arrange: a project already in the reserve library.
  const onboarded = await send('post', 'project-center/supervisor', '/projects', {
    ...CREATE_PROJECT_EXAMPLES.reserve.value,
    name: '年度计划调整项目',
  });
  const id = onboarded.body.projectId as string;
  expect(onboarded.body.stage).toBe('RESERVE');
  await projectAt(id, 1);

  // A relied-on fact cannot simply be patched; a small one can.
  const direct = await send('patch', OWNER, `/projects/${id}`, { annualPlanYuan: 150_000_000 }, '"v1"');
  expect(direct.status).toBe(409);
  expect(direct.body.type).toBe('https://project-pipeline.dev/problems/change-request-required');
  const contact = await send('patch', OWNER, `/projects/${id}`, { contactPhone: '0357-2021234' }, '"v1"');
  expect(contact.status).toBe(200);
  expect(contact.headers.etag).toBe('"v2"');

  // Act 1: a change request, approved.
  const asked = await send(
    'post',
    OWNER,
    `/projects/${id}/change-requests`,
    { changes: { annualPlanYuan: 150_000_000 }, reason: '征地提前完成，加快建设' },
    '"v2"',
  );
  expect(asked.status).toBe(200);
  const inbox = await eventually(
    () => get(NDRC, '/tasks'),
    (r) => (r.body.tasks as { taskId: string }[]).some((t) => t.taskId === asked.body.taskId),
  );
  expect(
    (inbox.body.tasks as { taskId: string; kind: string }[]).find((t) => t.taskId === asked.body.taskId)
      ?.kind,
  ).toBe('CHANGE_REQUEST');
  const approved = await send('post', NDRC, `/tasks/${asked.body.taskId as string}/change-decision`, {
    decision: 'APPROVE',
    opinion: '同意调整',
  });

  // Assert 1: the new annual plan is in force as version 3, approved by 市发改委.
  expect(approved.status).toBe(200);
  expect(approved.headers.etag).toBe('"v3"');
  const after = await projectAt(id, 3);
  expect(after.body.details.annualPlanYuan).toBe(150_000_000);

  // Act 2: a second request, refused with an opinion.
  const second = await send(
    'post',
    OWNER,
    `/projects/${id}/change-requests`,
    { changes: { totalInvestmentYuan: 999_000_000, plannedCompletion: '2029-12-31' }, reason: '扩大规模' },
    '"v3"',
  );
  const refusedWithout = await send('post', NDRC, `/tasks/${second.body.taskId as string}/change-decision`, {
    decision: 'REFUSE',
  });
  expect(refusedWithout.status).toBe(422);
  const refused = await send('post', NDRC, `/tasks/${second.body.taskId as string}/change-decision`, {
    decision: 'REFUSE',
    opinion: '扩规模需重新报批可研',
  });

  // Assert 2: nothing changed; both requests and every version are on record.
  expect(refused.status).toBe(200);
  const live = await sys.projects.query(id);
  expect(live.details.totalInvestmentYuan).toBe(CREATE_PROJECT_EXAMPLES.reserve.value.totalInvestmentYuan);
  expect(live.detailsVersion).toBe(3);
  const history = await eventually(
    () => get('city-supervision/supervisor', `/projects/${id}/revisions`),
    (r) =>
      (r.body.changeRequests as { status: string }[] | undefined)?.filter((c) => c.status !== 'OPEN')
        .length === 2,
  );
  expect((history.body.changeRequests as { status: string }[]).map((c) => c.status)).toEqual([
    'APPROVED',
    'REFUSED',
  ]);
  expect(history.body.revisions).toEqual([
    expect.objectContaining({
      version: 2,
      via: 'EDIT',
      changes: [{ field: 'contactPhone', from: null, to: '0357-2021234' }],
    }),
    expect.objectContaining({
      version: 3,
      via: 'CHANGE_REQUEST',
      reason: '征地提前完成，加快建设',
      changes: [{ field: 'annualPlanYuan', from: 120_000_000, to: 150_000_000 }],
      changeRequest: expect.objectContaining({ approvedBy: expect.objectContaining({ org: 'ndrc' }) }),
    }),
  ]);
  const trail = await get('city-supervision/supervisor', `/projects/${id}/events`);
  expect((trail.body.events as { type: string }[]).filter((e) => e.type === 'DETAILS_REVISED')).toHaveLength(
    2,
  );
});

test('a project under review cannot be edited, and another organisation cannot see the project to patch it', async () => {
  const created = await send('post', OWNER, '/projects', { ...CREATE_PROJECT_EXAMPLE, name: '评审中项目' });
  const id = created.body.projectId as string;
  await send('post', OWNER, `/projects/${id}/submit`, {});

  const underReview = await send('patch', OWNER, `/projects/${id}`, { contactPerson: '张三' }, '"v1"');
  expect(underReview.status).toBe(409);
  expect(underReview.body.type).toBe('https://project-pipeline.dev/problems/wrong-stage');

  const outsider = await send(
    'patch',
    'quwo/applicant',
    `/projects/${id}`,
    { contactPerson: '张三' },
    '"v1"',
  );
  expect(outsider.status).toBe(404);
  expect((await sys.projects.query(id)).details.contactPerson).toBeUndefined();
});
