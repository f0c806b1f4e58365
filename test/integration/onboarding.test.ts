import request from 'supertest';
import type { Express } from 'express';
import { CREATE_PROJECT_EXAMPLE, CREATE_PROJECT_EXAMPLES } from '../../api/schemas';
import { createInitialState } from '../../domain/lifecycle';
import { projectWorkflowId, type ProjectDetails } from '../../domain/project';
import { eventually, startTestSystem, type TestSystem } from '../support/harness';
import { secondsPolicy } from '../support/policies';
import { testApp } from '../support/api';
import { authAs, httpAs } from '../support/http';

let sys: TestSystem;
let app: Express;

/** Each "month" of the report obligation lasts this long here; the report is due one cycle after it opens. */
const CYCLE_SECONDS = 6;

beforeAll(async () => {
  const policy = secondsPolicy(8);
  policy.implementation.monthlyReportCycleSeconds = CYCLE_SECONDS;
  sys = await startTestSystem({ policy });
  app = testApp(sys);
});
afterAll(async () => {
  await sys?.close();
});

const OFFICE = 'project-center/supervisor';
const OWNER = 'yaodu/applicant';
const { post, get } = httpAs(() => app);
type Example = (typeof CREATE_PROJECT_EXAMPLES)[keyof typeof CREATE_PROJECT_EXAMPLES]['value'];
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const continuing = () =>
  clone(CREATE_PROJECT_EXAMPLES.underConstruction.value) as Example & Record<string, never>;

test('every named example of POST /projects in the OpenAPI document is valid as it stands and lands in its stage', async () => {
  const spec = (await request(app).get('/api/v1/openapi.json')).body as {
    paths: Record<string, Record<string, { requestBody: { content: Record<string, { examples: object }> } }>>;
  };
  const examples = spec.paths['/projects']!.post!.requestBody.content['application/json']!.examples as Record<
    string,
    { value: { name: string; onboarding?: { targetStage: string } } }
  >;
  expect(Object.keys(examples).sort()).toEqual(['draft', 'preConstruction', 'reserve', 'underConstruction']);
  for (const [name, { value }] of Object.entries(examples)) {
    const res = await post(value.onboarding ? OFFICE : OWNER, '/projects', {
      ...value,
      name: `${value.name}（示例 ${name}）`,
    });
    expect({ name, status: res.status, detail: res.body.detail as unknown }).toMatchObject({
      name,
      status: 201,
    });
    expect(res.body.stage).toBe(value.onboarding?.targetStage ?? 'DRAFT');
  }
});

