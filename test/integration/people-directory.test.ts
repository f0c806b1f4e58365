import request from 'supertest';
import type { Express } from 'express';
import { ApiError } from '../../api/problem';
import { assertKnownLeader, directoryProblems, refuseUnknownLeaders } from '../../api/project-input';
import {
  createNotificationModels,
  setOrgChannels,
  type NotificationModels,
} from '../../db/notification-models';
import { auditTrailOf, type AuditEvent } from '../../db/queries';
import type { Task } from '../../domain/state';
import { testApp, token } from '../support/api';
import { actor } from '../support/fixtures';
import { eventually, notificationSettled, startTestSystem, type TestSystem } from '../support/harness';
import { LifecycleDriver } from '../support/lifecycle-driver';
import { secondsPolicy } from '../support/policies';
import { WebhookReceiver } from '../support/receivers';

// Test-only secrets; production secrets are written by administrators through PUT /people/{personId}.
const SECRET = 'people-directory-test-secret';
let sys: TestSystem;
let app: Express;
let d: LifecycleDriver;
let models: NotificationModels;
const hooks = {
  leader: new WebhookReceiver(SECRET),
  ndrcHead: new WebhookReceiver(SECRET),
  ndrcInbox: new WebhookReceiver(SECRET),
  housingInbox: new WebhookReceiver(SECRET),
  group: new WebhookReceiver(SECRET),
  leadingGroup: new WebhookReceiver(SECRET),
  supervision: new WebhookReceiver(SECRET),
};
const urls: Record<keyof typeof hooks, string> = {} as never;
const owner = actor('yaodu', 'applicant');
const admin = () => token('admin-1', 'project-center', 'admin');

const putPerson = async (id: string, body: Record<string, unknown>, bearer?: string) =>
  request(app)
    .put(`/api/v1/people/${id}`)
    .set('Authorization', `Bearer ${bearer ?? (await admin())}`)
    .send(body);

beforeAll(async () => {
  sys = await startTestSystem({
    policy: secondsPolicy(),
    notifications: {
      smtp: { host: '127.0.0.1', port: 1, from: '重大项目管理系统 <noreply@pipeline.test>' }, // webhooks only here
      retry: { initialIntervalMs: 200, backoffCoefficient: 2, maximumIntervalMs: 1000 },
    },
  });
  app = testApp(sys);
  d = new LifecycleDriver(sys);
  models = createNotificationModels(sys.mongo);
  for (const [name, hook] of Object.entries(hooks))
    urls[name as keyof typeof hooks] = `http://127.0.0.1:${await hook.listen()}/hook/${name}?token=t-${name}`;
  const inbox = (org: string, url: string) =>
    setOrgChannels(models, org, { webhooks: [{ url, secret: SECRET }] });
  await inbox('ndrc', urls.ndrcInbox);
  await inbox('housing', urls.housingInbox);
  await inbox('sg-urban', urls.group);
  await inbox('leading-group', urls.leadingGroup);
  await inbox('city-supervision', urls.supervision);
  const leader = await putPerson('vm-li', {
    name: '李明',
    post: '副市长',
    org: 'sg-urban',
    channels: { webhooks: [{ url: urls.leader, secret: SECRET }] },
  });
  const head = await putPerson('ndrc-director', {
    name: '王强',
    post: '局长',
    org: 'ndrc',
    headOf: ['ndrc'],
    channels: { webhooks: [{ url: urls.ndrcHead, secret: SECRET }] },
  });
  expect([leader.status, head.status]).toEqual([200, 200]);
});
afterAll(async () => {
  await sys?.close();
  await Promise.all(Object.values(hooks).map((h) => h.close()));
});

const ids = (r: WebhookReceiver) => r.accepted().map((h) => String(h.headers['x-notification-id']));
const forTask = (trail: AuditEvent[], taskId: string) => trail.filter((e) => e.data?.taskId === taskId);
const recordsOf = (notificationKey: string) => models.Notification.find({ notificationKey }).lean();
/** Waits until every channel of one notification has its final record (its delivery workflow is over). */
const delivered = (notificationKey: string) =>
  notificationSettled(createNotificationModels(sys.mongo), notificationKey);

