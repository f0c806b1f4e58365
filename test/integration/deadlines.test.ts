import { setOrgChannels } from '../../db/notification-models';
import { createNotificationModels } from '../../db/notification-models';
import { auditTrailOf, inboxOf, type AuditEvent } from '../../db/queries';
import { ProjectNextDeadlineAttr, ProjectOverdueAttr } from '../../domain/search-attributes';
import { actor } from '../support/fixtures';
import { eventually, startTestSystem, type TestSystem } from '../support/harness';
import { LifecycleDriver } from '../support/lifecycle-driver';
import { secondsPolicy } from '../support/policies';
import { SmtpReceiver, WebhookReceiver } from '../support/receivers';

const SECRET = 'deadline-test-webhook-secret';
let sys: TestSystem;
let d: LifecycleDriver;
const smtp = new SmtpReceiver();
const hooks = {
  ndrc: new WebhookReceiver(SECRET),
  group: new WebhookReceiver(SECRET),
  supervision: new WebhookReceiver(SECRET),
};
const owner = actor('yaodu', 'applicant');

beforeAll(async () => {
  const smtpPort = await smtp.listen();
  const policy = secondsPolicy();
  policy.reserve.staleAfterSeconds = 3;
  sys = await startTestSystem({
    policy,
    notifications: {
      smtp: { host: '127.0.0.1', port: smtpPort, from: '重大项目管理系统 <noreply@pipeline.test>' },
      retry: { initialIntervalMs: 200, backoffCoefficient: 2, maximumIntervalMs: 1000 },
    },
  });
  d = new LifecycleDriver(sys);
  const models = createNotificationModels(sys.mongo);
  const url = async (r: WebhookReceiver) => `http://127.0.0.1:${await r.listen()}/hook`;
  await setOrgChannels(models, 'ndrc', {
    webhooks: [{ url: await url(hooks.ndrc), secret: SECRET }],
    emails: ['ndrc@pipeline.test'],
  });
  await setOrgChannels(models, 'sg-urban', { webhooks: [{ url: await url(hooks.group), secret: SECRET }] });
  await setOrgChannels(models, 'leading-group', { emails: ['mayor-office@pipeline.test'] });
  await setOrgChannels(models, 'city-supervision', {
    webhooks: [{ url: await url(hooks.supervision), secret: SECRET }],
  });
});
afterAll(async () => {
  await sys?.close();
  await Promise.all([smtp.close(), ...Object.values(hooks).map((h) => h.close())]);
});

const forTask = (trail: AuditEvent[], taskId: string) => trail.filter((e) => e.data?.taskId === taskId);
const notificationIds = (r: WebhookReceiver) =>
  r.accepted().map((h) => String(h.headers['x-notification-id']));