test('a 续建 project onboarded under construction records each fact by who entered it, owes and files its monthly report, and its payments stay capped by the estimate', async () => {
  // Arrange
  const body = { ...continuing(), name: '续建项目月报与支付上限' };
  const onboarding = body.onboarding as unknown as {
    approvedEstimateYuan: number;
    investmentToDate: { cumulativePaidYuan: number; cumulativeInvestmentYuan: number };
  };

  // Act
  const created = await post(OFFICE, '/projects', body);

  // Assert: the project stands in 实施库 with its facts, and its trail names the person who entered them.
  expect(created.status).toBe(201);
  const id = created.body.projectId as string;
  expect(created.body).toMatchObject({ stage: 'UNDER_CONSTRUCTION', library: '实施' });
  const trail = await eventually(
    () => get(OWNER, `/projects/${id}/events`),
    (r) =>
      r.status === 200 && (r.body.events as { type: string }[]).some((e) => e.type === 'ONBOARDING_FACT'),
  );
  const facts = (
    trail.body.events as { type: string; actor?: { userId: string }; data: { fact?: string } }[]
  ).filter((e) => e.type === 'ONBOARDING_FACT');
  expect(facts.map((e) => e.data.fact)).toEqual(
    expect.arrayContaining([
      'PLAN_INCLUSION',
      'APPROVAL',
      'PROJECT_CODE',
      'FUNDING',
      'START',
      'INVESTMENT_TO_DATE',
    ]),
  );
  expect(new Set(facts.map((e) => e.actor?.userId))).toEqual(new Set(['project-center-supervisor-user']));
  expect((trail.body.events as { type: string }[]).some((e) => e.type === 'REVIEW_DECIDED')).toBe(false);

  // The month's report falls due: the owner finds it in its inbox and files it on time.
  const owed = await eventually(
    () => get(OWNER, '/tasks'),
    (r) =>
      (r.body.tasks as { projectId: string; kind: string }[]).some(
        (t) => t.projectId === id && t.kind === 'REPORT',
      ),
    30_000,
  );
  const reportTask = (
    owed.body.tasks as { projectId: string; kind: string; title: string; taskId: string }[]
  ).find((t) => t.projectId === id && t.kind === 'REPORT')!;
  const period = /REPORT-(\d{4}-\d{2})$/.exec(reportTask.taskId)![1]!;
  const lower = await post(OWNER, `/projects/${id}/progress-reports`, {
    period,
    ytdInvestmentYuan: 1_000_000,
    cumulativeInvestmentYuan: onboarding.investmentToDate.cumulativeInvestmentYuan - 1,
    fundsReceivedYuan: 0,
    physicalProgress: '主线桥梁施工',
  });
  expect(lower.status).toBe(422);
  expect(lower.body.field).toBe('cumulativeInvestmentYuan');
  // Listed as a field error too, where forms read them.
  expect(lower.body.errors).toEqual([
    { in: 'body', path: 'cumulativeInvestmentYuan', message: expect.stringContaining('cannot decrease') },
  ]);
  const filed = await post(OWNER, `/projects/${id}/progress-reports`, {
    period,
    ytdInvestmentYuan: 10_000_000,
    cumulativeInvestmentYuan: onboarding.investmentToDate.cumulativeInvestmentYuan + 10_000_000,
    fundsReceivedYuan: 5_000_000,
    physicalProgress: '主线桥梁施工完成60%',
  });
  expect(filed.status).toBe(200);
  expect(filed.body.message).toBe(`progress for ${period} recorded`);
  const live = await sys.projects.query(id);
  expect(live.tasks.find((t) => t.id === reportTask.taskId)).toMatchObject({
    status: 'DONE',
    result: { period, late: false },
  });

  // Payments: the estimate minus what was paid before onboarding is all that can still be paid.
  const left = onboarding.approvedEstimateYuan - onboarding.investmentToDate.cumulativePaidYuan;
  const over = await post(OWNER, `/projects/${id}/payments`, {
    amountYuan: left + 1,
    date: '2026-11-30',
    basis: '进度款',
  });
  expect(over.status).toBe(422);
  expect(over.body.type).toBe('https://project-pipeline.dev/problems/over-estimate');
  const within = await post(OWNER, `/projects/${id}/payments`, {
    amountYuan: left,
    date: '2026-11-30',
    basis: '进度款',
  });
  expect(within.status).toBe(200);
  expect((await sys.projects.query(id)).cumulativePaidYuan).toBe(onboarding.approvedEstimateYuan);
});

test('a project onboarded in pre-construction still has to pass the start gate', async () => {
  // Arrange
  const body = clone(CREATE_PROJECT_EXAMPLES.preConstruction.value);
  const created = await post(OFFICE, '/projects', { ...body, name: '前期入库项目开工核查' });
  const id = created.body.projectId as string;

  // Act
  const start = await post(OWNER, `/projects/${id}/start`, { date: '2026-11-30' });

  // Assert
  expect(start.status).toBe(409);
  expect(start.body.type).toBe('https://project-pipeline.dev/problems/gate-not-met');
  const live = await sys.projects.query(id);
  expect(live.stage).toBe('PRE_CONSTRUCTION');
  expect(live.tasks.filter((t) => t.status === 'OPEN').map((t) => t.key)).toEqual(
    expect.arrayContaining(['S-CONSTRUCTION_PERMIT', 'S-PROCUREMENT_CONTRACT', 'G-START']),
  );
  // What was done before onboarding is recorded as done, not asked again.
  expect(live.tasks.find((t) => t.key === 'S-PRELIMINARY_DESIGN')).toMatchObject({
    status: 'DONE',
    result: { onboarded: true, approvingOrg: '市发改委' },
  });
});

