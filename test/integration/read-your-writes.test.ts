import type { Express } from 'express';
import { CREATE_PROJECT_EXAMPLE, CREATE_PROJECT_EXAMPLES, EXAMPLES } from '../../api/schemas';
import { startTestSystem, type TestSystem } from '../support/harness';
import { testApp } from '../support/api';
import { httpAs } from '../support/http';
import { actor } from '../support/fixtures';
import { auditTrailOf } from '../../db/queries';

let sys: TestSystem;
let app: Express;

beforeAll(async () => {
  sys = await startTestSystem();
  app = testApp(sys);
});
afterAll(async () => {
  await sys?.close();
});

const http = httpAs(() => app);
const call = (method: 'post' | 'patch' | 'get', who: string, path: string, body?: object, ifMatch?: string) =>
  http.call(method, who, path, body, ifMatch === undefined ? {} : { 'If-Match': ifMatch });
const OWNER = 'yaodu/applicant';
const trailTypes = async (id: string) =>
  ((await call('get', OWNER, `/projects/${id}/events`)).body.events as { type: string }[]).map((e) => e.type);
const inboxOf = async (who: string, id: string) =>
  ((await call('get', who, '/tasks')).body.tasks as { projectId: string; taskId: string }[]).filter(
    (t) => t.projectId === id,
  );

// No waiting between an action and the read that follows it: the 2xx means the read model shows it.
test('after each action’s 2xx, the very next GET, inbox and trail show its effect', async () => {
  const created = await call('post', OWNER, '/projects', { ...CREATE_PROJECT_EXAMPLE, name: '读己所写项目' });
  const id = created.body.projectId as string;

  // submit
  expect((await call('post', OWNER, `/projects/${id}/submit`, {})).status).toBe(200);
  expect((await call('get', OWNER, `/projects/${id}`)).body.stage).toBe('DEPT_SCREENING');
  expect(await inboxOf('ndrc/reviewer', id)).toHaveLength(1);
  expect(await trailTypes(id)).toContain('SUBMITTED');

  // a screening decision
  const decided = await call('post', 'ndrc/reviewer', `/tasks/${id}~R1-T1-ndrc/decision`, EXAMPLES.decision);
  expect(decided.status).toBe(200);
  expect(await inboxOf('ndrc/reviewer', id)).toEqual([]);
  expect(await trailTypes(id)).toContain('REVIEW_DECIDED');
  const view = (await call('get', OWNER, `/projects/${id}`)).body as { openTasks: { id: string }[] };
  expect(view.openTasks.map((t) => t.id)).not.toContain(`${id}~R1-T1-ndrc`);

  // a RETURN, then an edit: the new ETag at once
  await call('post', 'finance/reviewer', `/tasks/${id}~R1-T1-finance/decision`, {
    decision: 'RETURN',
    opinion: '补充资金来源说明',
  });
  expect((await call('get', OWNER, `/projects/${id}`)).body.stage).toBe('DRAFT');
  expect((await call('patch', OWNER, `/projects/${id}`, { contactPerson: '王工' }, '"v1"')).status).toBe(200);
  const after = await call('get', OWNER, `/projects/${id}`);
  expect(after.headers.etag).toBe('"v2"');
  expect(after.body.details.contactPerson).toBe('王工');
});

test('an onboarded project’s progress report and payment show at once', async () => {
  const created = await call('post', 'project-center/supervisor', '/projects', {
    ...CREATE_PROJECT_EXAMPLES.underConstruction.value,
    name: '读己所写实施项目',
  });
  const id = created.body.projectId as string;
  const period = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 7);

  expect(
    (
      await call('post', OWNER, `/projects/${id}/progress-reports`, {
        period,
        ytdInvestmentYuan: 1_000_000,
        cumulativeInvestmentYuan: 200_000_000,
        fundsReceivedYuan: 0,
        physicalProgress: '施工中',
      })
    ).status,
  ).toBe(200);
  expect(
    ((await call('get', OWNER, `/projects/${id}`)).body.state.reports as { period: string }[]).at(-1)?.period,
  ).toBe(period);

  expect((await call('post', OWNER, `/projects/${id}/payments`, EXAMPLES.payment)).status).toBe(200);
  expect((await call('get', OWNER, `/projects/${id}`)).body.state.cumulativePaidYuan).toBe(
    170_000_000 + EXAMPLES.payment.amountYuan,
  );
  expect(await trailTypes(id)).toEqual(expect.arrayContaining(['PROGRESS_REPORTED', 'PAYMENT_RECORDED']));
});

// A browser keeps the ETag (the details version) and asks again with If-None-Match: the stage moved on while the
// details did not, so a 304 would show the old state.
test('a conditional GET after an action answers the new state, never 304, and nothing is stored', async () => {
  const created = await call('post', OWNER, '/projects', { ...CREATE_PROJECT_EXAMPLE, name: '条件请求项目' });
  const id = created.body.projectId as string;
  const first = await call('get', OWNER, `/projects/${id}`);
  expect(first.headers['cache-control']).toBe('no-store');
  const etag = first.headers.etag as string;
  expect((await call('post', OWNER, `/projects/${id}/submit`, {})).status).toBe(200);
  const again = await http.call('get', OWNER, `/projects/${id}`, undefined, { 'If-None-Match': etag });
  expect(again.status).toBe(200);
  expect(again.body.stage).toBe('DEPT_SCREENING');
});

// The workflow itself answers an action only once the write carrying it has landed (from 1.1), so the API
// answers without reading Mongo: the record, the trail and the inbox hold it the moment the Update returns.
test('an action’s Update completes only once the read model holds it', async () => {
  const created = await call('post', OWNER, '/projects', {
    ...CREATE_PROJECT_EXAMPLE,
    name: '记录后应答项目',
  });
  const id = created.body.projectId as string;
  const submitted = await sys.projects.act(id, 'direct-submit', actor('yaodu', 'applicant'), {
    type: 'submit',
  });
  expect(submitted.recorded).toBe(true);
  const record = await sys.models.Project.findById(id, { seq: 1, stage: 1 }).lean();
  expect(record?.seq).toBeGreaterThanOrEqual(submitted.seq);
  expect(record?.stage).toBe('DEPT_SCREENING');
  expect(await sys.models.inboxOf('ndrc').findById(`${id}~R1-T1-ndrc`).lean()).not.toBeNull();

  const reviewer = actor('ndrc');
  const decided = await sys.projects.act(id, 'direct-decision', reviewer, {
    type: 'decideReview',
    taskId: `${id}~R1-T1-ndrc`,
    decision: 'PASS',
    opinion: '同意',
  });
  expect(decided.recorded).toBe(true);
  expect(await sys.models.inboxOf('ndrc').findById(`${id}~R1-T1-ndrc`).lean()).toBeNull();
  expect((await auditTrailOf(sys.models, id)).map((e) => e.seq)).toContain(decided.seq);
  // A repeat under the same request id is answered the same way, at once.
  const again = await sys.projects.act(id, 'direct-decision', reviewer, {
    type: 'decideReview',
    taskId: `${id}~R1-T1-ndrc`,
    decision: 'PASS',
    opinion: '同意',
  });
  expect(again).toEqual(decided);
});
