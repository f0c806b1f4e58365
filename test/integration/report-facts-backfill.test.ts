import mongoose from 'mongoose';
import { createReadModelActivities } from '../../activities/read-model';
import { connectMongo, createModels, type Models } from '../../db/models';
import { backfillReportFacts } from '../../db/read-model-setup';
import { createInitialState } from '../../domain/lifecycle';
import { snapshotOf } from '../../domain/state';
import { parseReportFacts, REPORT_FACTS_VERSION } from '../../domain/supervision';
import { loadPolicy } from '../../policy/load';
import { actor, projectDetails } from '../support/fixtures';
import { stackEnv } from '../support/harness';
import { MongoFaultProxy } from '../support/mongo-fault-proxy';

let mongo: mongoose.Connection;
/** The test's database, reached directly. */
let models: Models;
/** The same database through the fault proxy. */
let proxied: Models;
let proxiedConnection: mongoose.Connection;
let proxy: MongoFaultProxy;

beforeAll(async () => {
  const db = `factsbackfill${Date.now()}`;
  mongo = await connectMongo(`${stackEnv().mongoBase}/${db}`);
  models = createModels(mongo);
  const ferret = new URL(stackEnv().mongoBase);
  proxy = new MongoFaultProxy({ host: ferret.hostname, port: Number(ferret.port) });
  proxiedConnection = await connectMongo(`mongodb://127.0.0.1:${await proxy.listen()}/${db}`);
  proxied = createModels(proxiedConnection);
});

afterAll(async () => {
  await proxiedConnection?.close(true);
  await proxy?.close();
  await mongo?.dropDatabase();
  await mongo?.close();
});

/** Syncs of one project's read model, as its workflow sends them, with the project named `name` at `seq`. */
function projectSyncs(projectId: string) {
  const readModel = createReadModelActivities({ models });
  const state = createInitialState(
    projectId,
    projectDetails(),
    loadPolicy(),
    actor('yaodu', 'applicant'),
    Date.now(),
  );
  return (seq: number, name: string) => {
    const snapshot = snapshotOf(state);
    return readModel.syncReadModel({
      projectId,
      seq,
      snapshot: { ...snapshot, details: { ...snapshot.details, name } },
      events: [],
      tasks: [],
    });
  };
}

async function factsOf(projectId: string) {
  const doc = await models.ProjectFacts.findById(projectId).lean();
  return doc && { seq: doc.seq, v: doc.v, name: (parseReportFacts(doc).details as { name: string }).name };
}

test('a backfill after a facts version bump keeps newer facts a sync wrote while it was computing older ones', async () => {
  // Arrange: facts of an older shape, as a release before the version bump wrote them
  const sync = projectSyncs('backfill-race');
  await sync(1, '第一版名称');
  await models.ProjectFacts.updateOne({ _id: 'backfill-race' }, { $set: { v: REPORT_FACTS_VERSION - 1 } });

  // Act: the backfill's write of the facts it derived from seq 1 is held on the network while a transition's
  // sync writes the facts and record of seq 2
  const held = proxy.hold([
    ['update', 'projectFacts'],
    ['findAndModify', 'projectFacts'],
  ]);
  const backfill = backfillReportFacts(proxied);
  await held;
  await sync(2, '第二版名称');
  proxy.release();
  await backfill;

  // Assert
  expect(await factsOf('backfill-race')).toEqual({ seq: 2, v: REPORT_FACTS_VERSION, name: '第二版名称' });
  expect((await models.Project.findById('backfill-race').lean())?.seq).toBe(2);
});

test('a backfill writes missing facts and facts of an older shape, and leaves current ones alone', async () => {
  // Arrange
  await models.Project.deleteMany({});
  await models.ProjectFacts.deleteMany({});
  const missing = projectSyncs('backfill-missing');
  const outdated = projectSyncs('backfill-outdated');
  const current = projectSyncs('backfill-current');
  await missing(3, '缺少事实');
  await outdated(4, '旧版事实');
  await current(5, '当前事实');
  await models.ProjectFacts.deleteOne({ _id: 'backfill-missing' });
  await models.ProjectFacts.updateOne(
    { _id: 'backfill-outdated' },
    { $set: { v: REPORT_FACTS_VERSION - 1, facts: '{}' } },
  );

  // Act
  const written = await backfillReportFacts(models);

  // Assert
  expect(written).toBe(2);
  expect(await factsOf('backfill-missing')).toEqual({ seq: 3, v: REPORT_FACTS_VERSION, name: '缺少事实' });
  expect(await factsOf('backfill-outdated')).toEqual({ seq: 4, v: REPORT_FACTS_VERSION, name: '旧版事实' });
  expect(await factsOf('backfill-current')).toEqual({ seq: 5, v: REPORT_FACTS_VERSION, name: '当前事实' });
  expect(await backfillReportFacts(models)).toBe(0);
});