async function screening(assignedLeader: string): Promise<{ id: string; task: (org: string) => Task }> {
  const id = await d.create({ assignedLeader, name: `包联领导 ${assignedLeader} 的项目` });
  await d.act(id, owner, { type: 'submit' });
  const reviews = await d.openTasks(id, (t) => t.tier === 1);
  return {
    id,
    task: (org) => {
      const t = reviews.find((x) => x.assigneeOrg === org);
      if (!t) throw new Error(`no tier-1 review of ${org}`);
      return t;
    },
  };
}

test('an L1 escalation reaches the 包联领导 and the unit’s head on their own webhooks, not the unit’s inbox', async () => {
  // Arrange
  const { task } = await screening('vm-li');
  const ndrc = task('ndrc');
  const l1 = `${ndrc.id}:s1:L1`;

  // Act: nobody at ndrc decides, so the review goes overdue and climbs to L1.
  await eventually(
    () => Promise.resolve([ids(hooks.leader), ids(hooks.ndrcHead)]),
    ([leader, head]) => leader!.some((x) => x.startsWith(l1)) && head!.some((x) => x.startsWith(l1)),
    30_000,
  );
  await delivered(l1);

  // Assert: the leader's and the head's own receivers, signed, addressed to them by name.
  const toLeader = hooks.leader
    .accepted()
    .find((h) => String(h.headers['x-notification-id']).startsWith(l1))!;
  expect(toLeader.signatureValid).toBe(true);
  expect(toLeader.body).toMatchObject({
    template: 'ESCALATION',
    recipient: { person: { id: 'vm-li', name: '李明' } },
  });
  expect(toLeader.body.text).toMatch(/^李明：/);
  const toHead = hooks.ndrcHead
    .accepted()
    .find((h) => String(h.headers['x-notification-id']).startsWith(l1))!;
  expect(toHead.signatureValid).toBe(true);
  expect(toHead.body.recipient).toEqual({ headOf: 'ndrc', person: { id: 'ndrc-director', name: '王强' } });
  // The unit's inbox had the reminders, as the assignee; the escalation went over its head.
  const inbox = ids(hooks.ndrcInbox).filter((x) => x.startsWith(`${ndrc.id}:s1:`));
  expect(inbox.some((x) => x.startsWith(`${ndrc.id}:s1:R`))).toBe(true);
  expect(inbox.filter((x) => x.startsWith(l1))).toEqual([]);
  const records = await recordsOf(l1);
  expect(records.map((r) => [r.recipientKey, r.status, r.resolution?.code]).sort()).toEqual([
    ['head:ndrc', 'SENT', 'HEAD_IN_DIRECTORY'],
    ['person-id:vm-li', 'SENT', 'PERSON_IN_DIRECTORY'],
  ]);
  expect(JSON.stringify(records)).not.toContain(SECRET);
  expect(JSON.stringify(records)).not.toContain('token=');
});

test('a unit without a head in the directory gets the L1 on its own channels, and the record says why', async () => {
  // Arrange
  const { task } = await screening('vm-li');
  const l1 = `${task('housing').id}:s1:L1`;

  // Act
  await eventually(
    () => Promise.resolve(ids(hooks.housingInbox)),
    (list) => list.some((x) => x.startsWith(l1)),
    30_000,
  );
  await delivered(l1);

  // Assert
  const [record] = (await recordsOf(l1)).filter((r) => r.recipientKey === 'head:housing');
  expect(record).toMatchObject({
    status: 'SENT',
    recipient: { headOf: 'housing', org: 'housing' },
    resolution: { code: 'NO_HEAD_IN_DIRECTORY', note: expect.stringContaining('housing') },
  });
});

test('a free-text 包联领导 of a project from before the directory reaches nobody, is recorded NO_CHANNEL, and the ladder goes on', async () => {
  // Arrange: created straight through the client, as projects were before the directory existed.
  const { id, task } = await screening('张副市长');
  const ndrc = task('ndrc');

  // Act
  const trail = await eventually(
    () => auditTrailOf(sys.models, id),
    (t) => forTask(t, ndrc.id).some((e) => e.type === 'ESCALATED' && e.data?.level === 2),
    30_000,
  );

  // Assert
  expect(forTask(trail, ndrc.id).find((e) => e.type === 'ESCALATED')?.data?.recipients).toEqual([
    'head:ndrc',
    'person:张副市长',
  ]);
  const leader = await eventually(
    async () => (await recordsOf(`${ndrc.id}:s1:L1`)).find((r) => r.recipientKey === 'person-id:张副市长'),
    (r) => r !== undefined,
  );
  expect(leader).toMatchObject({
    status: 'NO_CHANNEL',
    channel: null,
    resolution: { code: 'PERSON_NOT_IN_DIRECTORY' },
  });
});

