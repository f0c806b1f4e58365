import { WorkflowUpdateFailedError } from '@temporalio/client';
import request from 'supertest';
import { blockerWorkflowId } from '../../domain/blockers';
import { createNotificationModels, setOrgChannels } from '../../db/notification-models';
import { auditTrailOf, inboxOf } from '../../db/queries';
import { testApp, token } from '../support/api';
import { actor } from '../support/fixtures';
import { eventually, startTestSystem, type TestSystem } from '../support/harness';
import { LifecycleDriver } from '../support/lifecycle-driver';
import { secondsPolicy } from '../support/policies';
import { WebhookReceiver } from '../support/receivers';

const SECRET = 'blocker-test-webhook-secret';
let sys: TestSystem;
let d: LifecycleDriver;
const hooks = { responsible: new WebhookReceiver(SECRET), group: new WebhookReceiver(SECRET) };
const owner = actor('yaodu', 'applicant');
const landBureau = actor('natural-resources', 'reviewer');

beforeAll(async () => {
  sys = await startTestSystem({
    policy: secondsPolicy(),
    notifications: {
      smtp: { host: '127.0.0.1', port: 1, from: '重大项目管理系统 <noreply@pipeline.test>' }, // no org here has email
      retry: { initialIntervalMs: 200, backoffCoefficient: 2, maximumIntervalMs: 1000 },
    },
  });
  d = new LifecycleDriver(sys);
  const models = createNotificationModels(sys.mongo);
  const url = async (r: WebhookReceiver) => `http://127.0.0.1:${await r.listen()}/hook`;
  await setOrgChannels(models, 'natural-resources', {
    webhooks: [{ url: await url(hooks.responsible), secret: SECRET }],
  });
  await setOrgChannels(models, 'sg-urban', { webhooks: [{ url: await url(hooks.group), secret: SECRET }] });
});
afterAll(async () => {
  await sys?.close();
  await Promise.all(Object.values(hooks).map((h) => h.close()));
});

const raise = (projectId: string, who = owner, over: Record<string, unknown> = {}) =>
  d.act(projectId, who, {
    type: 'raiseBlocker',
    category: 'LAND',
    level: 'CITY',
    responsibleOrg: 'natural-resources',
    description: '项目用地指标未落实，影响开工',
    ...over,
  } as never);

const blockerAct = (
  blockerId: string,
  who: typeof owner,
  action: Parameters<TestSystem['projects']['actOnBlocker']>[3],
) => sys.projects.actOnBlocker(blockerId, `${who.userId}:${Math.random()}`, who, action);

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  return String((err as WorkflowUpdateFailedError).cause?.message);
}

