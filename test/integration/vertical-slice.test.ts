import request from 'supertest';
import mongoose from 'mongoose';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../api/app';
import { testApp, TEST_JWT_SECRET as SECRET } from '../support/api';
import { signLocalToken } from '../../api/auth';
import { projectWorkflowId } from '../../domain/project';
import { CREATE_PROJECT_EXAMPLE } from '../../api/schemas';
import { eventually, startTestSystem, type TestSystem } from '../support/harness';
import { freePort } from '../../infra/processes';

let sys: TestSystem;

function app(health?: Parameters<typeof createApp>[0]['health']) {
  return testApp(sys, health ? { health } : {});
}

beforeAll(async () => {
  sys = await startTestSystem();
});
afterAll(async () => {
  await sys?.close();
});

test('POST /api/v1/projects starts project-<id>, the activity writes it to Mongo, GET reads it back', async () => {
  const token = await signLocalToken(SECRET, { sub: 'wang', org: 'yaodu', roles: ['applicant'] });
  const created = await request(app())
    .post('/api/v1/projects')
    .set('Authorization', `Bearer ${token}`)
    .send(CREATE_PROJECT_EXAMPLE);
  expect(created.status).toBe(201);
  const id = created.body.projectId as string;
  expect(created.headers.location).toBe(`/api/v1/projects/${id}`);

  const description = await sys.client.workflow.getHandle(projectWorkflowId(id)).describe();
  expect(description.status.name).toBe('RUNNING');

  const stored = await eventually(
    () => sys.models.Project.findById(id).lean(),
    (d) => d !== null,
  );
  expect(stored!.details).toMatchObject({
    name: CREATE_PROJECT_EXAMPLE.name,
    ownerOrg: 'yaodu',
    totalInvestmentYuan: 350_000_000,
  });
  expect(stored!.stage).toBe('DRAFT');

  const read = await request(app()).get(`/api/v1/projects/${id}`).set('Authorization', `Bearer ${token}`);
  expect(read.status).toBe(200);
  expect(read.body).toMatchObject({ projectId: id, stage: 'DRAFT', library: '谋划', source: 'read-model' });
});

test('GET /healthz answers and GET /readyz is 200 when Temporal and Mongo are reachable', async () => {
  expect((await request(app()).get('/healthz')).status).toBe(200);
  const ready = await request(app()).get('/readyz');
  expect(ready.status).toBe(200);
  expect(ready.body).toMatchObject({ temporal: true, mongo: true, down: [] });
});

test('GET /readyz is 503 naming the dependency that is unreachable', async () => {
  const deadPort = await freePort();
  const deadMongo = mongoose.createConnection(`mongodb://127.0.0.1:${deadPort}/x`, {
    serverSelectionTimeoutMS: 300,
  });
  deadMongo.on('error', () => undefined);
  const mongoDown = await request(
    app({
      temporal: async () => (await sys.connection.healthService.check({}), true),
      mongo: async () => (await deadMongo.asPromise(), true),
    }),
  ).get('/readyz');
  expect(mongoDown.status).toBe(503);
  expect(mongoDown.body.down).toEqual(['mongo']);
  await deadMongo.close().catch(() => undefined);

  const deadTemporal = Connection.lazy({ address: `127.0.0.1:${deadPort}`, connectTimeout: 300 });
  const deadClient = new Client({ connection: deadTemporal });
  const temporalDown = await request(
    app({
      temporal: async () => (
        await deadClient.withDeadline(Date.now() + 500, () => deadTemporal.healthService.check({})),
        true
      ),
      mongo: async () => (await sys.mongo.db!.admin().ping(), true),
    }),
  ).get('/readyz');
  expect(temporalDown.status).toBe(503);
  expect(temporalDown.body.down).toEqual(['temporal']);
});

test('a create without a token is refused with a problem+json 401 and starts nothing', async () => {
  const before = await sys.models.Project.countDocuments();
  const res = await request(app()).post('/api/v1/projects').send(CREATE_PROJECT_EXAMPLE);
  expect(res.status).toBe(401);
  expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(await sys.models.Project.countDocuments()).toBe(before);
});
