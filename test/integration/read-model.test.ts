import { createReadModelActivities } from '../../activities/read-model';
import { connectMongo, createModels } from '../../db/models';
import { auditTrailOf, inboxOf } from '../../db/queries';
import { prepareReadModel } from '../../db/read-model-setup';
import { createInitialState } from '../../domain/lifecycle';
import { snapshotOf, type ProjectEvent, type Task } from '../../domain/state';
import { loadPolicy } from '../../policy/load';
import { actor, projectDetails } from '../support/fixtures';
import { stackEnv } from '../support/harness';

test('concurrent syncs from many projects keep every task in a shared organisation inbox (no lost update)', async () => {
  const mongo = await connectMongo(`${stackEnv().mongoBase}/readmodel${Date.now()}`);
  try {
    const models = createModels(mongo);
    const readModel = createReadModelActivities({ models });
    const policy = loadPolicy();
    const syncs = Array.from({ length: 60 }, (_, i) => {
      const s = createInitialState(
        `rm${i}`,
        projectDetails(),
        policy,
        actor('yaodu', 'applicant'),
        Date.now(),
      );
      const task: Task = {
        id: `rm${i}~R1-T1-ndrc`,
        key: 'R1-T1-ndrc',
        kind: 'REVIEW',
        title: '部门初审',
        stage: 'DEPT_SCREENING',
        tier: 1,
        round: 1,
        assigneeOrg: 'ndrc',
        status: 'OPEN',
        openedAt: Date.now(),
        escalationLevel: 0,
        remindersSent: 0,
      };
      s.tasks.push(task);
      return {
        projectId: s.projectId,
        seq: s.seq,
        snapshot: snapshotOf(s),
        events: s.outbox.events,
        tasks: [task],
      };
    });
    await Promise.all(syncs.map((x) => readModel.syncReadModel(x)));
    expect((await inboxOf(models, 'ndrc')).map((t) => t.taskId).sort()).toEqual(
      syncs.map((x) => x.tasks[0]!.id).sort(),
    );

    // A retried sync (same transition) duplicates nothing and loses nothing.
    await Promise.all(syncs.slice(0, 10).map((x) => readModel.syncReadModel(x)));
    expect(await inboxOf(models, 'ndrc')).toHaveLength(60);
    const trails = await Promise.all(syncs.map((x) => auditTrailOf(models, x.projectId)));
    expect(trails.map((t) => t.length)).toEqual(syncs.map((x) => x.events.length));
    expect(trails.flat()).toHaveLength(60);
  } finally {
    await mongo.dropDatabase();
    await mongo.close();
  }
});

