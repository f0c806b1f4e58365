import { Context } from '@temporalio/activity';
import type { NotificationChannelRef, NotificationDoc, NotificationModels } from '../db/notification-models';
import { isDuplicateKey } from '../db/errors';
import type { DeliveryRetryOptions } from '../notifications/contract';
import { DeliveryError } from '../notifications/senders';

/** How the dispatcher paces itself; every field has a default (see DEFAULT_DISPATCH). */
export interface DispatchOptions {
  /** Sends in flight at once, over all channels. */
  concurrency: number;
  /** Sends in flight at once to one channel: a slow receiver never takes the whole dispatcher. */
  perChannel: number;
  /**
   * How often the outbox is read for notifications this process was not handed (other workers, a restart).
   * A read that finds nothing new doubles the wait, up to `maxScanIntervalMs`: during a burst this process is
   * handed what it enqueues, and reading thousands of waiting documents every 2 s costs FerretDB more than
   * delivering them.
   */
  scanIntervalMs: number;
  maxScanIntervalMs: number;
  /** Results are written in batches: at most this many, or after this long. */
  recordBatch: number;
  recordEveryMs: number;
  /** One dispatcher activity runs this long, then returns and the workflow schedules the next. */
  runForMs: number;
}

export const DEFAULT_DISPATCH: DispatchOptions = {
  concurrency: 64,
  perChannel: 8,
  scanIntervalMs: 2_000,
  maxScanIntervalMs: 16_000,
  recordBatch: 200,
  recordEveryMs: 100,
  // A new run starts with an empty queue and reads the whole outbox: hand over rarely.
  runForMs: 30 * 60_000,
};

/** What a channel's sender needs; the same function the delivery workflows' activities use. */
export type SendFn = (doc: NotificationDoc, channel: NotificationChannelRef) => Promise<void>;

export interface ChannelHealthRecorder {
  /** A success after failures (or the first this process sees): written once, not on every send. */
  healthy(channel: NotificationChannelRef, org: string | null): Promise<void>;
  failed(channel: NotificationChannelRef, org: string | null, reason: string): Promise<void>;
}

export interface DispatchStats {
  sent: number;
  /** Found in the outbox though already recorded final (a process died between the two writes): not sent again. */
  alreadyFinal: number;
  failed: number;
  retried: number;
  scans: number;
}

interface Queued {
  doc: NotificationDoc;
  dueAt: number;
  /** Found by reading the outbox rather than handed over or retried here: checked against final records first. */
  scanned: boolean;
}

/** Ids of notifications this process recorded final lately, so a stale outbox read never sends them again. */
const RECENTLY_FINAL_LIMIT = 100_000;
/** How long a run waits before writing its results again after a failed write: doubling, up to the maximum. */
const RECORD_RETRY_FIRST_MS = 200;
const RECORD_RETRY_MAX_MS = 5_000;

/**
 * Delivers the notification outbox from one long-running activity (see workflows/notification-dispatcher.ts):
 * notifications handed over in this process start at once, the rest are found by a periodic read of the outbox.
 * At least once: a notification leaves the outbox only after it was sent (or given up), so a worker killed
 * mid-send sends it again on the next dispatcher; receivers drop repeats by `X-Notification-Id`.
 */
export class OutboxDispatcher {
  /** Waiting notifications by channel, each in the order they arrived. */
  private readonly queue = new Map<string, Map<string, Queued>>();
  private readonly inFlight = new Set<string>();
  private readonly perChannel = new Map<string, number>();
  private readonly recentlyFinal = new Set<string>();
  /** Attempts made whose result is not written yet: the outbox still shows them as they were before. */
  private readonly unrecorded = new Set<string>();
  private finals: NotificationDoc[] = [];
  /** Outbox documents of notifications already recorded final elsewhere: only their deletion is left. */
  private settled: string[] = [];
  private retries: NotificationDoc[] = [];
  private wake: (() => void) | undefined;
  private active = false;
  private finishing: Promise<void> | undefined;

