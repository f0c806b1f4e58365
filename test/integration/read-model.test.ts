import { createReadModelActivities } from '../../activities/read-model';
import { connectMongo, createModels } from '../../db/models';
import { auditTrailOf, inboxOf } from '../../db/queries';
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
