import { randomUUID } from 'node:crypto';
import mongoose from 'mongoose';
import { stackEnv } from '../support/harness';

/**
 * The local stack runs tools/ferretdb-id-index beside FerretDB, so a lookup by `_id` searches an index instead
 * of scanning the collection (FerretDB 1.24 on SQLite never uses its own `_id` index). FerretDB's `explain`
 * returns SQLite's query plan, which names the index it uses.
 */
describe('FerretDB `_id` lookups in the local stack', () => {
  let connection: mongoose.Connection;

  beforeAll(async () => {
    connection = await mongoose
      .createConnection(`${stackEnv().mongoBase}/id_index_${randomUUID().slice(0, 8)}`)
      .asPromise();
  });

  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  async function planOf(collection: string, id: string): Promise<string> {
    // A real lookup first: SQLite reloads a changed schema when a connection next reads, not for `explain`.
    await connection.db!.collection(collection).findOne({ _id: id } as never);
    const explained = (await connection
      .db!.collection(collection)
      .find({ _id: id } as never)
      .explain()) as {
      queryPlanner?: { Plan?: string[] };
    };
    return (explained.queryPlanner?.Plan ?? []).join('\n');
  }

  async function eventuallyIndexed(collection: string, id: string): Promise<string> {
    const until = Date.now() + 20_000;
    let plan = await planOf(collection, id);
    while (!plan.includes('USING INDEX') && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
      plan = await planOf(collection, id);
    }
    return plan;
  }

  it('searches an index for a collection created after the stack started, and finds the same documents', async () => {
    const tasks = connection.db!.collection<{ _id: string; n: number }>('tasks_created_late');
    await tasks.insertMany(Array.from({ length: 200 }, (_, n) => ({ _id: `task-${n}`, n })));

    const plan = await eventuallyIndexed('tasks_created_late', 'task-123');
    expect(plan).toMatch(/SEARCH \S+ USING INDEX \S+_pp_id_lookup/);
    expect(plan).not.toMatch(/\bSCAN\b/);

    // The index changes how documents are found, never which: lookups, updates, deletes and the unique `_id`.
    expect(await tasks.findOne({ _id: 'task-123' })).toEqual({ _id: 'task-123', n: 123 });
    await tasks.updateOne({ _id: 'task-7' }, { $set: { n: -7 } });
    expect(await tasks.findOne({ _id: 'task-7' })).toEqual({ _id: 'task-7', n: -7 });
    await tasks.deleteOne({ _id: 'task-8' });
    expect(await tasks.findOne({ _id: 'task-8' })).toBeNull();
    await expect(tasks.insertOne({ _id: 'task-9', n: 0 })).rejects.toMatchObject({ code: 11000 });
    expect(await tasks.countDocuments()).toBe(199);
  });
});
