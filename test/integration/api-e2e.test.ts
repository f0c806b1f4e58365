import request from 'supertest';
import type { Express } from 'express';
import { SignJWT } from 'jose';
import { CREATE_PROJECT_EXAMPLE, EXAMPLES } from '../../api/schemas';
import { eventually, startTestSystem, type TestSystem } from '../support/harness';
import { secondsPolicy } from '../support/policies';
import { testApp, token, TEST_JWT_SECRET } from '../support/api';

let sys: TestSystem;
let app: Express;
const tokens: Record<string, string> = {};

async function as(who: string): Promise<string> {
  const [org, role] = who.split('/') as [string, string];
  tokens[who] ??= await token(`${org}-${role}`, org, role);
  return `Bearer ${tokens[who]}`;
}

async function post(who: string, path: string, body?: unknown, key?: string) {
  const r = request(app)
    .post(`/api/v1${path}`)
    .set('Authorization', await as(who));
  if (key) void r.set('Idempotency-Key', key);
  return body === undefined ? r : r.send(body as object);
}

async function get(who: string, path: string) {
  return request(app)
    .get(`/api/v1${path}`)
    .set('Authorization', await as(who));
}

/** The reviewer finds the task in its organisation's inbox, as a person would. */
async function inboxTask(
  who: string,
  projectId: string,
  match: (t: { kind: string; title: string; taskId: string }) => boolean = () => true,
) {
  const res = await eventually(
    () => get(who, '/tasks'),
    (r) =>
      r.status === 200 &&
      (r.body.tasks as { projectId: string }[]).some((t) => t.projectId === projectId && match(t as never)),
  );
  return (res.body.tasks as { projectId: string; taskId: string; kind: string; title: string }[]).find(
    (t) => t.projectId === projectId && match(t),
  )!;
}

async function stage(projectId: string) {
  return (await get('project-center/supervisor', `/projects/${projectId}`)).body.stage as string;
}

beforeAll(async () => {
  sys = await startTestSystem({ policy: secondsPolicy(8) });
  app = testApp(sys);
});
afterAll(async () => {
  await sys?.close();
});