test('a blocker escalates when overdue, and closes only on the raising organisation’s confirmation', async () => {
  const id = await d.create();
  await d.act(id, owner, { type: 'submit' });
  const raised = await raise(id);
  const blockerId = raised.blockerId!;
  expect(blockerId).toBe(`${id}-B1`);

  // Nobody acts: reminders, then the ladder, in the blocker's own trail and delivered up the ladder.
  const trail = await eventually(
    () => auditTrailOf(sys.models, blockerId),
    (t) => t.some((e) => e.type === 'ESCALATED' && e.data?.level === 2),
    60_000,
  );
  const fired = trail.filter((e) => e.type === 'REMINDER_SENT' || e.type === 'ESCALATED');
  expect(fired.slice(0, 5).map((e) => (e.type === 'ESCALATED' ? `L${String(e.data?.level)}` : 'R'))).toEqual([
    'R',
    'R',
    'R',
    'L1',
    'L2',
  ]);
  await eventually(
    () => Promise.resolve(hooks.group.accepted().map((h) => String(h.headers['x-notification-id']))),
    (ids) => ids.some((x) => x.startsWith(`${id}~B1-R1-CITY:s1:L2`)),
    30_000,
  );
  expect(
    hooks.responsible
      .accepted()
      .some((h) => String(h.headers['x-notification-id']).includes('B1-R1-CITY:s1:R1')),
  ).toBe(true);

  // The project knows: its read model lists the blocker with its escalation, and its trail records it.
  const project = await eventually(
    () => sys.models.Project.findById(id).lean(),
    (p) =>
      ((p?.state as { blockers?: { escalationLevel: number }[] }).blockers?.[0]?.escalationLevel ?? 0) >= 2,
    30_000,
  );
  expect((project!.state as { blockers: { status: string }[] }).blockers[0]!.status).toBe('OPEN');
  expect((await auditTrailOf(sys.models, id)).some((e) => e.type === 'BLOCKER_RAISED')).toBe(true);
  const listed = await eventually(
    () => inboxOf(sys.models, 'natural-resources'),
    (i) => i.some((x) => x.blockerId === blockerId && x.escalationLevel >= 2),
  );
  expect(listed.find((x) => x.blockerId === blockerId)?.kind).toBe('BLOCKER');

  // Only the responsible organisation resolves it, with a note.
  expect(
    await refusal(blockerAct(blockerId, actor('finance'), { type: 'resolveBlocker', note: '已协调' })),
  ).toMatch(/assigned to natural-resources/);
  expect(await refusal(blockerAct(blockerId, landBureau, { type: 'resolveBlocker', note: '  ' }))).toMatch(
    /note/,
  );
  await blockerAct(blockerId, landBureau, { type: 'resolveBlocker', note: '已调剂用地指标' });

  // Resolved is not closed: the responsible organisation cannot confirm its own resolution.
  expect(await refusal(blockerAct(blockerId, landBureau, { type: 'confirmBlockerClosure' }))).toMatch(
    /raising organisation/,
  );
  let live = await sys.projects.queryBlocker(blockerId);
  expect(live.blocker.status).toBe('RESOLVED');
  await eventually(
    () => inboxOf(sys.models, 'yaodu'),
    (i) => i.some((x) => x.blockerId === blockerId && x.taskId.endsWith('B1-R1-CONFIRM')),
  );

  // The raiser is not satisfied: reopened, a new round with its own deadline and a fresh ladder.
  await blockerAct(blockerId, owner, { type: 'reopenBlocker', reason: '指标仅解决一半' });
  live = await sys.projects.queryBlocker(blockerId);
  expect(live.blocker.status).toBe('OPEN');
  expect(live.blocker.round).toBe(2);
  const second = await eventually(
    () => sys.projects.queryBlocker(blockerId),
    (v) => v.tasks.some((t) => t.key === 'B1-R2-CITY' && t.deadline !== undefined),
  );
  const round2 = second.tasks.find((t) => t.key === 'B1-R2-CITY')!;
  expect(round2.escalationLevel).toBe(0);
  expect(round2.deadline!.dueAt).toBeGreaterThan(live.blocker.reopenings[0]!.at);

  await blockerAct(blockerId, landBureau, { type: 'resolveBlocker', note: '剩余指标已下达' });
  const closed = await blockerAct(blockerId, owner, { type: 'confirmBlockerClosure', note: '确认销号' });
  expect(closed.status).toBe('CLOSED');

  // The blocker's workflow ends; the read model, the project and the inboxes follow.
  const result = await sys.projects.client.workflow.getHandle(blockerWorkflowId(blockerId)).result();
  expect((result as { blocker: { status: string } }).blocker.status).toBe('CLOSED');
  const doc = await eventually(
    () => sys.models.Blocker.findById(blockerId).lean(),
    (b) => b?.status === 'CLOSED',
  );
  expect(doc!.closedAt).toBeInstanceOf(Date);
  expect(doc!.resolutions).toHaveLength(2);
  await eventually(
    () => sys.models.Project.findById(id).lean(),
    (p) => (p?.state as { blockers?: { status: string }[] }).blockers?.[0]?.status === 'CLOSED',
  );
  const inboxes = [
    ...(await inboxOf(sys.models, 'natural-resources')),
    ...(await inboxOf(sys.models, 'yaodu')),
  ];
  expect(inboxes.filter((x) => x.blockerId === blockerId)).toEqual([]);
  const blockerTrail = (await auditTrailOf(sys.models, blockerId)).map((e) => e.type);
  expect(blockerTrail.filter((t) => t.startsWith('BLOCKER_'))).toEqual([
    'BLOCKER_RAISED',
    'BLOCKER_RESOLVED',
    'BLOCKER_REOPENED',
    'BLOCKER_RESOLVED',
    'BLOCKER_CLOSED',
  ]);
});

