import request from 'supertest';
import type { Express } from 'express';
import { CREATE_PROJECT_EXAMPLE, CREATE_PROJECT_EXAMPLES, EXAMPLES } from '../../api/schemas';
import { REVIEW_EXAMPLES } from '../../api/review-schemas';
import { shanghaiDayOf } from '../../calendar';
import { eventually, startTestSystem, type TestSystem } from '../support/harness';
import { secondsPolicy } from '../support/policies';
import { testApp } from '../support/api';
import { httpAs } from '../support/http';

// Issue 15 §5: when an action endpoint answers 2xx, the very next GET of the project, the inbox, the trail (and
// for a blocker its view) already show the effect. Every read below follows its action with no wait between; the
// last test fails when a mutating project, task or blocker endpoint of the OpenAPI document is not exercised here.

let sys: TestSystem;
let app: Express;

const today = () => shanghaiDayOf(Date.now());
const dayPlus = (day: string, n: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
const month = today().slice(0, 7);
const year = Number(month.slice(0, 4));

beforeAll(async () => {
  // Deadlines far off (no reminder fires meanwhile); the comprehensive review waits for the monthly joint meeting.
  const policy = secondsPolicy(600);
  policy.review.tier3.deadline = { nextMonthlyMeeting: true };
  sys = await startTestSystem({ policy });
  app = testApp(sys);
  // This month's joint meeting, held today: scheduling a meeting changes no project.
  const meeting = await http.post(LEADING_GROUP, '/joint-meetings', { month, date: today() });
  expect(meeting.status).toBe(201);
});
afterAll(async () => {
  await sys?.close();
});

const http = httpAs(() => app);
const OWNER = 'yaodu/applicant';
const OFFICE = 'project-center/supervisor';
const LEADING_GROUP = 'leading-group/leader';

interface OpenTask {
  id: string;
  key: string;
  kind: string;
  tier?: number;
  assigneeOrg: string;
  clock?: { pauses: { from: number; to?: number }[] };
}
interface ProjectBody {
  stage: string;
  source: string;
  details: Record<string, unknown> & { flags: Record<string, boolean> };
  state: Record<string, unknown> & {
    blockers?: { id: string; status: string; round: number }[];
  };
  openTasks: OpenTask[];
}
interface InboxItem {
  taskId: string;
  projectId: string;
  kind: string;
  dueAt: string | null;
  blockerId?: string;
}
interface TrailEvent {
  type: string;
  data?: Record<string, unknown>;
}

/** Endpoints (as the OpenAPI document names them) that answered 2xx here: the guard test reads this. */
const covered = new Set<string>();

/**
 * One action through the API: `endpoint` is its OpenAPI name (`POST /tasks/{taskId}/decision`), `path` the
 * concrete one. It must answer 2xx without `X-Read-Model: behind`.
 */
async function act(
  endpoint: string,
  who: string,
  path: string,
  body: object = {},
  headers: Record<string, string> = {},
) {
  const [method, template] = endpoint.split(' ') as ['POST' | 'PATCH', string];
  expect(path).toMatch(new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`));
  const res = await http.call(method === 'PATCH' ? 'patch' : 'post', who, path, body, headers);
  if (res.status >= 300)
    throw new Error(`${endpoint} as ${who} answered ${res.status}: ${JSON.stringify(res.body)}`);
  expect(res.headers['x-read-model']).toBeUndefined();
  covered.add(endpoint);
  return res;
}

const project = async (id: string) => (await http.get(OFFICE, `/projects/${id}`)).body as ProjectBody;
const trail = async (id: string) =>
  (await http.get(OFFICE, `/projects/${id}/events`)).body.events as TrailEvent[];
const types = async (id: string) => (await trail(id)).map((e) => e.type);
const inbox = async (who: string, projectId: string) =>
  ((await http.get(who, '/tasks')).body.tasks as InboxItem[]).filter((t) => t.projectId === projectId);
const inboxIds = async (who: string, projectId: string) => (await inbox(who, projectId)).map((t) => t.taskId);
const dueAtOf = async (who: string, taskId: string) =>
  (await inbox(who, taskId.slice(0, taskId.indexOf('~')))).find((t) => t.taskId === taskId)?.dueAt ?? null;
const blocker = async (blockerId: string) =>
  (await http.get(OFFICE, `/blockers/${blockerId}`)).body as {
    status: string;
    round: number;
    events: TrailEvent[];
  };
/** A task's first deadline is computed just after it opens: arrangement for tests that move it. */
const firstDeadline = (who: string, taskId: string) =>
  eventually(
    () => dueAtOf(who, taskId),
    (d) => d !== null,
  ) as Promise<string>;

async function create(who: string, body: object): Promise<string> {
  const created = await act('POST /projects', who, '/projects', body);
  return created.body.projectId as string;
}
const onboard = (example: keyof typeof CREATE_PROJECT_EXAMPLES, name: string, over: object = {}) =>
  create(OFFICE, { ...CREATE_PROJECT_EXAMPLES[example].value, name, ...over });

/** Submitted and passed by every screening department: its tier-2 review is open. */
async function atSpecialistReview(name: string): Promise<string> {
  const id = await create(OWNER, { ...CREATE_PROJECT_EXAMPLE, name });
  await act('POST /projects/{id}/submit', OWNER, `/projects/${id}/submit`);
  for (const t of (await project(id)).openTasks.filter((x) => x.tier === 1))
    await act(
      'POST /tasks/{taskId}/decision',
      `${t.assigneeOrg}/reviewer`,
      `/tasks/${t.id}/decision`,
      EXAMPLES.decision,
    );
  return id;
}

const assessments = REVIEW_EXAMPLES.specialistReview.assessments;

test('from DRAFT through the three review tiers to the reserve library, each step shows at once', async () => {
  // POST /projects: the record exists before the answer.
  const id = await create(OWNER, { ...CREATE_PROJECT_EXAMPLE, name: '读己所写：三级评审项目' });
  expect(await project(id)).toMatchObject({ stage: 'DRAFT', source: 'read-model' });
  expect(await types(id)).toEqual(['PROJECT_CREATED']);

  // PATCH: the new version and its ETag.
  const patched = await act(
    'PATCH /projects/{id}',
    OWNER,
    `/projects/${id}`,
    { contactPerson: '王工', reason: '补充联系人' },
    { 'If-Match': '"v1"' },
  );
  const edited = await http.get(OWNER, `/projects/${id}`);
  expect(edited.headers.etag).toBe(patched.headers.etag);
  expect(edited.body.details.contactPerson).toBe('王工');
  expect(await types(id)).toContain('DETAILS_REVISED');

  // Submit: screening opens in each department's inbox.
  await act('POST /projects/{id}/submit', OWNER, `/projects/${id}/submit`);
  const screening = (await project(id)).openTasks.filter((t) => t.tier === 1);
  expect(screening.length).toBeGreaterThan(1);
  expect(await inboxIds('ndrc/reviewer', id)).toEqual([`${id}~R1-T1-ndrc`]);
  expect(await types(id)).toContain('SUBMITTED');

  // Pause and resume a department's clock: on resumption its deadline is recomputed before the answer.
  const ndrcTask = `${id}~R1-T1-ndrc`;
  const dueBeforePause = await firstDeadline('ndrc/reviewer', ndrcTask);
  await act('POST /tasks/{taskId}/pause', 'ndrc/reviewer', `/tasks/${ndrcTask}/pause`, EXAMPLES.pause);
  const paused = (await project(id)).openTasks.find((t) => t.id === ndrcTask)!;
  expect(paused.clock?.pauses).toEqual([expect.objectContaining({ reason: 'SUPPLEMENT' })]);
  expect(paused.clock?.pauses[0]?.to).toBeUndefined();
  expect(await types(id)).toContain('CLOCK_PAUSED');

  await act(
    'POST /tasks/{taskId}/resume',
    'ndrc/reviewer',
    `/tasks/${ndrcTask}/resume`,
    EXAMPLES.resumeClock,
  );
  const afterResume = await trail(id);
  const resumedAt = afterResume.findIndex((e) => e.type === 'CLOCK_RESUMED');
  expect(resumedAt).toBeGreaterThan(0);
  const rescheduled = afterResume
    .slice(resumedAt)
    .find((e) => e.type === 'DEADLINE_RESCHEDULED' && e.data?.taskId === ndrcTask);
  expect(rescheduled).toBeDefined();
  const dueAfterResume = await dueAtOf('ndrc/reviewer', ndrcTask);
  expect(dueAfterResume).toBe(rescheduled!.data!.dueAt);
  expect(Date.parse(dueAfterResume!)).toBeGreaterThanOrEqual(Date.parse(dueBeforePause));

  // An extension: the later deadline is in the inbox at once.
  const financeTask = `${id}~R1-T1-finance`;
  const dueBeforeExtension = await firstDeadline('finance/reviewer', financeTask);
  await act(
    'POST /tasks/{taskId}/extension',
    LEADING_GROUP,
    `/tasks/${financeTask}/extension`,
    EXAMPLES.extension,
  );
  const dueAfterExtension = await dueAtOf('finance/reviewer', financeTask);
  expect(Date.parse(dueAfterExtension!)).toBeGreaterThan(Date.parse(dueBeforeExtension));
  expect(await types(id)).toContain('DEADLINE_EXTENDED');

  // Screening decisions: each leaves its department's inbox at once; the last opens the special group's review.
  for (const t of screening) {
    const who = `${t.assigneeOrg}/reviewer`;
    await act('POST /tasks/{taskId}/decision', who, `/tasks/${t.id}/decision`, EXAMPLES.decision);
    expect(await inboxIds(who, id)).toEqual([]);
  }
  expect((await project(id)).stage).toBe('SPECIALIST_REVIEW');
  expect((await types(id)).filter((t) => t === 'REVIEW_DECIDED')).toHaveLength(screening.length);
  const t2 = `${id}~R1-T2`;
  expect(await inboxIds('sg-urban/leader', id)).toEqual([t2]);

  // Tier 2: experts invited, then the special group's decision with their opinion.
  const expert = await http.post('sg-urban/leader', '/experts', {
    ...REVIEW_EXAMPLES.admitExpert,
    termStartsOn: `${year}-01-01`,
  });
  expect(expert.status).toBe(201);
  const expertId = expert.body.id as string;
  await act('POST /tasks/{taskId}/experts', 'sg-urban/leader', `/tasks/${t2}/experts`, {
    expertIds: [expertId],
  });
  expect((await project(id)).state.expertInvitations).toEqual([
    expect.objectContaining({ taskId: t2, experts: [expect.objectContaining({ expertId })] }),
  ]);
  expect(await types(id)).toContain('EXPERTS_INVITED');

  await act('POST /tasks/{taskId}/specialist-review', 'sg-urban/leader', `/tasks/${t2}/specialist-review`, {
    outcome: 'RECOMMENDED',
    assessments,
    expertOpinions: [{ expertId, opinion: '技术方案可行，建议推荐' }],
  });
  const recommended = await project(id);
  expect(recommended.stage).toBe('COMPREHENSIVE_REVIEW');
  expect(recommended.state.specialistReviews).toEqual([expect.objectContaining({ outcome: 'RECOMMENDED' })]);
  const t3 = `${id}~R1-T3`;
  expect(await inboxIds('sg-urban/leader', id)).toEqual([]);
  expect(await inboxIds(LEADING_GROUP, id)).toEqual([t3]);
  expect(await types(id)).toContain('SPECIALIST_REVIEW_DECIDED');

  // Tier 3 at this month's joint meeting, held today.
  await act('POST /tasks/{taskId}/comprehensive-review', LEADING_GROUP, `/tasks/${t3}/comprehensive-review`, {
    meetingMonth: month,
    included: true,
    opinion: '纳入年度重点项目库',
    fundAllocation: { amountYuan: 50_000_000, sourceType: 'SPECIAL_BONDS', year },
  });
  const included = await project(id);
  expect(included.state.keyProjectDecisions).toEqual([expect.objectContaining({ included: true })]);
  expect(included.details.flags.cityKey).toBe(true);
  expect(await inboxIds(LEADING_GROUP, id)).toEqual([]);
  expect(await inboxIds('ndrc/reviewer', id)).toEqual([`${id}~R1-PLAN`]);
  expect(await types(id)).toContain('COMPREHENSIVE_REVIEW_DECIDED');

  // Plan inclusion: the reserve library and its approval matters.
  await act(
    'POST /projects/{id}/plan-inclusion',
    'ndrc/reviewer',
    `/projects/${id}/plan-inclusion`,
    EXAMPLES.planInclusion,
  );
  const reserve = await project(id);
  expect(reserve.stage).toBe('RESERVE');
  expect(await types(id)).toContain('PLAN_INCLUSION_RECORDED');
  const matter = reserve.openTasks.find((t) => t.kind === 'APPROVAL_MATTER')!;
  const matterOrg = `${matter.assigneeOrg}/reviewer`;
  expect(await inboxIds(matterOrg, id)).toContain(matter.id);

  // An approval matter done: out of its department's inbox at once.
  await act(
    'POST /tasks/{taskId}/complete',
    matterOrg,
    `/tasks/${matter.id}/complete`,
    EXAMPLES.completeTask,
  );
  expect(await inboxIds(matterOrg, id)).not.toContain(matter.id);
  expect((await project(id)).openTasks.map((t) => t.id)).not.toContain(matter.id);
  expect(await types(id)).toContain('MATTER_COMPLETED');
});

test('a postponed joint meeting: the waiting review’s new deadline is in the leading group’s inbox at once', async () => {
  // Arrange: a recommended project waits for this month's meeting, today. (The test above decides at that meeting:
  // it runs first, while the meeting is still today's.)
  const id = await atSpecialistReview('读己所写：联席会议顺延项目');
  await act(
    'POST /tasks/{taskId}/specialist-review',
    'sg-urban/leader',
    `/tasks/${id}~R1-T2/specialist-review`,
    {
      outcome: 'RECOMMENDED',
      assessments,
    },
  );
  const t3 = `${id}~R1-T3`;
  await firstDeadline(LEADING_GROUP, t3);
  const to = dayPlus(today(), 3);

  // Act
  const postponed = await act(
    'POST /joint-meetings/{month}/postponement',
    LEADING_GROUP,
    `/joint-meetings/${month}/postponement`,
    { to, reason: '市长出席省级会议，联席会议顺延' },
  );

  // Assert
  expect(postponed.body.failed).toEqual([]);
  expect((postponed.body.rescheduled as { projectId: string }[]).map((r) => r.projectId)).toContain(id);
  expect(shanghaiDayOf(Date.parse((await dueAtOf(LEADING_GROUP, t3))!))).toBe(to);
  expect(await types(id)).toEqual(
    expect.arrayContaining(['JOINT_MEETING_POSTPONED', 'DEADLINE_RESCHEDULED']),
  );
});

test('a blocker raised, resolved, reopened and closed: its view, both inboxes, the project and the trails follow at once', async () => {
  const id = await create(OWNER, { ...CREATE_PROJECT_EXAMPLE, name: '读己所写：堵点项目' });
  await act('POST /projects/{id}/submit', OWNER, `/projects/${id}/submit`);
  const BUREAU = 'natural-resources/reviewer';
  const blockerItems = async (who: string, blockerId: string) =>
    (await inbox(who, id)).filter((t) => t.blockerId === blockerId).map((t) => t.taskId);
  const summary = async (blockerId: string) =>
    (await project(id)).state.blockers?.find((b) => b.id === blockerId);

  // Raised: the blocker's own record and the responsible organisation's task exist before the answer.
  const raised = await act('POST /projects/{id}/blockers', OWNER, `/projects/${id}/blockers`, {
    category: 'LAND',
    level: 'CITY',
    responsibleOrg: 'natural-resources',
    description: '项目用地指标未落实，影响按期开工',
  });
  const blockerId = raised.body.blockerId as string;
  expect(await blocker(blockerId)).toMatchObject({ status: 'OPEN', round: 1 });
  expect((await blocker(blockerId)).events.map((e) => e.type)).toContain('BLOCKER_RAISED');
  expect(await blockerItems(BUREAU, blockerId)).toEqual([`${id}~B1-R1-CITY`]);
  expect(await summary(blockerId)).toMatchObject({ status: 'OPEN', round: 1 });
  expect(await types(id)).toContain('BLOCKER_RAISED');

  // Resolved: the raiser's confirmation task replaces the bureau's; the project's summary follows.
  await act('POST /blockers/{blockerId}/resolution', BUREAU, `/blockers/${blockerId}/resolution`, {
    note: '已调剂用地指标',
  });
  expect(await blocker(blockerId)).toMatchObject({ status: 'RESOLVED' });
  expect((await blocker(blockerId)).events.map((e) => e.type)).toContain('BLOCKER_RESOLVED');
  expect(await blockerItems(BUREAU, blockerId)).toEqual([]);
  expect(await blockerItems(OWNER, blockerId)).toEqual([`${id}~B1-R1-CONFIRM`]);
  expect(await summary(blockerId)).toMatchObject({ status: 'RESOLVED', round: 1 });
  expect(await types(id)).toContain('BLOCKER_UPDATED');

  // Reopened: a second round in the bureau's inbox.
  await act('POST /blockers/{blockerId}/reopening', OWNER, `/blockers/${blockerId}/reopening`, {
    reason: '指标仅解决一半',
  });
  expect(await blocker(blockerId)).toMatchObject({ status: 'OPEN', round: 2 });
  expect(await blockerItems(OWNER, blockerId)).toEqual([]);
  expect(await blockerItems(BUREAU, blockerId)).toEqual([`${id}~B1-R2-CITY`]);
  expect(await summary(blockerId)).toMatchObject({ status: 'OPEN', round: 2 });

  // Resolved again and confirmed (销号): closed everywhere.
  await act('POST /blockers/{blockerId}/resolution', BUREAU, `/blockers/${blockerId}/resolution`, {
    note: '剩余指标已下达',
  });
  await act('POST /blockers/{blockerId}/confirmation', OWNER, `/blockers/${blockerId}/confirmation`, {
    note: '确认销号',
  });
  const closed = await blocker(blockerId);
  expect(closed.status).toBe('CLOSED');
  expect(closed.events.map((e) => e.type)).toContain('BLOCKER_CLOSED');
  expect(await blockerItems(OWNER, blockerId)).toEqual([]);
  expect(await blockerItems(BUREAU, blockerId)).toEqual([]);
  expect(await summary(blockerId)).toMatchObject({ status: 'CLOSED', round: 2 });
  expect((await types(id)).filter((t) => t === 'BLOCKER_UPDATED')).toHaveLength(4);
});

test('a reserve project: its code, 省级重点, a change request and its approval, then a withdrawal show at once', async () => {
  const id = await onboard('reserve', '读己所写：储备库项目');
  expect((await project(id)).stage).toBe('RESERVE');

  await act('POST /projects/{id}/project-code', OWNER, `/projects/${id}/project-code`, EXAMPLES.projectCode);
  expect((await project(id)).state.projectCode).toBe(EXAMPLES.projectCode.code);
  expect(await types(id)).toContain('PROJECT_CODE_RECORDED');

  await act(
    'POST /projects/{id}/provincial-key',
    'ndrc/reviewer',
    `/projects/${id}/provincial-key`,
    EXAMPLES.provincialKey,
  );
  expect((await project(id)).details.flags.provincialKey).toBe(true);
  expect(await types(id)).toContain('PROVINCIAL_KEY_SET');

  // A change request: in 市发改委's inbox at once; its approval is the next version at once.
  const etag = (await http.get(OWNER, `/projects/${id}`)).headers.etag as string;
  const asked = await act(
    'POST /projects/{id}/change-requests',
    OWNER,
    `/projects/${id}/change-requests`,
    EXAMPLES.changeRequest,
    { 'If-Match': etag },
  );
  const changeTask = asked.body.taskId as string;
  expect(await inboxIds('ndrc/reviewer', id)).toContain(changeTask);
  expect(await types(id)).toContain('CHANGE_REQUESTED');

  const approved = await act(
    'POST /tasks/{taskId}/change-decision',
    'ndrc/reviewer',
    `/tasks/${changeTask}/change-decision`,
    EXAMPLES.changeDecision,
  );
  const after = await http.get(OWNER, `/projects/${id}`);
  expect(after.headers.etag).toBe(approved.headers.etag);
  expect(after.headers.etag).not.toBe(etag);
  expect(after.body.details.annualPlanYuan).toBe(EXAMPLES.changeRequest.changes.annualPlanYuan);
  expect(await inboxIds('ndrc/reviewer', id)).not.toContain(changeTask);
  expect(await types(id)).toContain('CHANGE_DECIDED');

  // Withdrawn: out of every inbox at once.
  const matterOrgs = [...new Set((await project(id)).openTasks.map((t) => t.assigneeOrg))];
  expect(matterOrgs.length).toBeGreaterThan(0);
  await act('POST /projects/{id}/withdraw', OWNER, `/projects/${id}/withdraw`, EXAMPLES.withdraw);
  expect((await project(id)).stage).toBe('WITHDRAWN');
  for (const org of matterOrgs) expect(await inboxIds(`${org}/reviewer`, id)).toEqual([]);
  expect(await types(id)).toContain('WITHDRAWN');
});

test('a removal by the leading group, directly or by approving a quarterly proposal, shows at once', async () => {
  const removed = await onboard('reserve', '读己所写：调出库项目');
  const orgs = [...new Set((await project(removed)).openTasks.map((t) => t.assigneeOrg))];
  await act('POST /projects/{id}/remove', LEADING_GROUP, `/projects/${removed}/remove`, EXAMPLES.remove);
  expect((await project(removed)).stage).toBe('REMOVED');
  for (const org of orgs) expect(await inboxIds(`${org}/reviewer`, removed)).toEqual([]);
  expect(await types(removed)).toContain('REMOVED');

  // Arrange: a proposal as the quarterly adjustment writes one (its job is supervision.test.ts's subject).
  const proposed = await onboard('reserve', '读己所写：调出库建议项目');
  const proposalId = `2025-Q4:${proposed}`;
  await sys.supervisionModels.RemovalProposal.create({
    _id: proposalId,
    period: '2025-Q4',
    projectId: proposed,
    projectName: '读己所写：调出库建议项目',
    portfolio: 'sg-urban',
    why: '长期未取得审批进展',
    status: 'PROPOSED',
    createdAt: new Date(),
  });
  await act('POST /proposals/{id}/decision', LEADING_GROUP, `/proposals/${proposalId}/decision`, {
    decision: 'APPROVE',
    reason: 'OTHER',
    explanation: '长期未取得审批进展，按程序调出库',
  });
  expect((await project(proposed)).stage).toBe('REMOVED');
  expect(await types(proposed)).toContain('REMOVED');
});

test('pre-construction: funds, a funding source, the steps, the start application and its check show at once', async () => {
  const id = await onboard('preConstruction', '读己所写：前期库项目');

  await act('POST /projects/{id}/funding', 'finance/reviewer', `/projects/${id}/funding`, EXAMPLES.funding);
  expect((await project(id)).state.funding).toMatchObject({ confirmedYuan: EXAMPLES.funding.amountYuan });
  expect(await types(id)).toContain('FUNDING_CONFIRMED');

  await act(
    'POST /projects/{id}/funding-sources',
    'ndrc/reviewer',
    `/projects/${id}/funding-sources`,
    EXAMPLES.fundingSource,
  );
  expect((await project(id)).state.fundingSources).toEqual([
    expect.objectContaining({ sourceType: EXAMPLES.fundingSource.sourceType }),
  ]);
  expect(await types(id)).toContain('FUNDING_SOURCE_RECORDED');

  for (const key of ['S-STABILITY_RISK_ASSESSMENT', 'S-CONSTRUCTION_PERMIT']) {
    const step = (await project(id)).openTasks.find((t) => t.key === key)!;
    const who = step.assigneeOrg === 'yaodu' ? OWNER : `${step.assigneeOrg}/reviewer`;
    await act('POST /tasks/{taskId}/complete', who, `/tasks/${step.id}/complete`, EXAMPLES.completeTask);
    expect(await inboxIds(who, id)).not.toContain(step.id);
  }

  const applied = await act('POST /projects/{id}/start', OWNER, `/projects/${id}/start`, EXAMPLES.start);
  const check = applied.body.taskId as string;
  expect(await inboxIds('housing/reviewer', id)).toContain(check);
  expect((await project(id)).state.startApplication).toMatchObject({ date: EXAMPLES.start.date });
  expect(await types(id)).toContain('START_APPLIED');

  await act(
    'POST /tasks/{taskId}/start-check',
    'housing/reviewer',
    `/tasks/${check}/start-check`,
    EXAMPLES.startCheck,
  );
  expect((await project(id)).stage).toBe('UNDER_CONSTRUCTION');
  expect(await inboxIds('housing/reviewer', id)).not.toContain(check);
  expect(await types(id)).toContain('CONSTRUCTION_STARTED');

  // An emergency project's exception from the start gate.
  const body = JSON.parse(JSON.stringify(CREATE_PROJECT_EXAMPLES.preConstruction.value)) as {
    flags: Record<string, boolean>;
  };
  const emergency = await create(OFFICE, {
    ...body,
    name: '读己所写：应急抢险项目',
    flags: { ...body.flags, emergency: true },
  });
  await act(
    'POST /projects/{id}/start-exception',
    LEADING_GROUP,
    `/projects/${emergency}/start-exception`,
    EXAMPLES.startException,
  );
  expect((await project(emergency)).state.startException).toMatchObject({
    reason: EXAMPLES.startException.reason,
  });
  expect(await types(emergency)).toContain('START_EXCEPTION_APPROVED');
});

test('under construction: a progress report, a payment, a suspension, the resumption and the completion show at once', async () => {
  const id = await onboard('underConstruction', '读己所写：实施库项目');

  await act('POST /projects/{id}/progress-reports', OWNER, `/projects/${id}/progress-reports`, {
    ...EXAMPLES.progress,
    period: month,
    cumulativeInvestmentYuan: 200_000_000,
  });
  expect(((await project(id)).state.reports as { period: string }[]).at(-1)?.period).toBe(month);
  expect(await types(id)).toContain('PROGRESS_REPORTED');

  await act('POST /projects/{id}/payments', OWNER, `/projects/${id}/payments`, EXAMPLES.payment);
  expect((await project(id)).state.cumulativePaidYuan).toBe(170_000_000 + EXAMPLES.payment.amountYuan);
  expect(await types(id)).toContain('PAYMENT_RECORDED');

  await act('POST /projects/{id}/suspend', OWNER, `/projects/${id}/suspend`, EXAMPLES.suspend);
  expect((await project(id)).stage).toBe('SUSPENDED');
  expect(await types(id)).toContain('SUSPENDED');

  await act('POST /projects/{id}/resume', OWNER, `/projects/${id}/resume`, EXAMPLES.resume);
  expect((await project(id)).stage).toBe('UNDER_CONSTRUCTION');
  expect(await types(id)).toContain('RESUMED');

  const gate = (await project(id)).openTasks.find((t) => t.key === 'G-COMPLETION')!;
  expect(await inboxIds('housing/reviewer', id)).toContain(gate.id);
  await act(
    'POST /projects/{id}/completion',
    'housing/reviewer',
    `/projects/${id}/completion`,
    EXAMPLES.completion,
  );
  expect((await project(id)).stage).toBe('COMPLETED');
  expect(await inboxIds('housing/reviewer', id)).toEqual([]);
  expect(await types(id)).toContain('COMPLETION_ACCEPTED');
});

/** Mutating endpoints that change no project, task or blocker, and why they need no read-your-writes wait. */
const NOT_PROJECT_ACTIONS: Record<string, string> = {
  'POST /experts': 'the expert pool, written before the answer',
  'POST /experts/{expertId}/exit': 'the expert pool, written before the answer',
  'POST /experts/{expertId}/renewal': 'the expert pool, written before the answer',
  'POST /joint-meetings':
    'schedules a meeting, written before the answer; projects move only on a postponement',
  'POST /key-projects/{year}/approval': 'an approved list version, written before the answer',
  'POST /reports/{id}/approval': 'a report snapshot, written before the answer',
  'POST /reports/run': 'starts a supervision job (202); its snapshot is the job’s result',
  'POST /reports/dispatch-postponement': 'the dispatch meeting day, written before the answer',
  'PUT /calendars/{year}': 'the work calendar, written before the answer',
  'POST /calendars/overrides': 'the work calendar, written before the answer',
  'PUT /people/{personId}': 'the people directory, written before the answer',
  'POST /imports': 'starts an import job (202); GET /imports/{importId} reports the projects it creates',
  'POST /session/local': 'the console’s local sign-in: signs a token, changes nothing stored',
};

// Runs last: it reads what the tests above exercised.
test('every mutating project, task and blocker endpoint of the OpenAPI document is exercised above', async () => {
  const spec = (await request(app).get('/api/v1/openapi.json')).body as {
    paths: Record<string, Record<string, unknown>>;
  };
  const mutating = Object.entries(spec.paths).flatMap(([path, methods]) =>
    Object.keys(methods)
      .filter((m) => m !== 'get')
      .map((m) => `${m.toUpperCase()} ${path}`),
  );

  const uncovered = mutating.filter((e) => !covered.has(e) && !(e in NOT_PROJECT_ACTIONS));
  const stale = Object.keys(NOT_PROJECT_ACTIONS).filter((e) => !mutating.includes(e));
  const exemptButActions = Object.keys(NOT_PROJECT_ACTIONS).filter((e) =>
    /^\w+ \/(projects|tasks|blockers|proposals|joint-meetings\/\{month\}\/postponement)\b/.test(e),
  );

  expect(uncovered).toEqual([]);
  expect(stale).toEqual([]);
  expect(exemptButActions).toEqual([]);
  expect(covered.size).toBeGreaterThanOrEqual(30);
});
