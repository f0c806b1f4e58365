import ExcelJS from 'exceljs';
import request from 'supertest';
import type { Express } from 'express';
import { CREATE_PROJECT_EXAMPLE, EXAMPLES } from '../../api/schemas';
import { REVIEW_EXAMPLES } from '../../api/review-schemas';
import { shanghaiDayOf } from '../../calendar';
import { createNotificationModels, setOrgChannels } from '../../db/notification-models';
import { eventually, startTestSystem, type TestSystem } from '../support/harness';
import { secondsPolicy } from '../support/policies';
import { testApp, token } from '../support/api';
import { WebhookReceiver } from '../support/receivers';

const SECRET = 'review-tiers-webhook-secret';
const hooks = { county: new WebhookReceiver(SECRET), department: new WebhookReceiver(SECRET) };
let sys: TestSystem;
let app: Express;
const tokens: Record<string, string> = {};

const today = () => shanghaiDayOf(Date.now());
const thisYear = () => Number(today().slice(0, 4));
const dayPlus = (day: string, n: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  // Every deadline in seconds (far off), except the comprehensive review's: the next monthly joint meeting.
  const policy = secondsPolicy(600);
  policy.review.tier3.deadline = { nextMonthlyMeeting: true };
  sys = await startTestSystem({
    policy,
    notifications: {
      smtp: { host: '127.0.0.1', port: 1, from: 'test <test@localhost>' },
      retry: { initialIntervalMs: 200, backoffCoefficient: 2, maximumIntervalMs: 1000 },
    },
  });
  app = testApp(sys);
  const notifications = createNotificationModels(sys.mongo);
  const url = async (r: WebhookReceiver) => `http://127.0.0.1:${await r.listen()}/hook`;
  await setOrgChannels(notifications, 'yaodu', {
    webhooks: [{ url: await url(hooks.county), secret: SECRET }],
  });
  await setOrgChannels(notifications, 'housing', {
    webhooks: [{ url: await url(hooks.department), secret: SECRET }],
  });
});
afterAll(async () => {
  await sys?.close();
  await Promise.all(Object.values(hooks).map((h) => h.close()));
});

async function as(who: string): Promise<string> {
  const [org, role] = who.split('/') as [string, string];
  tokens[who] ??= await token(`${org}-${role}`, org, role);
  return `Bearer ${tokens[who]}`;
}

async function post(who: string, path: string, body?: unknown) {
  const r = request(app)
    .post(`/api/v1${path}`)
    .set('Authorization', await as(who));
  return body === undefined ? r : r.send(body as object);
}

async function get(who: string, path: string) {
  return request(app)
    .get(`/api/v1${path}`)
    .set('Authorization', await as(who));
}

async function download(who: string, path: string): Promise<{ status: number; type: string; body: Buffer }> {
  const res = await request(app)
    .get(`/api/v1${path}`)
    .set('Authorization', await as(who))
    .buffer(true)
    .parse((r, done) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => done(null, Buffer.concat(chunks)));
    });
  return { status: res.status, type: String(res.headers['content-type']), body: res.body as Buffer };
}

async function sheetRows(file: Buffer, sheet: string): Promise<unknown[][]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(file as unknown as ArrayBuffer);
  const ws = wb.getWorksheet(sheet)!;
  const rows: unknown[][] = [];
  ws.eachRow((row) => rows.push((row.values as unknown[]).slice(1)));
  return rows;
}

/** Key status is an outcome of tiers 2–3: the applicant declares it false. */
function projectBody(over: Record<string, unknown> = {}, flags: Record<string, boolean> = {}) {
  return {
    ...CREATE_PROJECT_EXAMPLE,
    ...over,
    flags: { ...CREATE_PROJECT_EXAMPLE.flags, cityKey: false, ...flags },
  };
}

