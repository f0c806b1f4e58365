import request from 'supertest';
import type { Express } from 'express';
import { CREATE_PROJECT_EXAMPLE, EXAMPLES } from '../../api/schemas';
import { eventually, startTestSystem, type TestSystem } from '../support/harness';
import { testApp, token } from '../support/api';

let sys: TestSystem;
let app: Express;
let projectId: string;
let screeningTaskId: string;

const OWNER = 'yaodu/applicant';
const SCREENER = 'finance/reviewer'; // tier 1 screens every project
const OUTSIDER = 'transport/reviewer'; // the example project is a housing project: transport never screens it
const OWN_GROUP = 'sg-urban/leader'; // the example project's portfolio
const OTHER_GROUP = 'sg-industry/leader';
const SUPERVISOR = 'project-center/supervisor';

async function auth(who: string): Promise<string> {
  const [org, role] = who.split('/') as [string, string];
  return `Bearer ${await token(`${org}-${role}-user`, org, role)}`;
}
async function get(who: string, path: string) {
  return request(app)
    .get(`/api/v1${path}`)
    .set('Authorization', await auth(who));
}
async function post(who: string, path: string, body?: unknown) {
  const r = request(app)
    .post(`/api/v1${path}`)
    .set('Authorization', await auth(who));
  return body === undefined ? r : r.send(body as object);
}
async function listed(who: string): Promise<string[]> {
  const res = await get(who, '/projects?limit=200');
  expect(res.status).toBe(200);
  return (res.body.projects as { projectId: string }[]).map((p) => p.projectId);
}

beforeAll(async () => {
  sys = await startTestSystem();
  app = testApp(sys);

  // A project submitted for screening; 市财政局 screens it (PASS) and its task closes, while the other
  // departments' screenings stay open.
  const created = await post(OWNER, '/projects', CREATE_PROJECT_EXAMPLE);
  expect(created.status).toBe(201);
  projectId = created.body.projectId as string;
  expect((await post(OWNER, `/projects/${projectId}/submit`)).status).toBe(200);
  const inbox = await eventually(
    () => get(SCREENER, '/tasks'),
    (r) => (r.body.tasks as { projectId: string }[]).some((t) => t.projectId === projectId),
  );
  screeningTaskId = (inbox.body.tasks as { projectId: string; taskId: string }[]).find(
    (t) => t.projectId === projectId,
  )!.taskId;
  expect((await post(SCREENER, `/tasks/${screeningTaskId}/decision`, EXAMPLES.decision)).status).toBe(200);
  // The read model has caught up: the screening task is closed there too.
  await eventually(
    () => get(SUPERVISOR, `/projects/${projectId}`),
    (r) =>
      r.body.source === 'read-model' &&
      r.body.stage === 'DEPT_SCREENING' &&
      (r.body.openTasks as { id: string }[]).length > 0 &&
      !(r.body.openTasks as { id: string }[]).some((t) => t.id === screeningTaskId),
  );
});
afterAll(async () => {
  await sys?.close();
});

test('a department that screened a project keeps reading it, its trail and its list entry after its task closed', async () => {
  // Act
  const project = await get(SCREENER, `/projects/${projectId}`);
  const events = await get(SCREENER, `/projects/${projectId}/events`);

  // Assert
  expect(project.status).toBe(200);
  expect((project.body.openTasks as { assigneeOrg: string }[]).map((t) => t.assigneeOrg)).not.toContain(
    'finance',
  );
  expect(events.status).toBe(200);
  expect(
    (events.body.events as { type: string; actor?: { org: string } }[]).some(
      (e) => e.type === 'REVIEW_DECIDED' && e.actor?.org === 'finance',
    ),
  ).toBe(true);
  expect(await listed(SCREENER)).toContain(projectId);
});

test('a department that never held a task of the project gets 404 for it and its trail, and does not find it in the list', async () => {
  // Act
  const project = await get(OUTSIDER, `/projects/${projectId}`);
  const events = await get(OUTSIDER, `/projects/${projectId}/events`);

  // Assert: answered as if the project did not exist.
  expect(project.status).toBe(404);
  expect(project.body.type).toBe('https://project-pipeline.dev/problems/not-found');
  expect(events.status).toBe(404);
  expect(await listed(OUTSIDER)).not.toContain(projectId);
});

test('the owner’s organisation reads its project and its trail', async () => {
  const project = await get(OWNER, `/projects/${projectId}`);
  const events = await get(OWNER, `/projects/${projectId}/events`);

  expect(project.status).toBe(200);
  expect(project.body.details.ownerOrg).toBe('yaodu');
  expect(events.status).toBe(200);
  expect(await listed(OWNER)).toContain(projectId);
});

test('the special group of the project’s portfolio reads it; the leader of another portfolio gets 404', async () => {
  const own = await get(OWN_GROUP, `/projects/${projectId}`);
  const other = await get(OTHER_GROUP, `/projects/${projectId}`);

  expect(own.status).toBe(200);
  expect(await listed(OWN_GROUP)).toContain(projectId);
  expect(other.status).toBe(404);
  expect((await get(OTHER_GROUP, `/projects/${projectId}/events`)).status).toBe(404);
  expect(await listed(OTHER_GROUP)).not.toContain(projectId);
});

test('a supervisor and the leading group read every project', async () => {
  for (const who of [SUPERVISOR, 'leading-group/leader']) {
    expect((await get(who, `/projects/${projectId}`)).status).toBe(200);
    expect((await get(who, `/projects/${projectId}/events`)).status).toBe(200);
    expect(await listed(who)).toContain(projectId);
  }
});