test('an overdue leading-group decision escalates only upward, to city supervision, never to a special group', async () => {
  // Arrange: tiers 1 and 2 decided at once, so the comprehensive review (tier 3) opens for the leading group.
  const id = await d.create({ assignedLeader: 'vm-li', name: '领导小组综合评审逾期的项目' });
  await d.act(id, owner, { type: 'submit' });
  await d.passOpenReviews(id);
  const specialist = await eventually(
    () => d.openTasks(id, (t) => t.kind === 'REVIEW' && t.tier === 2),
    (open) => open.length === 1,
  ).then((open) => open[0]!);
  await d.act(id, actor(specialist.assigneeOrg), {
    type: 'decideSpecialistReview',
    taskId: specialist.id,
    outcome: 'RECOMMENDED',
    assessments: { technical: '技术方案可行', investmentBenefit: '投资效益良好', riskControl: '风险可控' },
  });
  const review = await eventually(
    () => d.openTasks(id, (t) => t.kind === 'REVIEW' && t.tier === 3),
    (open) => open.length === 1,
  ).then((open) => open[0]!);
  expect(review.assigneeOrg).toBe('leading-group');

  // Act: the leading group lets it go overdue.
  const trail = await eventually(
    () => auditTrailOf(sys.models, id),
    (t) => forTask(t, review.id).some((e) => e.type === 'ESCALATED'),
    30_000,
  );
  const l4 = `${review.id}:s1:L4`;
  await eventually(
    () => Promise.resolve(ids(hooks.supervision)),
    (list) => list.some((x) => x.startsWith(l4)),
  );
  await delivered(l4);

  // Assert: one escalation, L4, to city supervision; nothing of this task ever went to the special group.
  const live = await d.live(id);
  const schedule = live.tasks.find((t) => t.id === review.id)!.schedule!;
  expect(schedule.escalations.map((e) => e.level)).toEqual([4]);
  const escalated = forTask(trail, review.id).filter((e) => e.type === 'ESCALATED');
  expect(escalated.map((e) => [e.data?.level, e.data?.recipients])).toEqual([[4, ['city-supervision']]]);
  expect(ids(hooks.group).filter((x) => x.startsWith(review.id))).toEqual([]);
  expect((await recordsOf(l4)).map((r) => r.recipient)).toEqual([{ org: 'city-supervision' }]);
});

test('an overdue special-group review starts its ladder at the leading group', async () => {
  // Arrange
  const id = await d.create({ assignedLeader: 'vm-li', name: '专项推进组评审逾期的项目' });
  await d.act(id, owner, { type: 'submit' });
  await d.passOpenReviews(id);
  const review = await eventually(
    () => d.openTasks(id, (t) => t.kind === 'REVIEW' && t.tier === 2),
    (open) => open.length === 1,
  ).then((open) => open[0]!);

  // Act
  const trail = await eventually(
    () => auditTrailOf(sys.models, id),
    (t) => forTask(t, review.id).some((e) => e.type === 'ESCALATED' && e.data?.level === 4),
    30_000,
  );

  // Assert
  expect(review.assigneeOrg).toBe('sg-urban');
  expect(
    forTask(trail, review.id)
      .filter((e) => e.type === 'ESCALATED')
      .map((e) => e.data?.level),
  ).toEqual([3, 4]);
});