/** Created, submitted and passed by every screening department: its tier-2 review is open. */
async function atSpecialistReview(over: Record<string, unknown> = {}, flags: Record<string, boolean> = {}) {
  const created = await post('yaodu/applicant', '/projects', projectBody(over, flags));
  expect(created.status).toBe(201);
  const id = created.body.projectId as string;
  expect((await post('yaodu/applicant', `/projects/${id}/submit`)).status).toBe(200);
  const screening = (await sys.projects.query(id)).tasks.filter((t) => t.tier === 1 && t.status === 'OPEN');
  for (const t of screening) {
    const res = await post(`${t.assigneeOrg}/reviewer`, `/tasks/${t.id}/decision`, EXAMPLES.decision);
    expect(res.status).toBe(200);
  }
  return { id, t2: `${id}~R1-T2`, t3: `${id}~R1-T3` };
}

const assessments = REVIEW_EXAMPLES.specialistReview.assessments;

async function admit(over: Record<string, unknown> = {}): Promise<string> {
  const res = await post('sg-urban/leader', '/experts', {
    ...REVIEW_EXAMPLES.admitExpert,
    termStartsOn: `${thisYear()}-01-01`,
    ...over,
  });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function project(id: string) {
  return (await get('project-center/supervisor', `/projects/${id}`)).body as {
    stage: string;
    details: { flags: { cityKey: boolean } };
    state: {
      specialistReviews?: {
        outcome: string;
        group: string;
        assessments: Record<string, string>;
        experts: { expertId: string; name: string; opinion: string }[];
      }[];
      keyProjectDecisions?: { included: boolean; fundAllocation?: { amountYuan: number } }[];
    };
  };
}

test('the expert pool admits by field for a two-year term, lists by field and status, keeps an exit’s reason and renews for the next 届', async () => {
  // Arrange
  const year = thisYear();
  const engineer = await admit({ name: '李明', field: '工程' });
  const institution = await admit({
    name: '山西省工程咨询院',
    kind: 'THIRD_PARTY',
    field: '经济',
    institution: undefined,
    title: '甲级工程咨询资信',
  });

  // Act
  const unknownField = await post('sg-urban/leader', '/experts', {
    ...REVIEW_EXAMPLES.admitExpert,
    field: '天文',
  });
  const byDepartment = await post('housing/leader', '/experts', REVIEW_EXAMPLES.admitExpert);
  const engineers = await get('sg-infrastructure/reviewer', '/experts?field=工程');
  const exited = await post('leading-group/leader', `/experts/${engineer}/exit`, {
    reason: '工作调动，本人申请退出',
  });
  const exitedAgain = await post('leading-group/leader', `/experts/${engineer}/exit`, { reason: '重复' });
  const listedExited = await get('project-center/supervisor', '/experts?status=EXITED');
  const renewed = await post('project-center/admin', `/experts/${institution}/renewal`, {});
  const renewedExited = await post('sg-urban/leader', `/experts/${engineer}/renewal`, {});

  // Assert
  expect(unknownField.status).toBe(400);
  expect(unknownField.body.errors).toEqual([expect.objectContaining({ path: 'field' })]);
  expect(byDepartment.status).toBe(403);
  expect(byDepartment.body.type).toMatch(/not-assignee$/);
  const listed = engineers.body.experts as { id: string; field: string; term: { endsOn: string } }[];
  expect(listed.map((e) => e.id)).toContain(engineer);
  expect(listed.every((e) => e.field === '工程')).toBe(true);
  expect(listed.find((e) => e.id === engineer)!.term).toMatchObject({
    number: 1,
    startsOn: `${year}-01-01`,
    endsOn: `${year + 1}-12-31`,
  });
  expect(exited.status).toBe(200);
  expect(exited.body).toMatchObject({
    status: 'EXITED',
    invitable: false,
    exit: { reason: '工作调动，本人申请退出' },
  });
  expect(exitedAgain.status).toBe(409);
  expect((listedExited.body.experts as { id: string }[]).map((e) => e.id)).toEqual([engineer]);
  expect(renewed.status).toBe(200);
  expect(renewed.body.terms).toEqual([
    expect.objectContaining({ number: 1, startsOn: `${year}-01-01`, endsOn: `${year + 1}-12-31` }),
    expect.objectContaining({ number: 2, startsOn: `${year + 2}-01-01`, endsOn: `${year + 3}-12-31` }),
  ]);
  expect(renewedExited.status).toBe(409);
});

test('the special group records its three assessments with the invited experts’ opinions; an expired, an exited or an unknown expert is refused', async () => {
  // Arrange
  const { id, t2 } = await atSpecialistReview();
  const active = await admit({ name: '王芳', field: '环保', institution: '山西大学' });
  const expired = await admit({ name: '赵强', field: '规划', termStartsOn: '2020-01-01' });
  const exited = await admit({ name: '孙丽', field: '经济' });
  expect(
    (await post('sg-urban/leader', `/experts/${exited}/exit`, { reason: '届内考核不合格' })).status,
  ).toBe(200);

  // Act
  const withExpired = await post('sg-urban/leader', `/tasks/${t2}/experts`, { expertIds: [active, expired] });
  const withExited = await post('sg-urban/leader', `/tasks/${t2}/experts`, { expertIds: [exited] });
  const withUnknown = await post('sg-urban/leader', `/tasks/${t2}/experts`, {
    expertIds: ['EX0000000000000000'],
  });
  const byAnotherGroup = await post('sg-industry/leader', `/tasks/${t2}/experts`, { expertIds: [active] });
  const invited = await post('sg-urban/leader', `/tasks/${t2}/experts`, { expertIds: [active] });
  const uninvitedOpinion = await post('sg-urban/leader', `/tasks/${t2}/specialist-review`, {
    outcome: 'RECOMMENDED',
    assessments,
    expertOpinions: [{ expertId: exited, opinion: '同意' }],
  });
  const decided = await post('sg-urban/leader', `/tasks/${t2}/specialist-review`, {
    outcome: 'RECOMMENDED',
    assessments,
    expertOpinions: [{ expertId: active, opinion: '环保措施可行，建议推荐为重点项目' }],
  });

  // Assert
  expect(withExpired.status).toBe(422);
  expect(withExpired.body).toMatchObject({ errorType: 'INVALID_DATA', field: 'expertIds.1' });
  expect(withExpired.body.detail).toContain('2021-12-31');
  expect(withExited.status).toBe(422);
  expect(withExited.body).toMatchObject({ field: 'expertIds.0' });
  expect(withExited.body.detail).toContain('exited');
  expect(withUnknown.status).toBe(422);
  expect(withUnknown.body.errors).toEqual([expect.objectContaining({ path: 'expertIds.0' })]);
  expect(byAnotherGroup.status).toBe(403);
  expect(invited.status).toBe(200);
  expect(uninvitedOpinion.status).toBe(422);
  expect(uninvitedOpinion.body.field).toBe('expertOpinions.0.expertId');
  expect(decided.status).toBe(200);
  expect(decided.body.stage).toBe('COMPREHENSIVE_REVIEW');
  const p = await eventually(
    () => project(id),
    (v) => (v.state.specialistReviews?.length ?? 0) > 0,
  );
  expect(p.state.specialistReviews).toEqual([
    expect.objectContaining({
      outcome: 'RECOMMENDED',
      group: 'sg-urban',
      assessments,
      experts: [
        expect.objectContaining({
          expertId: active,
          name: '王芳',
          opinion: '环保措施可行，建议推荐为重点项目',
        }),
      ],
    }),
  ]);
});

test('a project the special group does not recommend goes on as a non-key project toward plan inclusion, not REJECTED', async () => {
  // Arrange: not government-invested, so only a recommendation would take it to the leading group.
  const { id, t2 } = await atSpecialistReview(
    { name: '临汾市物流园区仓储改造项目' },
    { governmentInvested: false },
  );

  // Act
  const decided = await post('sg-urban/reviewer', `/tasks/${t2}/specialist-review`, {
    outcome: 'NOT_RECOMMENDED',
    assessments: { ...assessments, investmentBenefit: '投资效益一般，不列入重点项目建议清单' },
  });
  const included = await post('ndrc/reviewer', `/projects/${id}/plan-inclusion`, EXAMPLES.planInclusion);

  // Assert
  expect(decided.status).toBe(200);
  expect(decided.body.message).toContain('continues as a non-key project');
  expect(decided.body.stage).not.toBe('REJECTED');
  expect(included.status).toBe(200);
  expect(included.body.stage).toBe('RESERVE');
  const p = await eventually(
    () => project(id),
    (v) => v.stage === 'RESERVE',
  );
  expect(p.details.flags.cityKey).toBe(false);
  expect(p.state.specialistReviews?.map((r) => r.outcome)).toEqual(['NOT_RECOMMENDED']);
  const list = await get('sg-urban/leader', '/special-groups/sg-urban/recommendations');
  expect((list.body.entries as { projectId: string }[]).map((e) => e.projectId)).not.toContain(id);
});

test('a joint meeting includes two government-invested projects in the 重点项目库 with their fund allocations; the leading group approves the annual list and it is published', async () => {
  // Arrange: this month's meeting, convened today; two recommended government-invested projects waiting for it.
  const month = today().slice(0, 7);
  const year = Number(month.slice(0, 4));
  const meeting = await post('leading-group/leader', '/joint-meetings', { month, date: today() });
  expect(meeting.status).toBe(201);
  const projects = [];
  for (const name of ['临汾市城区供热管网改造工程', '临汾市汾河生态修复二期工程']) {
    const p = await atSpecialistReview({ name });
    expect(
      (
        await post('sg-urban/leader', `/tasks/${p.t2}/specialist-review`, {
          outcome: 'RECOMMENDED',
          assessments,
        })
      ).status,
    ).toBe(200);
    projects.push(p);
  }
  const [a, b] = projects as [(typeof projects)[number], (typeof projects)[number]];

  // Act
  const noMeeting = await post('leading-group/leader', `/tasks/${a.t3}/comprehensive-review`, {
    meetingMonth: '2030-06',
    included: true,
  });
  const noAllocation = await post('leading-group/leader', `/tasks/${a.t3}/comprehensive-review`, {
    meetingMonth: month,
    included: true,
  });
  const first = await post('leading-group/leader', `/tasks/${a.t3}/comprehensive-review`, {
    meetingMonth: month,
    included: true,
    opinion: '纳入年度重点项目库，安排专项债券资金',
    fundAllocation: { amountYuan: 50_000_123, sourceType: 'SPECIAL_BONDS', year },
  });
  const second = await post('leading-group/leader', `/tasks/${b.t3}/comprehensive-review`, {
    meetingMonth: month,
    included: true,
    fundAllocation: { amountYuan: 30_000_000, sourceType: 'CENTRAL_BUDGET', year },
  });
  const working = await eventually(
    () => get('project-center/supervisor', `/key-projects?year=${year}`),
    (r) => r.body.count === 2,
  );
  const byDepartmentLeader = await post('housing/leader', `/key-projects/${year}/approval`, {
    documentNumber: '临重项组〔X〕1号',
  });
  const approved = await post('leading-group/leader', `/key-projects/${year}/approval`, {
    documentNumber: `临重项组〔${year}〕1号`,
  });
  const again = await post('leading-group/leader', `/key-projects/${year}/approval`, {
    documentNumber: `临重项组〔${year}〕2号`,
  });
  const version1 = await get('leading-group/leader', `/key-projects?year=${year}&version=1`);
  const xlsx = await download('leading-group/leader', `/key-projects?year=${year}&version=1&format=xlsx`);

  // Assert
  expect(noMeeting.status).toBe(404);
  expect(noAllocation.status).toBe(422);
  expect(noAllocation.body.field).toBe('fundAllocation');
  expect(first.status).toBe(200);
  expect(first.body.message).toContain(`included in the ${year} 重点项目库`);
  expect(second.status).toBe(200);
  const pa = await eventually(
    () => project(a.id),
    (v) => v.details.flags.cityKey,
  );
  expect(pa.state.keyProjectDecisions).toEqual([
    expect.objectContaining({
      included: true,
      fundAllocation: expect.objectContaining({ amountYuan: 50_000_123 }),
    }),
  ]);
  const entries = working.body.entries as {
    projectId: string;
    fundAllocation: { amountWan: string; sourceLabel: string };
  }[];
  expect(entries.map((e) => e.projectId).sort()).toEqual([a.id, b.id].sort());
  expect(entries.find((e) => e.projectId === a.id)!.fundAllocation).toMatchObject({
    amountWan: '5000.0123',
    sourceLabel: '地方政府专项债券',
  });
  expect(working.body).toMatchObject({ status: 'WORKING', fundAllocationWan: '8000.0123', approvals: [] });
  const decisions = await eventually(
    () => get('leading-group/leader', `/joint-meetings/${month}`),
    (r) => (r.body.decisions as unknown[] | undefined)?.length === 2,
  );
  expect(decisions.body).toMatchObject({ held: true, date: meeting.body.scheduledOn });
  expect((decisions.body.decisions as { outcome: string }[]).map((d) => d.outcome)).toEqual([
    'INCLUDED',
    'INCLUDED',
  ]);
  expect(byDepartmentLeader.status).toBe(403);
  expect(approved.status).toBe(201);
  expect(approved.body).toMatchObject({ version: 1, documentNumber: `临重项组〔${year}〕1号` });
  expect(approved.body.publishedAt).toEqual(expect.any(String));
  expect(again.status).toBe(409);
  expect(version1.body).toMatchObject({ status: 'APPROVED', count: 2, approval: { version: 1 } });
  expect(xlsx.status).toBe(200);
  expect(xlsx.type).toContain('spreadsheetml');
  const rows = await sheetRows(xlsx.body, '年度重点项目库');
  expect(rows[0]).toEqual(expect.arrayContaining(['项目名称', '资金分配(万元)', '资金来源']));
  const allocationColumn = rows[0]!.indexOf('资金分配(万元)');
  expect(
    rows
      .slice(1)
      .map((r) => Number(r[allocationColumn]))
      .sort((x, y) => x - y),
  ).toEqual([3000, 5000.0123]);
  for (const hook of [hooks.county, hooks.department]) {
    const got = await eventually(
      () => Promise.resolve(hook.accepted().filter((h) => h.raw.includes('年度重点项目库'))),
      (hs) => hs.length > 0,
    );
    expect(got[0]!.signatureValid).toBe(true);
    expect(got[0]!.raw).toContain(`临重项组〔${year}〕1号`);
  }
});

// This month's meeting of the suite above is held today; a postponement needs a month whose meeting is still to
// come, so this test has a system (and database) of its own.
describe('on a system of its own', () => {
  let shared: { sys: TestSystem; app: Express };
  beforeAll(async () => {
    shared = { sys, app };
    const policy = secondsPolicy(600);
    policy.review.tier3.deadline = { nextMonthlyMeeting: true };
    sys = await startTestSystem({ policy });
    app = testApp(sys);
  });
  afterAll(async () => {
    await sys.close();
    ({ sys, app } = shared);
  });

  test('the comprehensive review’s deadline follows its joint meeting when the leading group postpones it', async () => {
    // Arrange: a recommended project waits for the next joint meeting.
    const { id, t2, t3 } = await atSpecialistReview({ name: '临汾市第二水厂扩建工程' });
    expect(
      (
        await post('sg-urban/leader', `/tasks/${t2}/specialist-review`, {
          outcome: 'RECOMMENDED',
          assessments,
        })
      ).status,
    ).toBe(200);
    const dueDayOf = async () => {
      const inbox = await get('leading-group/leader', '/tasks');
      const item = (inbox.body.tasks as { taskId: string; dueAt: string | null }[]).find(
        (t) => t.taskId === t3,
      );
      return item?.dueAt ? shanghaiDayOf(Date.parse(item.dueAt)) : undefined;
    };
    const scheduledDay = (await eventually(dueDayOf, (d) => d !== undefined))!;
    const month = scheduledDay.slice(0, 7);
    const created = await post('leading-group/leader', '/joint-meetings', { month });
    const to = dayPlus(scheduledDay, 3);

    // Act
    const byGroup = await post('sg-urban/leader', `/joint-meetings/${month}/postponement`, {
      to,
      reason: '顺延',
    });
    const earlier = await post('leading-group/leader', `/joint-meetings/${month}/postponement`, {
      to: dayPlus(scheduledDay, -1),
      reason: '提前',
    });
    const postponed = await post('leading-group/leader', `/joint-meetings/${month}/postponement`, {
      to,
      reason: '市长出席省级会议，联席会议顺延',
    });
    const movedDay = await eventually(dueDayOf, (d) => d === to);
    const decidedBeforeHeld = await post('leading-group/leader', `/tasks/${t3}/comprehensive-review`, {
      meetingMonth: month,
      included: false,
    });
    const view = await get('leading-group/leader', `/joint-meetings/${month}`);

    // Assert
    expect(created.status).toBe(201);
    expect(created.body.scheduledOn).toBe(scheduledDay);
    expect(byGroup.status).toBe(403);
    expect(earlier.status).toBe(422);
    expect(postponed.status).toBe(200);
    expect(postponed.body.failed).toEqual([]);
    expect((postponed.body.rescheduled as { projectId: string }[]).map((r) => r.projectId)).toContain(id);
    expect(movedDay).toBe(to);
    const task = (await sys.projects.query(id)).tasks.find((t) => t.id === t3)!;
    expect(task.deadline?.basis).toContain(`顺延至 ${to}`);
    expect(decidedBeforeHeld.status).toBe(409);
    expect(decidedBeforeHeld.body.type).toMatch(/meeting-not-held$/);
    expect(view.body).toMatchObject({
      scheduledOn: scheduledDay,
      date: to,
      held: false,
      postponements: [
        expect.objectContaining({ from: scheduledDay, to, reason: '市长出席省级会议，联席会议顺延' }),
      ],
    });
    expect((view.body.waiting as { taskId: string }[]).map((w) => w.taskId)).toContain(t3);
  });
});

test('a special group’s 重点项目建议清单 lists its recommended project and exports as an .xlsx that reads back', async () => {
  // Arrange: two projects of one group's portfolio; the group recommends one of them.
  const recommended = await atSpecialistReview(
    { name: '临汾市第一人民医院门诊综合楼', portfolio: 'sg-livelihood' },
    { governmentInvested: false },
  );
  const other = await atSpecialistReview(
    { name: '临汾市社区养老服务中心', portfolio: 'sg-livelihood' },
    { governmentInvested: false },
  );
  for (const [p, outcome] of [
    [recommended, 'RECOMMENDED'],
    [other, 'NOT_RECOMMENDED'],
  ] as const) {
    const res = await post('sg-livelihood/leader', `/tasks/${p.t2}/specialist-review`, {
      outcome,
      assessments,
    });
    expect(res.status).toBe(200);
  }

  // Act
  const list = await eventually(
    () => get('sg-livelihood/reviewer', '/special-groups/sg-livelihood/recommendations'),
    (r) => r.body.count === 1,
  );
  const byOtherGroup = await get('sg-urban/reviewer', '/special-groups/sg-livelihood/recommendations');
  const bySupervisor = await get(
    'city-supervision/supervisor',
    '/special-groups/sg-livelihood/recommendations',
  );
  const xlsx = await download(
    'sg-livelihood/reviewer',
    '/special-groups/sg-livelihood/recommendations?format=xlsx',
  );

  // Assert
  expect(list.body).toMatchObject({ group: 'sg-livelihood', groupName: '社会民生专项推进组', count: 1 });
  expect(list.body.entries[0]).toMatchObject({
    projectId: recommended.id,
    name: '临汾市第一人民医院门诊综合楼',
    totalInvestmentWan: '35000.0000',
    assessments,
  });
  expect(byOtherGroup.status).toBe(403);
  expect(bySupervisor.status).toBe(200);
  expect(xlsx.status).toBe(200);
  expect(xlsx.type).toContain('spreadsheetml');
  const rows = await sheetRows(xlsx.body, '重点项目建议清单');
  expect(rows).toHaveLength(2);
  const [header, row] = rows as [unknown[], unknown[]];
  expect(row[header.indexOf('项目名称')]).toBe('临汾市第一人民医院门诊综合楼');
  expect(row[header.indexOf('项目编号')]).toBe(recommended.id);
  expect(row[header.indexOf('总投资(万元)')]).toBe(35000);
  expect(row[header.indexOf('技术方案')]).toBe(assessments.technical);
  expect(row[header.indexOf('评审时间')]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
});