  constructor(
    private readonly models: NotificationModels,
    private readonly send: SendFn,
    private readonly health: ChannelHealthRecorder,
    private readonly retry: DeliveryRetryOptions,
    private readonly options: DispatchOptions,
    private readonly orgOf: (doc: NotificationDoc) => string | null,
  ) {}

  /** True while a dispatcher activity runs in this process; enqueueing hands it new notifications then. */
  get running(): boolean {
    return this.active;
  }

  /** Notifications just put in the outbox by this process: delivered without waiting for the next read. */
  offer(docs: NotificationDoc[]): void {
    if (!this.active) return;
    for (const doc of docs) this.take(doc);
    this.wake?.();
  }

  /**
   * Delivers until `stopAt` or until `signal` aborts, then lets the sends in flight finish and records them.
   * `beat` is called about once a second (the activity's heartbeat). `cancelled` (the activity cancelled, or its
   * heartbeat lost) is the only thing that ends the recording of results before they are written.
   */
  async run(
    stopAt: number,
    signal: AbortSignal,
    beat: () => void,
    cancelled: AbortSignal,
  ): Promise<DispatchStats> {
    // The heartbeat says this process is alive; it never waits for Mongo, a receiver or an earlier run.
    beat();
    const beating = setInterval(beat, 1_000);
    // A run Temporal gave up on (its heartbeat lost) may still be finishing here: let it end first.
    while (this.finishing) await this.finishing;
    let finished!: () => void;
    this.finishing = new Promise<void>((resolve) => (finished = resolve));
    const stats: DispatchStats = { sent: 0, alreadyFinal: 0, failed: 0, retried: 0, scans: 0 };
    const sends = new Set<Promise<void>>();
    let scanning: Promise<void> | undefined;
    let recording: Promise<void> | undefined;
    let nextScan = 0;
    let scanEvery = this.options.scanIntervalMs;
    const maxScanEvery = Math.max(this.options.scanIntervalMs, this.options.maxScanIntervalMs);
    let nextRecord = Date.now() + this.options.recordEveryMs;
    try {
      // Results an earlier run here could not write (it was cancelled while Mongo was away) are of sends that
      // happened: they are written before anything is read or sent. Their retries are not queued from memory:
      // the next outbox read finds them as stored (another worker may have delivered them meanwhile).
      if (!(await this.recordAll(cancelled))) return stats;
      this.active = true;
      while (!signal.aborted && Date.now() < stopAt) {
        // Reading the outbox and writing results run beside the sends, one of each at a time.
        if (!scanning && Date.now() >= nextScan) {
          stats.scans++;
          scanning = this.scan()
            .then((found) => {
              scanEvery = found > 0 ? this.options.scanIntervalMs : Math.min(scanEvery * 2, maxScanEvery);
            })
            .catch((err: unknown) => warn('reading the notification outbox failed; trying again', err))
            .finally(() => {
              scanning = undefined;
              nextScan = Date.now() + scanEvery;
              this.wake?.();
            });
        }
        if (
          !recording &&
          this.pendingRecords() > 0 &&
          (this.pendingRecords() >= this.options.recordBatch || Date.now() >= nextRecord)
        ) {
          recording = this.record()
            .catch((err: unknown) => warn('recording notification results failed; trying again', err))
            .finally(() => {
              recording = undefined;
              nextRecord = Date.now() + this.options.recordEveryMs;
              this.wake?.();
            });
        }
        const { picked, nextDueAt } = this.due(Date.now());
        for (const q of picked) {
          const p = this.deliver(q, stats).finally(() => sends.delete(p));
          sends.add(p);
        }
        // A scan or a record in progress wakes the loop when it ends: its instant does not count meanwhile.
        await this.sleep(
          this.nextWakeIn(scanning ? Infinity : nextScan, recording ? Infinity : nextRecord, nextDueAt),
          signal,
        );
      }
      await Promise.all([...sends, scanning, recording]);
      // Until its results are written this run stays (heartbeating), so no other run sends them again; only
      // when it is cancelled do they stay with this process's dispatcher for its next run.
      await this.recordAll(cancelled);
      return stats;
    } finally {
      clearInterval(beating);
      this.active = false;
      this.wake = undefined;
      // What is left is still in the outbox: the next dispatcher reads it again.
      this.queue.clear();
      this.finishing = undefined;
      finished();
    }
  }

