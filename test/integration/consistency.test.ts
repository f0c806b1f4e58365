/**
 * The consistency checker (issue 14 §1): clean on a system that did its work, and it names each difference a
 * damaged read model shows — a wrong stage, a lost inbox entry, a gap in the trail, a wrong deadline, a record
 * without its workflow, a final notification still queued.
 */
import type { Express } from 'express';
import { CREATE_PROJECT_EXAMPLE, EXAMPLES } from '../../api/schemas';
import { checkConsistency, formatDifference } from '../../client/consistency';
import { createNotificationModels } from '../../db/notification-models';
import { trailChunkId } from '../../db/models';
import { startTestSystem, type TestSystem } from '../support/harness';
import { testApp } from '../support/api';
import { httpAs } from '../support/http';

let sys: TestSystem;
let app: Express;
const http = httpAs(() => app);

beforeAll(async () => {
  sys = await startTestSystem();
  app = testApp(sys);
});
afterAll(async () => {
  await sys?.close();
});

const check = () =>
  checkConsistency({
    client: sys.client,
    models: sys.models,
    notifications: createNotificationModels(sys.mongo),
    taskQueue: sys.taskQueue,
  });

test('a system that did its work is consistent; each kind of damage is named', async () => {
  const ids: string[] = [];
  for (const name of ['一致性检查项目甲', '一致性检查项目乙']) {
    const created = await http.call('post', 'yaodu/applicant', '/projects', {
      ...CREATE_PROJECT_EXAMPLE,
      name,
    });
    ids.push(created.body.projectId as string);
  }
  const [a, b] = ids as [string, string];
  expect((await http.call('post', 'yaodu/applicant', `/projects/${a}/submit`, {})).status).toBe(200);
  expect(
    (await http.call('post', 'ndrc/reviewer', `/tasks/${a}~R1-T1-ndrc/decision`, EXAMPLES.decision)).status,
  ).toBe(200);

  const clean = await check();
  expect(clean.differences.map(formatDifference)).toEqual([]);
  expect(clean.projects).toBe(2);

  // Damage the read model as a lost or half-applied write would.
  await sys.models.Project.updateOne({ _id: b }, { $set: { stage: 'RESERVE' } });
  await sys.models.inboxOf('finance').deleteOne({ _id: `${a}~R1-T1-finance` });
  await sys.models
    .inboxOf('housing')
    .updateOne({ _id: `${a}~R1-T1-housing` }, { $set: { escalationLevel: 2 } });
  await sys.models.TrailChunk.updateOne({ _id: trailChunkId(a, 0) }, { $unset: { 'events.3': '' } });
  await sys.models.Project.create({ ...(await sys.models.Project.findById(b).lean())!, _id: 'Pghost' });
  const notifications = createNotificationModels(sys.mongo);

  const damaged = (await check()).differences.map(formatDifference);
  expect(damaged).toEqual(
    expect.arrayContaining([
      expect.stringMatching(new RegExp(`^${b}: stage: workflow="DRAFT" readModel="RESERVE"`)),
      expect.stringMatching(new RegExp(`^${a}: inbox entry for ${a}~R1-T1-finance \\(finance\\) missing`)),
      expect.stringMatching(
        new RegExp(`^${a}: inbox escalation level of ${a}~R1-T1-housing: workflow=0 readModel=2`),
      ),
      expect.stringMatching(new RegExp(`^${a}: trail entries missing \\(seq\\): workflow=\\[3\\]`)),
      'Pghost: read-model record without a workflow',
    ]),
  );
  expect(damaged).toHaveLength(5);
  // A notification recorded final and queued again would be sent twice: named too. (The worker is stopped so
  // that no dispatcher acts on this hand-made pair.)
  await sys.stopWorker();
  await notifications.Notification.collection.insertOne({ _id: 'N-twice', status: 'DELIVERED' } as never);
  await notifications.NotificationOutbox.collection.insertOne({ _id: 'N-twice', status: 'PENDING' } as never);
  expect((await check()).differences.map(formatDifference)).toContainEqual(
    '(notifications): notification N-twice is final (DELIVERED) and still in the outbox',
  );
});