test('a whole lifecycle driven only through the API by the roles that own each step, then its history shows it all', async () => {
  const created = await post('yaodu/applicant', '/projects', CREATE_PROJECT_EXAMPLE);
  expect(created.status).toBe(201);
  const id = created.body.projectId as string;
  expect((await post('yaodu/applicant', `/projects/${id}/submit`)).status).toBe(200);

  // Four departments decide at once; the fifth lets its deadline pass first (reminders, then L1).
  for (const org of ['finance', 'approval-bureau', 'natural-resources', 'housing']) {
    const t = await inboxTask(`${org}/reviewer`, id);
    expect((await post(`${org}/reviewer`, `/tasks/${t.taskId}/decision`, EXAMPLES.decision)).status).toBe(
      200,
    );
  }
  const late = await inboxTask('ndrc/reviewer', id);
  await eventually(
    () => get('ndrc/reviewer', '/tasks'),
    (r) =>
      (r.body.tasks as { taskId: string; escalationLevel: number }[]).some(
        (t) => t.taskId === late.taskId && t.escalationLevel >= 1,
      ),
    30_000,
  );
  expect((await post('ndrc/reviewer', `/tasks/${late.taskId}/decision`, EXAMPLES.decision)).status).toBe(200);

  // 专业评审 with its three assessments recommends it; this month's joint meeting, convened today, includes it in the
  // 重点项目库 with its fund allocation.
  const t2 = await inboxTask('sg-urban/leader', id);
  expect(
    (
      await post('sg-urban/leader', `/tasks/${t2.taskId}/specialist-review`, {
        outcome: 'RECOMMENDED',
        assessments: {
          technical: '技术方案可行',
          investmentBenefit: '投资效益良好',
          riskControl: '风险可控',
        },
      })
    ).status,
  ).toBe(200);
  const t3 = await inboxTask('leading-group/leader', id);
  const today = new Date(Date.now() + 8 * 3_600_000);
  const day = today.toISOString().slice(0, 10);
  const thisMonth = day.slice(0, 7);
  expect(
    (await post('leading-group/leader', '/joint-meetings', { month: thisMonth, date: day })).status,
  ).toBeLessThan(300);
  expect(
    (
      await post('leading-group/leader', `/tasks/${t3.taskId}/comprehensive-review`, {
        meetingMonth: thisMonth,
        included: true,
        opinion: '纳入年度重点项目库',
        fundAllocation: { amountYuan: 50_000_000, sourceType: 'SPECIAL_BONDS', year: today.getUTCFullYear() },
      })
    ).status,
  ).toBe(200);
  await inboxTask('ndrc/reviewer', id, (t) => t.kind === 'GATE');
  expect((await post('ndrc/reviewer', `/projects/${id}/plan-inclusion`, EXAMPLES.planInclusion)).status).toBe(
    200,
  );
  await eventually(
    () => stage(id),
    (s) => s === 'RESERVE',
  );

  const live = await sys.projects.query(id);
  for (const m of live.tasks.filter((t) => t.kind === 'APPROVAL_MATTER' && t.status === 'OPEN')) {
    const res = await post(`${m.assigneeOrg}/reviewer`, `/tasks/${m.id}/complete`, EXAMPLES.completeTask);
    expect(res.status).toBe(200);
  }
  expect((await post('yaodu/applicant', `/projects/${id}/project-code`, EXAMPLES.projectCode)).status).toBe(
    200,
  );
  await eventually(
    () => stage(id),
    (s) => s === 'PRE_CONSTRUCTION',
  );

  const steps = (await sys.projects.query(id)).tasks.filter((t) => t.kind === 'STEP' && t.status === 'OPEN');
  for (const s of steps) {
    const who = s.assigneeOrg === 'yaodu' ? 'yaodu/applicant' : `${s.assigneeOrg}/reviewer`;
    const body =
      s.key === 'S-PRELIMINARY_DESIGN'
        ? { ...EXAMPLES.completeTask, approvedEstimateYuan: 340_000_000 }
        : EXAMPLES.completeTask;
    expect((await post(who, `/tasks/${s.id}/complete`, body)).status).toBe(200);
  }
  expect((await post('finance/reviewer', `/projects/${id}/funding`, EXAMPLES.funding)).status).toBe(200);
  const applied = await post('yaodu/applicant', `/projects/${id}/start`, EXAMPLES.start);
  expect(applied.status).toBe(200);
  expect(applied.body.stage).toBe('PRE_CONSTRUCTION'); // applied for; the 开工条件核查 is the responsible department's
  expect(
    (
      await post(
        'housing/reviewer',
        `/tasks/${applied.body.taskId as string}/start-check`,
        EXAMPLES.startCheck,
      )
    ).status,
  ).toBe(200);
  expect((await post('yaodu/applicant', `/projects/${id}/progress-reports`, EXAMPLES.progress)).status).toBe(
    200,
  );
  expect((await post('yaodu/applicant', `/projects/${id}/payments`, EXAMPLES.payment)).status).toBe(200);
  expect((await post('housing/reviewer', `/projects/${id}/completion`, EXAMPLES.completion)).status).toBe(
    200,
  );
  await eventually(
    () => stage(id),
    (s) => s === 'COMPLETED',
  );

  const history = await eventually(
    () => get('project-center/supervisor', `/projects/${id}/history`),
    (r) =>
      r.status === 200 && (r.body.entries as { what: string }[]).some((e) => e.what === '项目工作流结束'),
  );
  const entries = history.body.entries as {
    what: string;
    source: string;
    actor?: { org?: string };
    details?: Record<string, unknown>;
  }[];
  const audit = entries.filter((e) => e.source === 'audit').map((e) => e.what);
  for (const s of [
    'DEPT_SCREENING',
    'SPECIALIST_REVIEW',
    'COMPREHENSIVE_REVIEW',
    'RESERVE',
    'PRE_CONSTRUCTION',
    'UNDER_CONSTRUCTION',
    'COMPLETED',
  ]) {
    expect(entries.some((e) => e.source === 'audit' && e.details?.stageAfter === s)).toBe(true);
  }
  expect(audit.filter((w) => w === 'REVIEW_DECIDED')).toHaveLength(5); // 初审
  expect(audit).toEqual(
    expect.arrayContaining(['SPECIALIST_REVIEW_DECIDED', 'COMPREHENSIVE_REVIEW_DECIDED']),
  );
  expect(audit).toEqual(expect.arrayContaining(['REMINDER_SENT', 'ESCALATED', 'COMPLETION_ACCEPTED']));
  expect(
    entries.some(
      (e) => e.source === 'temporal' && e.what.startsWith('受理操作 decideReview') && e.actor?.org === 'ndrc',
    ),
  ).toBe(true);
  expect(entries.some((e) => e.source === 'temporal' && e.what.startsWith('计时器'))).toBe(true);
  expect(history.body.temporalUi[0].url).toMatch(
    /^http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\/project-/,
  );

  const raw = await get('project-center/supervisor', `/projects/${id}/history?format=temporal`);
  expect(raw.status).toBe(200);
  expect(raw.body.runs[0].history.events[0].eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
  expect((await get('yaodu/applicant', `/projects/${id}/history`)).status).toBe(403);
});

describe('every bad input answers its problem+json and changes nothing', () => {
  let id: string;
  let taskId: string;
  let seq: string;
  // What a person could change; reminders keep firing on their own meanwhile, so seq is no measure here.
  const fingerprint = async () => {
    const l = await sys.projects.query(id);
    return JSON.stringify([
      l.stage,
      l.round,
      l.projectCode,
      l.payments,
      l.reports,
      l.tasks.map((t) => [t.id, t.status, t.decision, t.clock?.extensions.length, t.clock?.pauses.length]),
    ]);
  };
  beforeAll(async () => {
    id = (await post('yaodu/applicant', '/projects', CREATE_PROJECT_EXAMPLE)).body.projectId as string;
    await post('yaodu/applicant', `/projects/${id}/submit`);
    taskId = (await inboxTask('finance/reviewer', id)).taskId;
  });
  beforeEach(async () => {
    seq = await fingerprint();
  });
  afterEach(async () => {
    expect(await fingerprint()).toBe(seq);
  });

  const problem = (res: request.Response, status: number, type: string) => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toBe(`https://project-pipeline.dev/problems/${type}`);
    expect(res.headers['x-request-id']).toBeTruthy();
  };

  test('malformed JSON', async () => {
    const res = await request(app)
      .post(`/api/v1/tasks/${taskId}/decision`)
      .set('Authorization', await as('finance/reviewer'))
      .set('Content-Type', 'application/json')
      .send('{"decision": "PASS",');
    problem(res, 400, 'malformed-json');
  });
  test('missing, extra and wrongly typed fields, with their paths', async () => {
    const res = await post('finance/reviewer', `/tasks/${taskId}/decision`, { opinion: 1, verdict: 'PASS' });
    problem(res, 400, 'validation');
    const paths = (res.body.errors as { path: string }[]).map((e) => e.path).sort();
    expect(paths).toEqual(expect.arrayContaining(['decision', 'opinion']));
    expect(JSON.stringify(res.body.errors)).toMatch(/verdict/);
  });
  test('unknown project and unknown task', async () => {
    problem(await post('yaodu/applicant', '/projects/Pnope/submit'), 404, 'not-found');
    problem(
      await post('finance/reviewer', `/tasks/${id}~R1-T1-nope/decision`, EXAMPLES.decision),
      404,
      'unknown-task',
    );
  });
  test('wrong role and wrong organisation', async () => {
    problem(
      await post('project-center/supervisor', `/tasks/${taskId}/decision`, EXAMPLES.decision),
      403,
      'forbidden',
    );
    problem(
      await post('water/reviewer', `/tasks/${taskId}/decision`, EXAMPLES.decision),
      403,
      'not-assignee',
    );
  });
  test('wrong stage and a second decision', async () => {
    problem(await post('yaodu/applicant', `/projects/${id}/payments`, EXAMPLES.payment), 409, 'wrong-stage');
    const other = await inboxTask('housing/reviewer', id);
    await post('housing/reviewer', `/tasks/${other.taskId}/decision`, EXAMPLES.decision);
    seq = await fingerprint();
    problem(
      await post('housing/reviewer', `/tasks/${other.taskId}/decision`, {
        decision: 'REJECT',
        opinion: '再议',
      }),
      409,
      'already-decided',
    );
  });
  test('an oversized body', async () => {
    problem(
      await post('finance/reviewer', `/tasks/${taskId}/decision`, {
        decision: 'PASS',
        opinion: 'x'.repeat(200_000),
      }),
      413,
      'body-too-large',
    );
  });
  test('an expired or forged token', async () => {
    const expired = await new SignJWT({ org: 'finance', roles: ['reviewer'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u')
      .setIssuedAt(1_600_000_000)
      .setExpirationTime(1_600_000_100)
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const forged = await new SignJWT({ org: 'finance', roles: ['reviewer'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-of-at-least-32-characters'));
    for (const t of [expired, forged, 'not-a-jwt']) {
      problem(
        await request(app)
          .post(`/api/v1/tasks/${taskId}/decision`)
          .set('Authorization', `Bearer ${t}`)
          .send(EXAMPLES.decision),
        401,
        'unauthenticated',
      );
    }
  });
});

test('the same POST with the same Idempotency-Key twice has one effect and one answer', async () => {
  const a = await post('yaodu/applicant', '/projects', CREATE_PROJECT_EXAMPLE, 'create-key-0001');
  const b = await post('yaodu/applicant', '/projects', CREATE_PROJECT_EXAMPLE, 'create-key-0001');
  expect(a.status).toBe(201);
  expect(b.status).toBe(201);
  expect(b.body.projectId).toBe(a.body.projectId);
  const id = a.body.projectId as string;
  const s1 = await post('yaodu/applicant', `/projects/${id}/submit`, undefined, 'submit-key-0001');
  // Deadlines are computed right after the submission; wait for that before comparing.
  const { seq } = await eventually(
    () => sys.projects.query(id),
    (l) => l.tasks.every((t) => t.deadline !== undefined),
  );
  const s2 = await post('yaodu/applicant', `/projects/${id}/submit`, undefined, 'submit-key-0001');
  expect(s2.status).toBe(200);
  expect(s2.body).toEqual(s1.body);
  expect((await sys.projects.query(id)).seq).toBe(seq);
  expect((await sys.projects.query(id)).round).toBe(1);
});

test('OpenAPI is generated from the schemas, every request body carries a valid example, and docs are served', async () => {
  const spec = (await request(app).get('/api/v1/openapi.json')).body as {
    paths: Record<
      string,
      Record<string, { requestBody?: { content: Record<string, { example?: unknown; examples?: unknown }> } }>
    >;
  };
  const ops = Object.values(spec.paths).flatMap((p) => Object.values(p));
  expect(ops.length).toBeGreaterThan(25);
  const bodies = ops.flatMap((o) => (o.requestBody ? [o.requestBody.content] : []));
  // Every JSON body has an example; uploads (the bulk import) are files, described as binary.
  for (const content of bodies) {
    const json = content['application/json'];
    if (json) expect(json.example ?? json.examples).toBeDefined();
    else expect(Object.keys(content)).toContain('text/csv');
  }
  expect(bodies.filter((c) => !c['application/json'])).toHaveLength(1);
  const docs = await request(app).get('/api/v1/docs/');
  expect(docs.status).toBe(200);
  expect(docs.text).toMatch(/swagger-ui/);
});

test('GET /projects filters by library, county and text, pages with a cursor, and shows applicants only their own', async () => {
  const names = ['汾河生态修复工程', '汾河防洪堤加固', '尧都区污水处理厂'];
  const ids: string[] = [];
  for (const name of names)
    ids.push(
      (await post('houma/applicant', '/projects', { ...CREATE_PROJECT_EXAMPLE, name, county: 'houma' })).body
        .projectId as string,
    );
  await post('houma/applicant', `/projects/${ids[0]}/submit`);
  const all = await eventually(
    () => get('project-center/supervisor', '/projects?county=houma&limit=2&sort=name'),
    (r) => r.status === 200 && r.body.projects.length === 2 && typeof r.body.nextCursor === 'string',
  );
  const next = await get(
    'project-center/supervisor',
    `/projects?county=houma&limit=2&sort=name&cursor=${all.body.nextCursor as string}`,
  );
  const paged = [
    ...(all.body.projects as { name: string }[]),
    ...(next.body.projects as { name: string }[]),
  ].map((p) => p.name);
  expect(paged).toEqual([...names].sort());
  expect(next.body.nextCursor).toBeNull();
  const text = await get(
    'project-center/supervisor',
    `/projects?q=${encodeURIComponent('汾河')}&county=houma`,
  );
  expect((text.body.projects as { name: string }[]).map((p) => p.name).sort()).toEqual(
    names.slice(0, 2).sort(),
  );
  const library = await eventually(
    () => get('project-center/supervisor', '/projects?county=houma&stage=DEPT_SCREENING'),
    (r) => r.body.projects.length === 1,
  );
  expect(library.body.projects[0].projectId).toBe(ids[0]);
  const foreign = await get('yaodu/applicant', '/projects?county=houma');
  expect(foreign.body.projects).toEqual([]);
  problem400(await get('project-center/supervisor', '/projects?limit=0&cursor=%%%'));
});

test('an administrator loads next year’s official holiday arrangement; it is versioned and validated', async () => {
  const before = await get('project-center/admin', '/calendars');
  expect(before.body.coveredYears).not.toContain(2030);
  const body = {
    noticeNumber: '国办发明电〔2029〕7号',
    holidays: ['2030-01-01', '2030-10-01', '2030-10-02'],
    makeupWorkdays: ['2030-09-29'],
  };
  const put = await request(app)
    .put('/api/v1/calendars/2030')
    .set('Authorization', await as('project-center/admin'))
    .send(body);
  expect(put.status).toBe(200);
  expect(put.body).toMatchObject({
    year: 2030,
    version: 1,
    source: 'official',
    loadedBy: 'project-center-admin',
  });
  const again = await request(app)
    .put('/api/v1/calendars/2030')
    .set('Authorization', await as('project-center/admin'))
    .send(body);
  expect(again.body.version).toBe(2);
  const after = await get('project-center/admin', '/calendars');
  expect(after.body.coveredYears).toContain(2030);
  const bad = await request(app)
    .put('/api/v1/calendars/2031')
    .set('Authorization', await as('project-center/admin'))
    .send({ noticeNumber: 'x', holidays: ['2030-05-01'], makeupWorkdays: [] });
  expect(bad.status).toBe(422);
  expect(
    (
      await request(app)
        .put('/api/v1/calendars/2031')
        .set('Authorization', await as('project-center/supervisor'))
        .send(body)
    ).status,
  ).toBe(403);
});

function problem400(res: request.Response) {
  expect(res.status).toBe(400);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
}