test('a task nobody acts on is reminded, then escalates L1 → L4 in order, each recorded and delivered; acting stops its ladder', async () => {
  const id = await d.create();
  await d.act(id, owner, { type: 'submit' });
  const reviews = await d.openTasks(id, (t) => t.tier === 1);
  const task = (org: string) => reviews.find((t) => t.assigneeOrg === org)!;
  await d.act(id, actor('finance'), {
    type: 'decideReview',
    taskId: task('finance').id,
    decision: 'PASS',
    opinion: '同意',
  });

  // natural-resources acts after its first reminder: nothing follows for it.
  const nr = task('natural-resources');
  await eventually(
    () => auditTrailOf(sys.models, id),
    (t) => forTask(t, nr.id).some((e) => e.type === 'REMINDER_SENT'),
  );
  await d.act(id, actor('natural-resources'), {
    type: 'decideReview',
    taskId: nr.id,
    decision: 'PASS',
    opinion: '同意',
  });

  const ndrc = task('ndrc');
  const trail = await eventually(
    () => auditTrailOf(sys.models, id),
    (t) => forTask(t, ndrc.id).some((e) => e.type === 'ESCALATED' && e.data?.level === 4),
    30_000,
  );
  const live = await d.live(id);
  const schedule = live.tasks.find((t) => t.id === ndrc.id)!.schedule!;
  const fired = forTask(trail, ndrc.id).filter((e) => e.type === 'REMINDER_SENT' || e.type === 'ESCALATED');
  expect(fired.map((e) => (e.type === 'ESCALATED' ? `L${String(e.data?.level)}` : 'R'))).toEqual([
    'R',
    'R',
    'R',
    'L1',
    'L2',
    'L3',
    'L4',
  ]);
  const due = [...schedule.reminders, ...schedule.escalations.map((e) => e.at)];
  fired.forEach((e, i) => expect(new Date(e.at).getTime()).toBeGreaterThanOrEqual(due[i]!));

  // Nothing fired for the tasks that were acted on, even after the ladder's last step had passed.
  expect(
    forTask(trail, task('finance').id).filter((e) => e.type === 'REMINDER_SENT' || e.type === 'ESCALATED'),
  ).toEqual([]);
  expect(
    forTask(trail, nr.id).filter((e) => e.type === 'REMINDER_SENT' || e.type === 'ESCALATED'),
  ).toHaveLength(1);

  // Delivered, each exactly once, to the assignee (webhook + email) and up the ladder.
  const r = `${ndrc.id}:s1`;
  await eventually(
    () => Promise.resolve(notificationIds(hooks.ndrc)),
    (ids) => ids.filter((x) => x.startsWith(r)).length >= 4,
  );
  const ndrcIds = notificationIds(hooks.ndrc).filter((x) => x.startsWith(r));
  expect(new Set(ndrcIds).size).toBe(ndrcIds.length);
  expect(ndrcIds.map((x) => x.slice(r.length + 1, r.length + 3)).sort()).toEqual(['L1', 'R1', 'R2', 'R3']);
  expect(hooks.ndrc.accepted().every((h) => h.signatureValid)).toBe(true);
  await eventually(
    () => Promise.resolve(notificationIds(hooks.group)),
    (ids) => ids.some((x) => x.includes(`${r}:L2`)),
  );
  await eventually(
    () => Promise.resolve(notificationIds(hooks.supervision)),
    (ids) => ids.some((x) => x.includes(`${r}:L4`)),
  );
  await eventually(
    () => Promise.resolve(smtp.mails),
    (m) =>
      m.some((x) => x.to.includes('mayor-office@pipeline.test')) &&
      m.filter((x) => x.to.includes('ndrc@pipeline.test')).length >= 4,
  );
  expect(smtp.mails.find((m) => m.to.includes('mayor-office@pipeline.test'))?.headers.get('subject')).toMatch(
    /督办|逾期/,
  );

  // The inbox shows the current escalation level; the task is on the monthly bulletin list.
  const inbox = await eventually(
    () => inboxOf(sys.models, 'ndrc'),
    (i) => i.some((x) => x.taskId === ndrc.id && x.escalationLevel === 4),
  );
  expect(inbox.find((x) => x.taskId === ndrc.id)?.dueAt).toEqual(
    new Date(schedule.escalations[0]!.at - 1000),
  );
  expect(live.tasks.find((t) => t.id === ndrc.id)?.onMonthlyBulletin).toBe(true);
  const described = await sys.projects.handle(id).describe();
  expect(described.typedSearchAttributes.get(ProjectOverdueAttr)).toBe(true);
  expect(described.typedSearchAttributes.get(ProjectNextDeadlineAttr)).toBeInstanceOf(Date);
});

test('in parallel screening each department has its own clock: a pause shifts only its deadline by the paused time', async () => {
  const id = await d.create();
  await d.act(id, owner, { type: 'submit' });
  const [paused, running] = await eventually(
    () => d.openTasks(id, (t) => t.tier === 1),
    (ts) => ts.every((t) => t.deadline !== undefined),
  );
  await d.act(id, actor(paused!.assigneeOrg), {
    type: 'pauseClock',
    taskId: paused!.id,
    reason: 'SUPPLEMENT',
    note: '等待补正材料',
  });
  await new Promise((r) => setTimeout(r, 3000));
  await d.act(id, actor(paused!.assigneeOrg), { type: 'resumeClock', taskId: paused!.id });
  const live = await eventually(
    () => d.live(id),
    (l) => (l.tasks.find((t) => t.id === paused!.id)?.schedule?.version ?? 0) >= 2,
  );
  const after = live.tasks.find((t) => t.id === paused!.id)!;
  const other = live.tasks.find((t) => t.id === running!.id)!;
  expect(after.deadline!.dueAt - paused!.deadline!.dueAt).toBeGreaterThanOrEqual(3000);
  expect(other.deadline!.dueAt).toBe(running!.deadline!.dueAt);
  // The trail is the read model: it follows the workflow, so wait for the rescheduling to reach it.
  const trail = await eventually(
    () => auditTrailOf(sys.models, id),
    (t) => forTask(t, paused!.id).some((e) => e.type === 'DEADLINE_RESCHEDULED'),
    60_000,
  );
  expect(forTask(trail, paused!.id).map((e) => e.type)).toEqual(
    expect.arrayContaining(['CLOCK_PAUSED', 'CLOCK_RESUMED', 'DEADLINE_RESCHEDULED']),
  );
});