  /** Queues a document for its channel; false when it is not this dispatcher's to send now. */
  private take(doc: NotificationDoc, scanned = false): boolean {
    // A document a delivery workflow owns is that workflow's (the dispatcher's own carry no workflowId).
    if (doc.workflowId || !doc.channel) return false;
    if (this.inFlight.has(doc._id) || this.recentlyFinal.has(doc._id) || this.unrecorded.has(doc._id))
      return false;
    let channel = this.queue.get(doc.channel.key);
    if (!channel) this.queue.set(doc.channel.key, (channel = new Map<string, Queued>()));
    const known = channel.get(doc._id);
    const dueAt = doc.nextAttemptAt ? new Date(doc.nextAttemptAt).getTime() : 0;
    if (!known || known.dueAt < dueAt)
      channel.set(doc._id, { doc, dueAt, scanned: known?.scanned ?? scanned });
    return !known;
  }

  /** Reads the outbox and queues what this process does not know yet; returns how many it queued. */
  private async scan(): Promise<number> {
    // The outbox holds only notifications in flight; FerretDB scans it whatever the filter, so keep it simple.
    const docs = await this.models.NotificationOutbox.find({ workflowId: null }).lean();
    const known = new Set<string>();
    for (const channel of this.queue.values()) for (const id of channel.keys()) known.add(id);
    let found = 0;
    for (const doc of docs) if (!known.has(doc._id) && this.take(doc, true)) found++;
    return found;
  }

  /**
   * Due notifications that fit the concurrency limits, each channel's in the order they arrived; and the
   * earliest instant a waiting one falls due.
   */
  private due(now: number): { picked: Queued[]; nextDueAt: number } {
    const picked: Queued[] = [];
    let nextDueAt = Infinity;
    for (const [key, channel] of this.queue) {
      let busy = this.perChannel.get(key) ?? 0;
      for (const q of channel.values()) {
        if (q.dueAt > now) {
          nextDueAt = Math.min(nextDueAt, q.dueAt);
          continue;
        }
        if (busy >= this.options.perChannel || this.inFlight.size >= this.options.concurrency) break;
        busy++;
        channel.delete(q.doc._id);
        this.inFlight.add(q.doc._id);
        picked.push(q);
      }
      this.perChannel.set(key, busy);
      if (channel.size === 0) this.queue.delete(key);
    }
    return { picked, nextDueAt };
  }

  private async deliver({ doc, scanned }: Queued, stats: DispatchStats): Promise<void> {
    const channel = doc.channel!;
    const attempts = doc.attempts + 1;
    const org = this.orgOf(doc);
    let health: (() => Promise<void>) | undefined;
    try {
      // A process that died between writing a final record and deleting its outbox document leaves both: the
      // receiver already has it. (One read by _id, only for what an outbox read found; if it fails, send.)
      if (scanned && (await this.models.Notification.exists({ _id: doc._id }).catch(() => null))) {
        this.settled.push(doc._id);
        stats.alreadyFinal++;
      } else {
        health = await this.attempt(doc, channel, attempts, org, stats);
      }
    } finally {
      // In the same turn as the result was queued: a record() that runs meanwhile must find this send out of
      // flight, or it cannot queue the retry again and the notification would wait in the outbox for ever (the
      // fault matrix found that with a receiver down, when the health write below came first).
      this.unrecorded.add(doc._id);
      this.inFlight.delete(doc._id);
      const key = channel.key;
      this.perChannel.set(key, (this.perChannel.get(key) ?? 1) - 1);
      this.wake?.();
    }
    await health?.().catch(() => undefined);
  }