test.each([
  [
    'an UNDER_CONSTRUCTION project without a start date',
    (b: Onb) => delete b.onboarding.start,
    'onboarding.start',
  ],
  [
    'a payment to date above the approved estimate',
    (b: Onb) => (b.onboarding.investmentToDate!.cumulativePaidYuan = b.onboarding.approvedEstimateYuan! + 1),
    'onboarding.investmentToDate.cumulativePaidYuan',
  ],
  [
    'a 续建 project with no investment to date',
    (b: Onb) => {
      b.onboarding.investmentToDate!.cumulativeInvestmentYuan = 0;
      b.onboarding.investmentToDate!.ytdInvestmentYuan = 0;
    },
    'onboarding.investmentToDate.cumulativeInvestmentYuan',
  ],
  [
    'an approval dated in the future',
    (b: Onb) => (b.onboarding.approvals[0]!.date = '2099-01-01'),
    'onboarding.approvals.0.date',
  ],
  [
    'a matter the policy does not know',
    (b: Onb) => (b.onboarding.approvals[1]!.matter = 'MAGIC_STAMP'),
    'onboarding.approvals.1.matter',
  ],
  [
    'a 续建 project that started this year',
    (b: Onb) => (b.onboarding.start!.date = `${new Date().getFullYear()}-01-05`),
    'onboarding.start.date',
  ],
])('%s is refused with 422 naming the field, and nothing is created', async (_what, spoil, field) => {
  // Arrange
  const body = continuing() as unknown as Onb;
  body.name = `矛盾事实 ${field}`;
  spoil(body);
  const key = `contradiction-${field}-${Date.now()}`;

  // Act
  const res = await request(app)
    .post('/api/v1/projects')
    .set('Authorization', await authAs(OFFICE))
    .set('Idempotency-Key', key)
    .send(body);

  // Assert
  expect(res.status).toBe(422);
  expect(res.body.type).toBe('https://project-pipeline.dev/problems/invalid-data');
  expect((res.body.errors as { path: string }[]).map((e) => e.path)).toContain(field);
  const listed = await get(OFFICE, `/projects?q=${encodeURIComponent(body.name)}`);
  expect(listed.body.projects).toEqual([]);
});

type Onb = {
  name: string;
  onboarding: {
    start?: { date: string };
    approvedEstimateYuan?: number;
    investmentToDate?: {
      cumulativePaidYuan: number;
      cumulativeInvestmentYuan: number;
      ytdInvestmentYuan: number;
    };
    approvals: { date: string; matter: string }[];
  };
};

test('several contradictions answer one entry per field', async () => {
  const body = continuing() as unknown as Onb;
  delete body.onboarding.start;
  body.onboarding.approvals[0]!.date = '2099-01-01';
  body.onboarding.approvals[1]!.matter = 'MAGIC_STAMP';

  const res = await post(OFFICE, '/projects', body);

  expect(res.status).toBe(422);
  expect((res.body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(
    // The renamed matter also leaves FEASIBILITY_APPROVAL missing among the approvals.
    [
      'onboarding.approvals',
      'onboarding.approvals.0.date',
      'onboarding.approvals.1.matter',
      'onboarding.start',
    ].sort(),
  );
});

test('only the organisations the policy names onboard; an owner still creates a DRAFT', async () => {
  const byOwner = await post(OWNER, '/projects', { ...continuing(), name: '业主自行入库' });
  expect(byOwner.status).toBe(403);
  expect(byOwner.body.type).toBe('https://project-pipeline.dev/problems/onboarding-not-allowed');

  const byNdrc = await post('ndrc/reviewer', '/projects', { ...continuing(), name: '发改委入库' });
  expect(byNdrc.status).toBe(201);

  const draftByReviewer = await post('ndrc/reviewer', '/projects', {
    ...CREATE_PROJECT_EXAMPLES.draft.value,
    name: '发改委代建草稿',
  });
  expect(draftByReviewer.status).toBe(403);
  expect(draftByReviewer.body.type).toBe('https://project-pipeline.dev/problems/draft-by-applicant');
});

test('a project already in 前期 when the monthly report came in owes it from its next run on', async () => {
  // Arrange: the state a run recorded before the obligation existed hands over by continue-as-new
  const projectId = `pold${Date.now()}`;
  const details = { ...CREATE_PROJECT_EXAMPLE, ownerOrg: 'yaodu' } as ProjectDetails;
  const owner = { userId: 'u', org: 'yaodu', roles: ['applicant'] };
  const state = createInitialState(projectId, details, sys.policy, owner, Date.now());
  state.stage = 'PRE_CONSTRUCTION';
  delete state.reportObligation;

  // Act
  await sys.client.workflow.start('projectLifecycle', {
    taskQueue: sys.taskQueue,
    workflowId: projectWorkflowId(projectId),
    args: [{ projectId, details, policy: sys.policy, createdBy: owner, state }],
  });

  // Assert: its first month's report falls due like any other project's
  const owed = await eventually(
    () => sys.projects.query(projectId),
    (p) => p.tasks.some((t) => t.kind === 'REPORT'),
    30_000,
  );
  expect(owed.reportObligation?.firstPeriod).toMatch(/^\d{4}-\d{2}$/);
});