test('a task leaves its inbox when it closes or is handed to another unit, and earlier releases’ inboxes move to each organisation’s own', async () => {
  const mongo = await connectMongo(`${stackEnv().mongoBase}/readmodelinbox${Date.now()}`);
  try {
    const models = createModels(mongo);
    const readModel = createReadModelActivities({ models });
    const s = createInitialState(
      'rmx',
      projectDetails(),
      loadPolicy(),
      actor('yaodu', 'applicant'),
      Date.now(),
    );
    const task: Task = {
      id: 'rmx~R1-T1-finance',
      key: 'R1-T1-finance',
      kind: 'REVIEW',
      title: '部门初审',
      stage: 'DEPT_SCREENING',
      tier: 1,
      round: 1,
      assigneeOrg: 'finance',
      status: 'OPEN',
      openedAt: Date.now(),
      escalationLevel: 0,
      remindersSent: 0,
    };
    const sync = (t: Task, seq: number) =>
      readModel.syncReadModel({ projectId: 'rmx', seq, snapshot: snapshotOf(s), events: [], tasks: [t] });
    await sync(task, 1);
    expect((await inboxOf(models, 'finance')).map((i) => [i.taskId, i.escalationLevel])).toEqual([
      [task.id, 0],
    ]);
    await sync({ ...task, escalationLevel: 2 }, 2);
    expect((await inboxOf(models, 'finance')).map((i) => [i.taskId, i.escalationLevel])).toEqual([
      [task.id, 2],
    ]);
    // Handed to another unit (a revision's new 责任单位): it leaves the old unit's inbox for the new one's.
    const handedOver = { ...task, assigneeOrg: 'housing', escalationLevel: 2 };
    await sync(handedOver, 3);
    expect(await inboxOf(models, 'finance')).toEqual([]);
    expect((await inboxOf(models, 'housing')).map((i) => i.taskId)).toEqual([task.id]);
    // A write retried after a worker died between listing it anew and removing the old entry still removes it.
    await models.inboxOf('finance').collection.insertOne({ _id: task.id, projectId: 'rmx' } as never);
    await models.Task.updateOne({ _id: task.id }, { $addToSet: { listedIn: 'finance' } });
    await sync(handedOver, 3);
    expect(await inboxOf(models, 'finance')).toEqual([]);
    await sync({ ...handedOver, status: 'DONE' }, 4);
    expect(await inboxOf(models, 'housing')).toEqual([]);
    expect((await models.Task.findById(task.id).lean())?.listedIn).toEqual(['housing']);

    // The old layouts: one document per organisation (before 0.5), then one collection of every organisation's
    // entries (0.5–1.1). Open tasks move to their organisation's inbox; a task closed since does not come back; a
    // newer layout's entry wins over an older copy, and one already written by this release stays as it is.
    const entry = (taskId: string, title: string) => ({
      taskId,
      projectId: 'old',
      projectName: '旧项目',
      kind: 'REVIEW',
      title,
      stage: 'DEPT_SCREENING',
      tier: 1,
      dueAt: new Date('2026-12-01T02:00:00Z'),
      escalationLevel: 1,
      openedAt: new Date('2026-11-20T02:00:00Z'),
    });
    await models.Inbox.collection.insertOne({
      _id: 'housing',
      open: {
        'old~a': entry('old~a', 'still open'),
        'old~b': entry('old~b', 'closed since'),
        'old~c': entry('old~c', 'legacy copy'),
      },
    } as never);
    await models.Task.collection.insertOne({ _id: 'old~b', projectId: 'old', status: 'DONE' } as never);
    await models.InboxItem.collection.insertOne({
      ...entry('old~c', 'written by 0.5'),
      _id: 'old~c',
      org: 'housing',
      escalationLevel: 3,
    } as never);

    await models.InboxItem.collection.insertOne({
      ...entry('old~d', 'written by 1.1'),
      _id: 'old~d',
      org: 'housing',
    } as never);
    await models.InboxItem.collection.insertOne({
      ...entry('old~e', 'written by 1.1'),
      _id: 'old~e',
      org: 'housing',
    } as never);
    await models.inboxOf('housing').collection.insertOne({
      ...entry('old~e', 'written by 1.2'),
      _id: 'old~e',
      escalationLevel: 2,
    } as never);

    expect(await prepareReadModel(models)).toMatchObject({ migratedInboxItems: 3 });
    const inbox = await inboxOf(models, 'housing');
    expect(inbox.map((i) => [i.taskId, i.title, i.escalationLevel]).sort()).toEqual([
      ['old~a', 'still open', 1],
      ['old~c', 'written by 0.5', 3],
      ['old~d', 'written by 1.1', 1],
      ['old~e', 'written by 1.2', 2],
    ]);
    expect(await models.InboxItem.countDocuments()).toBe(0);
    expect(await inboxOf(models, 'finance')).toEqual([]);
    expect(inbox.find((i) => i.taskId === 'old~a')).toMatchObject({
      projectName: '旧项目',
      dueAt: new Date('2026-12-01T02:00:00Z'),
    });
    expect(await models.Inbox.countDocuments()).toBe(0);
    expect(await prepareReadModel(models)).toMatchObject({ migratedInboxItems: 0 });
  } finally {
    await mongo.dropDatabase();
    await mongo.close();
  }
});

test('a long trail is read back whole and in order from its chunks, after the one document release 1.1 wrote', async () => {
  const mongo = await connectMongo(`${stackEnv().mongoBase}/readmodeltrail${Date.now()}`);
  try {
    const models = createModels(mongo);
    const readModel = createReadModelActivities({ models });
    const s = createInitialState(
      'rmt',
      projectDetails(),
      loadPolicy(),
      actor('yaodu', 'applicant'),
      Date.now(),
    );
    const event = (seq: number): ProjectEvent => ({
      seq,
      type: 'NOTE',
      at: Date.parse('2026-12-01T02:00:00Z') + seq * 1000,
      stageBefore: 'RESERVE',
      stageAfter: 'RESERVE',
      data: { n: seq },
    });
    const range = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => event(from + i));
    // Release 1.1 kept entries 1–21 in one document; this release writes on from 22, a wakeup at a time, across
    // more chunks than a reader asks for at once.
    await models.EventLog.collection.insertOne({
      _id: 'rmt',
      events: Object.fromEntries(
        range(1, 21).map((e) => [e.seq, { ...e, at: new Date(e.at), projectId: 'rmt' }]),
      ),
    } as never);
    const sync = (seq: number, events: ProjectEvent[]) =>
      readModel.syncReadModel({ projectId: 'rmt', seq, snapshot: snapshotOf(s), events, tasks: [] });
    for (let seq = 22; seq <= 130; seq += 9)
      await sync(Math.min(seq + 8, 130), range(seq, Math.min(seq + 8, 130)));
    const trail = await auditTrailOf(models, 'rmt');
    expect(trail.map((e) => e.seq)).toEqual(range(1, 130).map((e) => e.seq));
    expect(trail[99]).toMatchObject({ type: 'NOTE', data: { n: 100 }, transitionId: 'rmt:100' });
    // A retried wakeup rewrites the same entries: nothing repeated.
    await sync(130, range(122, 130));
    expect((await auditTrailOf(models, 'rmt')).length).toBe(130);
    // A trail never written is empty, not an error.
    expect(await auditTrailOf(models, 'nothing')).toEqual([]);
  } finally {
    await mongo.dropDatabase();
    await mongo.close();
  }
});
