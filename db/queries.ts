import {
  INBOX_COLLECTION_PREFIX,
  trailChunkId,
  trailChunkOf,
  type EventLogDoc,
  type InboxEntryDoc,
  type Models,
} from './models';

/** An inbox entry as the API lists it: the stored entry, named by its task id. */
export type InboxItem = Omit<InboxEntryDoc, '_id'> & { taskId: string };

/** One organisation's open tasks, earliest deadline first (tasks without a deadline last): its own collection. */
export async function inboxOf(models: Models, org: string): Promise<InboxItem[]> {
  const docs = await models.inboxOf(org).find({}).lean();
  const items: InboxItem[] = docs.map(({ _id, ...entry }) => ({ taskId: _id, ...entry }));
  const due = (i: InboxItem) => (i.dueAt ? new Date(i.dueAt).getTime() : Number.MAX_SAFE_INTEGER);
  return items.sort(
    (a, b) => due(a) - due(b) || new Date(a.openedAt).getTime() - new Date(b.openedAt).getTime(),
  );
}

/** One entry of a project's audit trail, as stored in its event log. */
export type AuditEvent = EventLogDoc['events'][string];

/** The organisations that have an inbox collection (one was written to at least once). */
export async function inboxOrgs(models: Models): Promise<string[]> {
  const db = models.Project.db.db;
  if (!db) throw new Error('Mongo connection not open');
  const cols = await db.listCollections({}, { nameOnly: true }).toArray();
  return cols
    .map((c) => c.name)
    .filter((name) => name.startsWith(INBOX_COLLECTION_PREFIX))
    .map((name) => name.slice(INBOX_COLLECTION_PREFIX.length))
    .sort();
}

/** Every organisation's inbox entries with their organisation: for checkers and benchmarks, never a request. */
export async function allInboxEntries(models: Models): Promise<(InboxEntryDoc & { org: string })[]> {
  const perOrg = await Promise.all(
    (await inboxOrgs(models)).map(async (org) =>
      (await models.inboxOf(org).find({}).lean()).map((e) => ({ ...e, org })),
    ),
  );
  return perOrg.flat();
}

/** How many trail chunks a reader asks for at once. */
const CHUNKS_PER_READ = 4;

/**
 * One project's (or blocker's) audit trail in order: the document release 1.1 wrote, if any, and the chunks after
 * it, by `_id`, a few side by side. A trail's writes land in seq order, so its first absent chunk ends it.
 */
export async function auditTrailOf(models: Models, trailId: string): Promise<AuditEvent[]> {
  const chunksFrom = (first: number) =>
    Promise.all(
      Array.from({ length: CHUNKS_PER_READ }, (_, i) =>
        models.TrailChunk.findById(trailChunkId(trailId, first + i)).lean(),
      ),
    );
  const [legacy, firstChunks] = await Promise.all([models.EventLog.findById(trailId).lean(), chunksFrom(0)]);
  const bySeq = new Map<number, AuditEvent>();
  for (const e of Object.values(legacy?.events ?? {})) bySeq.set(e.seq, e);
  // Chunks a 1.1 trail document already covers were never written: the chunks start with the one after its end.
  const start = trailChunkOf(Math.max(0, ...bySeq.keys()) + 1);
  let first = 0;
  let chunks = firstChunks;
  for (;;) {
    let ended = false;
    for (const [i, chunk] of chunks.entries()) {
      if (first + i < start) continue;
      if (!chunk) {
        ended = true;
        break;
      }
      for (const e of Object.values(chunk.events ?? {})) bySeq.set(e.seq, e);
    }
    if (ended) break;
    first = Math.max(first + CHUNKS_PER_READ, start);
    chunks = await chunksFrom(first);
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}