  /**
   * Sends once and queues the result (a final record, or the retry); returns the channel health write to make once
   * the send is out of flight.
   */
  private async attempt(
    doc: NotificationDoc,
    channel: NotificationChannelRef,
    attempts: number,
    org: string | null,
    stats: DispatchStats,
  ): Promise<() => Promise<void>> {
    try {
      await this.send(doc, channel);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const next = this.afterFailure(doc, attempts, reason, err instanceof DeliveryError && err.permanent);
      if (next.status === 'FAILED') {
        this.finals.push(next);
        stats.failed++;
      } else {
        this.retries.push(next);
        stats.retried++;
      }
      return () => this.health.failed(channel, org, reason);
    }
    const now = new Date();
    this.finals.push({
      ...doc,
      status: 'SENT',
      attempts,
      sentAt: now,
      lastAttemptAt: now,
      lastError: null,
      nextAttemptAt: null,
      updatedAt: now,
    });
    stats.sent++;
    return () => this.health.healthy(channel, org);
  }

  /** The outbox document after a failed attempt: retried after a backoff, or given up (FAILED). */
  private afterFailure(
    doc: NotificationDoc,
    attempts: number,
    reason: string,
    permanent: boolean,
  ): NotificationDoc {
    const now = Date.now();
    const wait = Math.min(
      this.retry.initialIntervalMs * this.retry.backoffCoefficient ** (attempts - 1),
      this.retry.maximumIntervalMs,
    );
    const givenUp = permanent || now + wait - new Date(doc.createdAt).getTime() > this.retry.giveUpAfterMs;
    return {
      ...doc,
      status: givenUp ? 'FAILED' : 'RETRYING',
      attempts,
      lastError: reason,
      lastAttemptAt: new Date(now),
      nextAttemptAt: givenUp ? null : new Date(now + wait),
      updatedAt: new Date(now),
    };
  }

  private pendingRecords(): number {
    return this.finals.length + this.retries.length + this.settled.length;
  }

  /**
   * Writes every pending result (retries are not queued again), trying again with backoff while Mongo is away;
   * the heartbeat goes on meanwhile. False when `cancelled` aborted first: what is left stays pending, for this
   * process's next run.
   */
  private async recordAll(cancelled: AbortSignal): Promise<boolean> {
    let wait = RECORD_RETRY_FIRST_MS;
    for (;;) {
      try {
        await this.record(false);
        return true;
      } catch (err) {
        if (cancelled.aborted) {
          warn('recording notification results failed; they stay with this process for its next run', err);
          return false;
        }
        warn('recording notification results failed; trying again', err);
      }
      await delay(wait, cancelled);
      wait = Math.min(wait * 2, RECORD_RETRY_MAX_MS);
    }
  }

  /**
   * Writes the batch's results: final records inserted (a record already there stays), then their outbox
   * documents deleted; retries updated in place and (with `requeue`) queued again for their next attempt. A failed
   * write keeps what it did not write for the next round, so nothing recorded is lost while Mongo is away.
   */
  private async record(requeue = true): Promise<void> {
    if (this.settled.length > 0) {
      const settled = this.settled;
      this.settled = [];
      try {
        await this.models.NotificationOutbox.bulkWrite(
          settled.map((_id) => ({ deleteOne: { filter: { _id } } })),
          { ordered: false },
        );
      } catch (err) {
        this.settled.unshift(...settled);
        throw err;
      }
      for (const id of settled) {
        this.rememberFinal(id);
        this.unrecorded.delete(id);
      }
    }
    if (this.finals.length > 0) {
      const finals = this.finals;
      this.finals = [];
      try {
        await insertIgnoringDuplicates(this.models, finals);
        await this.models.NotificationOutbox.bulkWrite(
          finals.map((d) => ({ deleteOne: { filter: { _id: d._id } } })),
          { ordered: false },
        );
      } catch (err) {
        this.finals.unshift(...finals);
        throw err;
      }
      for (const d of finals) {
        this.rememberFinal(d._id);
        this.unrecorded.delete(d._id);
      }
    }
    if (this.retries.length > 0) {
      const retries = this.retries;
      this.retries = [];
      try {
        await bulkUpdateInChunks(
          this.models,
          retries.map((d) => ({
            updateOne: {
              filter: { _id: d._id },
              update: {
                $set: {
                  status: d.status,
                  attempts: d.attempts,
                  lastError: d.lastError,
                  lastAttemptAt: d.lastAttemptAt,
                  nextAttemptAt: d.nextAttemptAt,
                  updatedAt: d.updatedAt,
                },
              },
            },
          })),
        );
      } catch (err) {
        this.retries.unshift(...retries);
        throw err;
      }
      for (const d of retries) {
        this.unrecorded.delete(d._id);
        if (requeue) this.take(d);
      }
    }
  }