test('the directory is kept by administrators; readers see names and posts, administrators the channels, nobody a secret', async () => {
  // Arrange
  const reader = await token('owner-1', 'yaodu', 'applicant');
  const leader = await token('leader-1', 'sg-urban', 'leader');

  // Act
  const refused = await putPerson('someone', { name: '某人', post: '科长', org: 'ndrc' }, leader);
  const listed = await request(app).get('/api/v1/people').set('Authorization', `Bearer ${reader}`);
  const asAdmin = await request(app)
    .get('/api/v1/people/vm-li')
    .set('Authorization', `Bearer ${await admin()}`);
  // The secret may be left out when the URL stays: the stored one is kept.
  const renamed = await putPerson('vm-li', {
    name: '李明',
    post: '常务副市长',
    org: 'sg-urban',
    channels: { webhooks: [{ url: urls.leader }] },
  });

  // Assert
  expect(refused.status).toBe(403);
  expect(listed.status).toBe(200);
  expect(listed.body.people).toEqual(
    expect.arrayContaining([
      { id: 'vm-li', name: '李明', post: '副市长', org: 'sg-urban', headOf: [] },
      { id: 'ndrc-director', name: '王强', post: '局长', org: 'ndrc', headOf: ['ndrc'] },
    ]),
  );
  expect(asAdmin.body.channels).toEqual({
    emails: [],
    webhooks: [{ url: urls.leader.replace(/\?.*$/, '') }],
  });
  expect(renamed.status).toBe(200);
  expect(renamed.body.post).toBe('常务副市长');
  const stored = await sys.models.People.findById('vm-li').lean();
  expect(stored?.channels.webhooks).toEqual([{ url: urls.leader, secret: SECRET }]);
  for (const body of [listed.body, asAdmin.body, renamed.body]) {
    expect(JSON.stringify(body)).not.toContain(SECRET);
    expect(JSON.stringify(body)).not.toContain('token=');
  }
});

test('a person is refused with problem+json for an unknown organisation, a taken head, or a new webhook without a secret', async () => {
  // Act
  const unknownOrg = await putPerson('p-1', { name: '甲', post: '局长', org: 'no-such-org' });
  const takenHead = await putPerson('p-2', { name: '乙', post: '局长', org: 'ndrc', headOf: ['ndrc'] });
  const noSecret = await putPerson('p-3', {
    name: '丙',
    post: '局长',
    org: 'ndrc',
    channels: { webhooks: [{ url: 'http://127.0.0.1:9/hook' }] },
  });
  const badBody = await putPerson('P_4', { name: '', post: '局长', org: 'ndrc', extra: 1 });

  // Assert
  expect(unknownOrg.status).toBe(400);
  expect(unknownOrg.body.errors).toEqual([expect.objectContaining({ path: 'org' })]);
  expect(takenHead.status).toBe(409);
  expect(takenHead.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(takenHead.body.type).toBe('https://project-pipeline.dev/problems/conflict');
  expect(noSecret.status).toBe(400);
  expect(noSecret.body.errors).toEqual([expect.objectContaining({ path: 'channels.webhooks.0.secret' })]);
  expect(badBody.status).toBe(400);
  expect(await sys.models.People.countDocuments({ _id: { $in: ['p-1', 'p-2', 'p-3'] } })).toBe(0);
});

test('a project naming a 包联领导 the directory lacks is refused; an import file reports the row', async () => {
  // Act
  const known = await directoryProblems({ assignedLeader: 'vm-li' }, sys.models.People);
  const unknown = await directoryProblems({ assignedLeader: 'vm-nobody' }, sys.models.People);
  const file = {
    valid: [
      { row: 2, body: { assignedLeader: 'vm-li' } },
      { row: 3, body: { assignedLeader: 'vm-nobody' } },
      { row: 4, body: {} },
    ],
    problems: [{ row: 5, column: '项目名称', message: 'required' }],
  };
  await refuseUnknownLeaders(file, sys.models.People);
  const refused = await assertKnownLeader(
    { assignedLeader: 'vm-nobody' },
    sys.models.People,
    'changes.',
  ).then(
    () => undefined,
    (err: unknown) => err,
  );

  // Assert
  expect(known).toEqual([]);
  expect(unknown).toEqual([{ field: 'assignedLeader', message: expect.stringContaining('vm-nobody') }]);
  expect(refused).toBeInstanceOf(ApiError);
  expect(refused).toMatchObject({
    status: 400,
    extra: { errors: [{ in: 'body', path: 'changes.assignedLeader', message: expect.any(String) }] },
  });
  await expect(assertKnownLeader({ assignedLeader: null }, sys.models.People)).resolves.toBeUndefined();
  expect(file.valid.map((v) => v.row)).toEqual([2, 4]);
  expect(file.problems).toEqual([
    { row: 3, column: '包联领导', message: expect.stringContaining('vm-nobody') },
    { row: 5, column: '项目名称', message: 'required' },
  ]);
});