test('an extension moves the deadline and restarts the ladder from the new deadline', async () => {
  const id = await d.create();
  await d.act(id, owner, { type: 'submit' });
  const t = await d.openTask(id, (x) => x.assigneeOrg === 'ndrc');
  const escalated = await eventually(
    () => d.live(id),
    (l) => (l.tasks.find((x) => x.id === t.id)?.escalationLevel ?? 0) >= 1,
  );
  const before = escalated.tasks.find((x) => x.id === t.id)!;
  await d.act(id, actor('sg-urban', 'leader'), {
    type: 'extendDeadline',
    taskId: t.id,
    units: 20,
    reason: '需补充专家论证',
  });
  const live = await eventually(
    () => d.live(id),
    (l) => l.tasks.find((x) => x.id === t.id)?.schedule?.version === 2,
  );
  const after = live.tasks.find((x) => x.id === t.id)!;
  expect(after.deadline!.dueAt).toBe(before.deadline!.dueAt + 20_000);
  expect(after.escalationLevel).toBe(0);
  expect(after.schedule!.escalations[0]!.at).toBe(after.deadline!.dueAt + 1000);
  // A second extension is over the policy's cap of one per task.
  await expect(
    d.act(id, actor('sg-urban', 'leader'), {
      type: 'extendDeadline',
      taskId: t.id,
      units: 5,
      reason: '再次顺延',
    }),
  ).rejects.toThrow();
});

test('a green-channel (major) project gets the shorter deadline', async () => {
  const normal = await d.create();
  const major = await d.create({
    flags: {
      provincialKey: false,
      cityKey: true,
      major: true,
      emergency: false,
      governmentInvested: true,
      privatePromotion: false,
    },
  });
  for (const id of [normal, major]) await d.act(id, owner, { type: 'submit' });
  const span = async (id: string) => {
    const [t] = await eventually(
      () => d.openTasks(id),
      (ts) => ts.length > 0 && ts.every((x) => x.deadline !== undefined),
    );
    return t!.deadline!.dueAt - t!.openedAt;
  };
  expect(await span(normal)).toBe(6000);
  expect(await span(major)).toBe(3000);
});

test('a reserve project without approval progress is flagged stale and its task enters the ladder', async () => {
  const id = await d.create();
  await d.toReserve(id);
  const doc = await eventually(
    () => sys.models.Project.findById(id).lean(),
    (x) => (x?.flags as { stale?: boolean } | undefined)?.stale === true,
    60_000,
  );
  expect(doc?.stage).toBe('RESERVE');
  const trail = await eventually(
    () => auditTrailOf(sys.models, id),
    (t) => t.some((e) => e.type === 'ESCALATED' && String(e.data?.taskId).endsWith('G-STALE-1')),
    60_000,
  );
  expect(trail.some((e) => e.type === 'RESERVE_STALE')).toBe(true);
  // Approval progress clears the flag and closes the staleness task.
  const matter = await d.openTask(id, (t) => t.kind === 'APPROVAL_MATTER');
  const progressAt = Date.now();
  await d.act(id, actor(matter.assigneeOrg), {
    type: 'completeTask',
    taskId: matter.id,
    documentNumber: '环审〔2025〕1号',
    date: '2025-05-01',
  });
  const live = await d.live(id);
  const first = live.tasks.find((t) => t.key === 'G-STALE-1');
  expect(first?.status).toBe('DONE');
  expect(first?.result).toEqual({ resolvedBy: matter.id });
  const after = await eventually(
    () => auditTrailOf(sys.models, id),
    (t) => t.some((e) => e.type === 'RESERVE_PROGRESS_RESUMED'),
    60_000,
  );
  expect(after.find((e) => e.type === 'RESERVE_PROGRESS_RESUMED')?.data?.taskId).toBe(matter.id);
  // The threshold is 3 s here, so on a slow machine the project may already be stale again by now: that must be
  // a new round whose clock started at the progress, never the old flag left standing.
  if (live.flags.stale) {
    const second = live.tasks.find((t) => t.key === 'G-STALE-2');
    expect(second?.status).toBe('OPEN');
    expect(second!.openedAt).toBeGreaterThanOrEqual(progressAt + 3000);
  } else {
    expect(live.tasks.some((t) => t.key.startsWith('G-STALE') && t.status === 'OPEN')).toBe(false);
  }
});