test('a bad blocker is refused with a clear reason and changes nothing', async () => {
  const id = await d.create();
  await d.act(id, owner, { type: 'submit' });
  const before = await d.live(id);
  expect(await refusal(raise(id, owner, { category: 'WEATHER' }))).toMatch(/category must be one of/);
  expect(await refusal(raise(id, owner, { level: 'NATION' }))).toMatch(/level must be one of/);
  expect(await refusal(raise(id, owner, { responsibleOrg: 'city-supervision' }))).toMatch(/responsibleOrg/);
  expect(await refusal(raise(id, owner, { description: '' }))).toMatch(/description/);
  // An organisation with nothing to do with the project cannot raise one on it.
  expect(await refusal(raise(id, actor('houma', 'applicant')))).toMatch(/working on the project/);
  const after = await d.live(id);
  expect(after.blockers ?? []).toEqual([]);
  expect(after.tasks.map((t) => t.id)).toEqual(before.tasks.map((t) => t.id));
  // A blocker id that does not exist is not a workflow.
  await expect(sys.projects.queryBlocker(`${id}-B9`)).rejects.toThrow();
});

test('through the API: raised with a Location, listed per project and organisation, in the supervisor’s view', async () => {
  const app = testApp(sys);
  const auth = async (sub: string, org: string, role: string) => `Bearer ${await token(sub, org, role)}`;
  const applicant = await auth('owner-1', 'yaodu', 'applicant');
  const bureau = await auth('land-1', 'natural-resources', 'reviewer');
  const supervisor = await auth('sup-1', 'city-supervision', 'supervisor');
  const id = await d.create();
  await d.act(id, owner, { type: 'submit' });

  // A bad body is refused field by field and raises nothing.
  const bad = await request(app)
    .post(`/api/v1/projects/${id}/blockers`)
    .set('Authorization', applicant)
    .send({ category: 'WEATHER', level: 'CITY', responsibleOrg: 'natural-resources', description: '' });
  expect(bad.status).toBe(400);
  expect((bad.body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual([
    'category',
    'description',
  ]);
  const notResponsible = await request(app)
    .post(`/api/v1/projects/${id}/blockers`)
    .set('Authorization', applicant)
    .send({
      category: 'FUNDS',
      level: 'CITY',
      responsibleOrg: 'leading-group',
      description: '配套资金未到位',
    });
  expect(notResponsible.status).toBe(400);
  expect((await d.live(id)).blockers ?? []).toEqual([]);

  const raised = await request(app)
    .post(`/api/v1/projects/${id}/blockers`)
    .set('Authorization', applicant)
    .set('Idempotency-Key', 'raise-land-blocker-1')
    .send({
      category: 'LAND',
      level: 'COUNTY',
      responsibleOrg: 'natural-resources',
      description: '征地补偿未落实',
    });
  expect(raised.status).toBe(201);
  const blockerId = raised.body.blockerId as string;
  expect(raised.headers.location).toBe(`/api/v1/blockers/${blockerId}`);
  // The same Idempotency-Key raises nothing new.
  const again = await request(app)
    .post(`/api/v1/projects/${id}/blockers`)
    .set('Authorization', applicant)
    .set('Idempotency-Key', 'raise-land-blocker-1')
    .send({
      category: 'LAND',
      level: 'COUNTY',
      responsibleOrg: 'natural-resources',
      description: '征地补偿未落实',
    });
  expect(again.body.blockerId).toBe(blockerId);
  expect((await d.live(id)).blockers).toHaveLength(1);

  // Listed for the project, for the responsible organisation, not for an uninvolved one.
  const listed = await eventually(
    () => request(app).get(`/api/v1/projects/${id}/blockers`).set('Authorization', applicant),
    (r) => (r.body.blockers as unknown[] | undefined)?.length === 1,
  );
  expect(listed.body.blockers[0]).toMatchObject({
    blockerId,
    categoryLabel: '用地',
    levelLabel: '县级',
    status: 'OPEN',
  });
  const mine = await request(app).get('/api/v1/blockers?status=OPEN').set('Authorization', bureau);
  expect((mine.body.blockers as { blockerId: string }[]).map((b) => b.blockerId)).toContain(blockerId);
  const other = await request(app)
    .get('/api/v1/blockers')
    .set('Authorization', await auth('w-1', 'water', 'reviewer'));
  expect((other.body.blockers as { blockerId: string }[]).map((b) => b.blockerId)).not.toContain(blockerId);
  expect(
    (
      await request(app)
        .get(`/api/v1/blockers/${blockerId}`)
        .set('Authorization', await auth('w-1', 'water', 'reviewer'))
    ).status,
  ).toBe(404);

  // The supervisor's view of the project: its tasks' reminders and escalations, and the blocker's.
  const view = await eventually(
    () => request(app).get(`/api/v1/projects/${id}/supervision`).set('Authorization', supervisor),
    (r) =>
      (r.body.blockers as { clock: { type: string }[] }[] | undefined)?.[0]?.clock.some(
        (e) => e.type === 'ESCALATED',
      ) === true && (r.body.summary as { escalations: number } | undefined)?.escalations !== 0,
    60_000,
  );
  expect(view.status).toBe(200);
  expect(view.body.summary.openBlockers).toBe(1);
  expect((view.body.tasks as { type: string }[]).some((e) => e.type === 'REMINDER_SENT')).toBe(true);
  expect(
    (await request(app).get(`/api/v1/projects/${id}/supervision`).set('Authorization', applicant)).status,
  ).toBe(403);

  // Resolved by the responsible organisation, confirmed by the raiser: closed.
  const resolved = await request(app)
    .post(`/api/v1/blockers/${blockerId}/resolution`)
    .set('Authorization', bureau)
    .send({ note: '补偿款已拨付到位' });
  expect(resolved.status).toBe(200);
  expect(resolved.body.status).toBe('RESOLVED');
  const closed = await request(app)
    .post(`/api/v1/blockers/${blockerId}/confirmation`)
    .set('Authorization', applicant)
    .send({});
  expect(closed.body.status).toBe('CLOSED');
  const afterClose = await request(app)
    .post(`/api/v1/blockers/${blockerId}/reopening`)
    .set('Authorization', applicant)
    .send({ reason: '再次出现问题' });
  expect(afterClose.status).toBe(409);
  const detail = await eventually(
    () => request(app).get(`/api/v1/blockers/${blockerId}`).set('Authorization', supervisor),
    (r) => r.body.status === 'CLOSED',
  );
  expect((detail.body.events as { type: string }[]).map((e) => e.type)).toContain('BLOCKER_CLOSED');
});

test('the quarterly adjustment proposes a project whose blocker has climbed to the leading group, not one whose blocker was closed', async () => {
  const blocked = await d.create({ name: '堵点久拖项目' });
  await d.act(blocked, owner, { type: 'submit' });
  const stuck = (await raise(blocked)).blockerId!;
  const cleared = await d.create({ name: '堵点已销号项目' });
  await d.act(cleared, owner, { type: 'submit' });
  const solved = (await raise(cleared)).blockerId!;
  await blockerAct(solved, landBureau, { type: 'resolveBlocker', note: '已解决' });
  await blockerAct(solved, owner, { type: 'confirmBlockerClosure' });
  await eventually(
    () => sys.models.Blocker.findById(stuck).lean(),
    (b) => (b?.escalationLevel ?? 0) >= 3,
    60_000,
  );
  await eventually(
    () => sys.models.Blocker.findById(solved).lean(),
    (b) => b?.status === 'CLOSED',
  );

  await sys.client.workflow.execute('supervisionRun', {
    taskQueue: sys.taskQueue,
    workflowId: `adjustment-${blocked}`,
    args: [{ kind: 'QUARTERLY_ADJUSTMENT', period: '2026-Q4', force: true }],
  });
  const proposals = await sys.supervisionModels.RemovalProposal.find({ period: '2026-Q4' }).lean();
  const mine = proposals.filter((p) => [blocked, cleared].includes(p.projectId));
  expect(mine.map((p) => [p.projectId, p.why])).toEqual([[blocked, '堵点逾期未解决，已升级至领导小组']]);
});