  private rememberFinal(id: string): void {
    this.recentlyFinal.add(id);
    if (this.recentlyFinal.size > RECENTLY_FINAL_LIMIT) {
      const oldest = this.recentlyFinal.values().next().value;
      if (oldest !== undefined) this.recentlyFinal.delete(oldest);
    }
  }

  private nextWakeIn(nextScan: number, nextRecord: number, nextDueAt: number): number {
    const now = Date.now();
    let at = Math.min(nextScan, now + 1_000, nextDueAt);
    if (this.pendingRecords() > 0) at = Math.min(at, nextRecord);
    return Math.max(0, at - now);
  }

  /** Waits `ms` or until woken; always through the event loop, so I/O (a scan, a send) can progress meanwhile. */
  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal.addEventListener('abort', done);
      this.wake = done;
    });
  }
}

/**
 * Statements per `update` command. FerretDB 1.24 on SQLite keeps each statement's read open until the whole command
 * ends, one pooled SQLite connection each (100 per database): a command of a hundred updates waits for a connection
 * its own earlier statements hold, and every other request waits behind it — FerretDB stops answering (found by the
 * fault matrix with a webhook receiver down, when a batch of retries grew past a hundred).
 */
export const UPDATES_PER_COMMAND = 16;

type OutboxUpdate = Parameters<NotificationModels['NotificationOutbox']['bulkWrite']>[0][number];

/** Writes `updates` as commands of at most UPDATES_PER_COMMAND statements, one after the other. */
export async function bulkUpdateInChunks(models: NotificationModels, updates: OutboxUpdate[]): Promise<void> {
  for (let i = 0; i < updates.length; i += UPDATES_PER_COMMAND)
    await models.NotificationOutbox.bulkWrite(updates.slice(i, i + UPDATES_PER_COMMAND), { ordered: false });
}

/** Inserts final records; one already there (a send recorded before a crash) is kept as it is. */
export async function insertIgnoringDuplicates(
  models: NotificationModels,
  docs: NotificationDoc[],
): Promise<void> {
  try {
    await models.Notification.collection.insertMany(docs as never[], { ordered: false });
  } catch (err) {
    if (!onlyDuplicateKeys(err)) throw err;
  }
}

/**
 * True when a failed insert failed only on ids already there. A connection lost mid-insert is a bulk write error
 * too, with no write errors at all: nothing is known to be stored then.
 */
export function onlyDuplicateKeys(err: unknown): boolean {
  const writeErrors = (err as { writeErrors?: unknown[] }).writeErrors;
  if (Array.isArray(writeErrors) && writeErrors.length > 0)
    return writeErrors.every((e) => isDuplicateKey(e));
  return isDuplicateKey(err);
}

/** Waits `ms`, or less if `signal` aborts. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/** The activity's log when there is one (the dispatcher runs inside its activity). */
function warn(message: string, err: unknown): void {
  const error = err instanceof Error ? err.message : String(err);
  try {
    Context.current().log.warn(message, { error });
  } catch {
    console.warn(message, error);
  }
}
