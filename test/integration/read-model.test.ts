import { createReadModelActivities } from '../../activities/read-model';
import { connectMongo, createModels } from '../../db/models';
import { auditTrailOf, inboxOf } from '../../db/queries';
import { prepareReadModel } from '../../db/read-model-setup';
import { createInitialState } from '../../domain/lifecycle';
import { snapshotOf, type Task } from '../../domain/state';
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

test('a task leaves its inbox when it closes, and an inbox from before release 0.5 moves to one entry per task', async () => {
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
    await sync({ ...task, status: 'DONE' }, 3);
    expect(await inboxOf(models, 'finance')).toEqual([]);

    // The old layout: one document per organisation. Open tasks move; a task closed since does not come back;
    // an entry already written by this release is newer and stays as it is.
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

    expect(await prepareReadModel(models)).toMatchObject({ migratedInboxItems: 1 });
    const inbox = await inboxOf(models, 'housing');
    expect(inbox.map((i) => [i.taskId, i.title, i.escalationLevel]).sort()).toEqual([
      ['old~a', 'still open', 1],
      ['old~c', 'written by 0.5', 3],
    ]);
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
