import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  failingChannels,
  type NotificationChannelRef,
  type NotificationDoc,
  type NotificationModels,
  type NotificationRecipient,
  type RecipientResolution,
} from '../db/notification-models';
import { headOf, type PersonDoc } from '../db/people';
import {
  DEFAULT_DELIVERY_RETRY,
  type DeliveryRetryOptions,
  type FailingChannel,
  type NotificationStatus,
} from '../notifications/contract';
import {
  DeliveryError,
  createEmailSender,
  postWebhook,
  redactUrl,
  type SmtpSettings,
} from '../notifications/senders';
import { renderTemplate } from '../notifications/templates';
import { KeyedLock } from '../db/keyed-lock';
import {
  DEFAULT_DISPATCH,
  OutboxDispatcher,
  insertIgnoringDuplicates,
  onlyDuplicateKeys,
  type ChannelHealthRecorder,
  type DispatchOptions,
  type DispatchStats,
} from './outbox-dispatcher';

export interface NotificationActivityDeps {
  models: NotificationModels;
  /** A client on the worker's namespace (imports start project workflows with it). */
  client: Client;
  /** The project workflows' task queue (the dispatcher runs on `deliveryTaskQueue(taskQueue)`). */
  taskQueue: string;
  /** How the outbox dispatcher paces itself (tests shorten the outbox read interval). */
  dispatch?: Partial<DispatchOptions>;
  /** Aborted when the worker shuts down: the dispatcher activity then returns (it is not cancelled). */
  stopSignal?: AbortSignal;
  smtp: SmtpSettings;
  /** Network timeout of one webhook POST or SMTP stage (default 10 s). */
  httpTimeoutMs?: number;
  /** Consecutive failures after which a channel is marked failing (default 3). */
  failingAfter?: number;
  /** The dispatcher's retry schedule (default: 1 s doubling to 5 min, given up after 7 days). */
  retry?: Partial<DeliveryRetryOptions>;
}

export interface EnqueueNotificationsInput {
  /** The caller's deterministic id of this notification, e.g. `<projectId>:<taskId>:reminder:<dueAt>`. */
  notificationKey: string;
  recipients: NotificationRecipient[];
  /** REMINDER, ESCALATION, REPORT_READY or GENERIC (see notifications/templates.ts for the payload fields). */
  template: string;
  payload: Record<string, unknown>;
}

export interface EnqueuedNotification {
  outboxId: string;
  recipientKey: string;
  channel: NotificationChannelRef | null;
  status: NotificationStatus;
}

export interface EnqueueNotificationsResult {
  notifications: EnqueuedNotification[];
}

export interface EnqueueBatchInput {
  notifications: EnqueueNotificationsInput[];
}

export interface DispatchRunInput {
  /** How long this run delivers before it returns (default DispatchOptions.runForMs). */
  runForMs?: number;
}

export interface EnqueueBatchResult {
  /** Notifications that can never be enqueued (invalid), with the reason; the rest were enqueued. */
  refused: { notificationKey: string; reason: string }[];
}

export const MAX_RECIPIENTS = 500;
const MAX_BATCH = 100;
const MAX_KEY_LENGTH = 400;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function webhookChannelKey(url: string): string {
  return `webhook:${sha256(url).slice(0, 20)}`;
}

export function emailChannelKey(address: string): string {
  return `email:${address.trim().toLowerCase()}`;
}

export function recipientKey(r: NotificationRecipient): string {
  if (r.headOf) return `head:${r.headOf}`;
  if (r.person?.id) return `person-id:${r.person.id}`;
  if (r.person) return `person:${r.org ?? ''}/${r.person.email?.trim().toLowerCase() ?? r.person.name ?? ''}`;
  return `org:${r.org ?? ''}`;
}

/** A recipient as its channels were found for it: the directory's person named, and how it was resolved. */
interface ResolvedRecipient {
  recipient: NotificationRecipient;
  channels: NotificationChannelRef[];
  resolution: { code: RecipientResolution; note?: string };
}

function uniqueChannels(refs: NotificationChannelRef[]): NotificationChannelRef[] {
  return refs.filter((c, i) => refs.findIndex((o) => o.key === c.key) === i);
}

function channelRefs(channels: { webhooks?: { url: string }[]; emails?: string[] } | null | undefined) {
  const refs: NotificationChannelRef[] = [];
  for (const w of channels?.webhooks ?? [])
    refs.push({ kind: 'webhook', key: webhookChannelKey(w.url), target: redactUrl(w.url) });
  for (const address of channels?.emails ?? [])
    refs.push({ kind: 'email', key: emailChannelKey(address), target: address.trim() });
  return uniqueChannels(refs);
}

/** The organisation a channel's health is reported under: the recipient org, or the one whose head it is. */
function channelOrg(r: NotificationRecipient): string | null {
  return r.org ?? r.headOf ?? null;
}

export function outboxId(notificationKey: string, recipient: string, channelKey: string): string {
  return `${notificationKey}|${recipient}|${channelKey}`;
}

/** The notification an outbox document belongs to (enqueueNotifications refuses keys with `|`). */
export function notificationKeyOf(outboxIdValue: string): string {
  return outboxIdValue.slice(0, outboxIdValue.indexOf('|'));
}

/** Activity log when running as an activity; silent when the functions are called directly (scripts, tests). */
function activityLog(): Pick<Context['log'], 'info' | 'warn'> | undefined {
  try {
    return Context.current().log;
  } catch {
    return undefined;
  }
}

const INVALID_NOTIFICATION = 'InvalidNotification';

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, INVALID_NOTIFICATION);
}

export function createNotificationActivities(deps: NotificationActivityDeps) {
  const { models } = deps;
  const httpTimeoutMs = deps.httpTimeoutMs ?? 10_000;
  const failingAfter = deps.failingAfter ?? 3;
  const retry: DeliveryRetryOptions = { ...DEFAULT_DELIVERY_RETRY, ...deps.retry };
  const email = createEmailSender(deps.smtp, httpTimeoutMs);

  async function orgChannelRefs(org: string): Promise<NotificationChannelRef[]> {
    return channelRefs(await models.OrgChannels.findById(org).lean());
  }

  const named = (p: PersonDoc) => ({ id: p._id, name: p.name });

  /**
   * The channels of one recipient, read now (when the notification is enqueued), so a directory change applies
   * to every escalation that fires after it.
   */
  async function resolveRecipient(r: NotificationRecipient): Promise<ResolvedRecipient> {
    if (r.headOf) {
      // The unit's head is a person of its own, not the unit's inbox; without one the unit's channels stand in.
      const head = await headOf(models.People, r.headOf);
      if (head)
        return {
          recipient: { headOf: r.headOf, person: named(head) },
          channels: channelRefs(head.channels),
          resolution: { code: 'HEAD_IN_DIRECTORY', note: `${head.name}（${head.post}）` },
        };
      return {
        recipient: { headOf: r.headOf, org: r.headOf },
        channels: await orgChannelRefs(r.headOf),
        resolution: {
          code: 'NO_HEAD_IN_DIRECTORY',
          note: `the people directory names no head of ${r.headOf}: sent to the organisation's channels`,
        },
      };
    }
    if (r.person?.id) {
      const person = await models.People.findById(r.person.id).lean();
      if (!person)
        return {
          recipient: r,
          channels: [],
          resolution: {
            code: 'PERSON_NOT_IN_DIRECTORY',
            note: `no person "${r.person.id}" in the people directory (a free-text 包联领导 of an older project?)`,
          },
        };
      return {
        recipient: { person: named(person) },
        channels: channelRefs(person.channels),
        resolution: { code: 'PERSON_IN_DIRECTORY', note: `${person.name}（${person.post}）` },
      };
    }
    // A person with an address gets it directly; otherwise the organisation's channels carry the message.
    const personal = r.person?.email?.trim();
    if (personal)
      return {
        recipient: r,
        channels: [{ kind: 'email', key: emailChannelKey(personal), target: personal }],
        resolution: { code: 'PERSON_EMAIL' },
      };
    if (r.person && !r.org)
      return {
        recipient: r,
        channels: [],
        resolution: { code: 'PERSON_WITHOUT_DIRECTORY_ID', note: 'a name alone has no channel' },
      };
    return {
      recipient: r,
      channels: r.org ? await orgChannelRefs(r.org) : [],
      resolution: { code: 'ORG_CHANNELS' },
    };
  }

  // A channel's health document is shared by all its notifications: one writer at a time (see KeyedLock).
  const healthLock = new KeyedLock();

  /** Sets fields of a channel's health document, creating it with the channel's identity on first use. */
  function writeChannelHealth(
    channel: NotificationChannelRef,
    org: string | null,
    fields: Record<string, unknown>,
  ): Promise<unknown> {
    return models.ChannelHealth.updateOne(
      { _id: channel.key },
      { $set: { kind: channel.kind, target: channel.target, org, ...fields } },
      { upsert: true },
    );
  }

  async function markChannelHealthy(channel: NotificationChannelRef, org: string | null): Promise<void> {
    return healthLock.run(channel.key, async () => {
      const before = await models.ChannelHealth.findById(channel.key, { failing: 1 }).lean();
      await writeChannelHealth(channel, org, {
        consecutiveFailures: 0,
        failing: false,
        failingSince: null,
        lastSuccessAt: new Date(),
      });
      if (before?.failing)
        activityLog()?.info('notification channel healthy again', { channel: channel.key });
    });
  }

  /**
   * A recipient's webhooks as stored now. Sends to one recipient that overlap share the read in progress (a burst
   * sends dozens at once to the same unit, and FerretDB is busiest then): an answer is never older than the
   * read that was already under way when the send asked.
   */
  const channelReads = new Map<string, Promise<{ webhooks: { url: string; secret: string }[] } | null>>();
  function channelsOf(personId: string | undefined, org: string | undefined) {
    if (!personId && !org) return Promise.resolve(null);
    const key = personId ? `person:${personId}` : `org:${org}`;
    let read = channelReads.get(key);
    if (!read) {
      read = (async () =>
        personId
          ? ((await models.People.findById(personId).lean())?.channels ?? null)
          : await models.OrgChannels.findById(org).lean())().finally(() => channelReads.delete(key));
      channelReads.set(key, read);
    }
    return read;
  }

  async function send(doc: NotificationDoc, channel: NotificationChannelRef): Promise<void> {
    if (channel.kind === 'email') {
      await email.send({ notificationId: doc._id, to: channel.target, subject: doc.subject, text: doc.text });
      return;
    }
    // The URL and secret are read at send time (the person's in `people`, else the organisation's in
    // `orgChannels`), so a rotated secret applies to queued messages.
    const personId = doc.recipient.person?.id;
    const org = doc.recipient.org;
    const channels = await channelsOf(personId, org);
    const hook = channels?.webhooks.find((w) => webhookChannelKey(w.url) === channel.key);
    if (!hook)
      throw new DeliveryError(
        `webhook ${channel.target}: no longer configured for ${personId ?? org ?? '?'}`,
        true,
      );
    await postWebhook({
      url: hook.url,
      secret: hook.secret,
      timeoutMs: httpTimeoutMs,
      body: {
        notificationId: doc._id,
        template: doc.template,
        recipient: {
          ...(doc.recipient.org ? { org: doc.recipient.org } : {}),
          ...(doc.recipient.headOf ? { headOf: doc.recipient.headOf } : {}),
          ...(doc.recipient.person
            ? {
                person: {
                  ...(doc.recipient.person.id ? { id: doc.recipient.person.id } : {}),
                  ...(doc.recipient.person.name ? { name: doc.recipient.person.name } : {}),
                },
              }
            : {}),
        },
        subject: doc.subject,
        text: doc.text,
        payload: doc.payload,
      },
    });
  }

  /** A notification checked and resolved to its documents, not yet stored. */
  interface Prepared {
    noChannel: NotificationDoc[];
    outbox: NotificationDoc[];
  }

  function validate(input: EnqueueNotificationsInput): void {
    if (!input.notificationKey || input.notificationKey.length > MAX_KEY_LENGTH)
      throw invalid(`notificationKey must have 1..${MAX_KEY_LENGTH} characters`);
    if (input.notificationKey.includes('|'))
      throw invalid('notificationKey must not contain "|" (it separates the parts of an outbox id)');
    if (input.recipients.length > MAX_RECIPIENTS)
      throw invalid(`at most ${MAX_RECIPIENTS} recipients per notification`);
    if (input.recipients.some((r) => !r.org && !r.person && !r.headOf))
      throw invalid('a recipient needs an org, a person or an organisation whose head it is');
  }

  /**
   * One document per (recipient, channel). `resolve` may be shared by a batch, so a burst naming the same
   * organisation a hundred times reads its channels once.
   */
  async function prepare(
    input: EnqueueNotificationsInput,
    resolve: (r: NotificationRecipient) => Promise<ResolvedRecipient>,
  ): Promise<Prepared> {
    validate(input);
    const prepared: Prepared = { noChannel: [], outbox: [] };
    const seen = new Set<string>();
    // One message per channel per notification: the head may also be the project's leader.
    const channelsTaken = new Set<string>();
    const now = new Date();
    for (const wanted of input.recipients) {
      const rKey = recipientKey(wanted);
      if (seen.has(rKey)) continue;
      seen.add(rKey);
      const { recipient, channels: found, resolution } = await resolve(wanted);
      const channels = found.filter((c) => !channelsTaken.has(c.key));
      if (found.length > 0 && channels.length === 0) continue;
      for (const c of channels) channelsTaken.add(c.key);
      const { subject, text } = renderTemplate(input.template, input.payload, recipient.person?.name);
      const base = {
        notificationKey: input.notificationKey,
        recipientKey: rKey,
        recipient,
        resolution,
        template: input.template,
        payload: input.payload,
        subject,
        text,
        attempts: 0,
        workflowId: null,
        lastError: null,
        lastAttemptAt: null,
        sentAt: null,
        createdAt: now,
        updatedAt: now,
      };
      if (channels.length === 0) {
        const id = outboxId(input.notificationKey, rKey, 'none');
        prepared.noChannel.push({ ...base, _id: id, channel: null, status: 'NO_CHANNEL' });
        activityLog()?.warn('notification recipient has no channel', {
          recipient: rKey,
          outboxId: id,
          resolution: resolution.code,
        });
        continue;
      }
      for (const channel of channels)
        prepared.outbox.push({
          ...base,
          _id: outboxId(input.notificationKey, rKey, channel.key),
          channel,
          status: 'PENDING',
          nextAttemptAt: null,
        });
    }
    return prepared;
  }

  /**
   * The statuses of the final records among `docs`, by id. One read by `_id` each: FerretDB finds a document by
   * `_id` equality through an index but answers `_id: { $in }` by decoding the whole, ever-growing collection.
   */
  async function finalStatuses(docs: NotificationDoc[]): Promise<Map<string, NotificationStatus>> {
    const finals = await Promise.all(
      docs.map((d) => models.Notification.findById(d._id, { status: 1 }).lean()),
    );
    const found = new Map<string, NotificationStatus>();
    for (const f of finals) if (f) found.set(f._id, f.status);
    return found;
  }

  /**
   * Stores prepared notifications in bulk and hands the new ones to this process's dispatcher. Idempotent: a
   * document already in the outbox stays as it is, and one whose delivery is over (its final record exists) is not
   * put back, so a retried enqueue never sends twice. Returns each document's status.
   */
  async function store(prepared: Prepared[]): Promise<Map<string, NotificationStatus>> {
    const status = new Map<string, NotificationStatus>();
    const noChannel = prepared.flatMap((p) => p.noChannel);
    const outbox = prepared.flatMap((p) => p.outbox);
    if (noChannel.length > 0) await insertIgnoringDuplicates(models, noChannel);
    for (const d of noChannel) status.set(d._id, 'NO_CHANNEL');
    if (outbox.length === 0) return status;
    // Read before inserting: a delivered document put back in the outbox, even for a moment, can be read and sent
    // again by a dispatcher in another process.
    const over = await finalStatuses(outbox);
    for (const d of outbox) status.set(d._id, over.get(d._id) ?? 'PENDING');
    const wanted = outbox.filter((d) => !over.has(d._id));
    if (wanted.length === 0) return status;
    const alreadyQueued = new Set<number>();
    try {
      await models.NotificationOutbox.collection.insertMany(wanted as never[], { ordered: false });
    } catch (err) {
      // Which documents were there already is known only from the write errors (a lost connection has none).
      const writeErrors = (err as { writeErrors?: { index: number }[] }).writeErrors;
      if (!Array.isArray(writeErrors) || writeErrors.length === 0 || !onlyDuplicateKeys(err)) throw err;
      for (const e of writeErrors) alreadyQueued.add(e.index);
    }
    const fresh = wanted.filter((_, i) => !alreadyQueued.has(i));
    // A delivery that ended between that read and the insert (its final record written, its outbox document
    // deleted) had the insert put it back: take it out again. The dispatcher writes the final record before it
    // deletes the outbox document, so this order is safe.
    const overSince = await finalStatuses(fresh);
    for (const [id, s] of overSince) status.set(id, s);
    if (overSince.size > 0)
      await models.NotificationOutbox.bulkWrite(
        [...overSince.keys()].map((id) => ({ deleteOne: { filter: { _id: id } } })),
        { ordered: false },
      );
    dispatcher.offer(fresh.filter((d) => !overSince.has(d._id)));
    return status;
  }

  function resultsOf(p: Prepared, status: Map<string, NotificationStatus>): EnqueuedNotification[] {
    return [...p.noChannel, ...p.outbox].map((d) => ({
      outboxId: d._id,
      recipientKey: d.recipientKey,
      channel: d.channel,
      status: status.get(d._id) ?? d.status,
    }));
  }

  /** A recipient resolver that reads each distinct recipient once (for one enqueue call). */
  function memoisedResolver(): (r: NotificationRecipient) => Promise<ResolvedRecipient> {
    const known = new Map<string, Promise<ResolvedRecipient>>();
    return (r) => {
      const key = recipientKey(r);
      let found = known.get(key);
      if (!found) known.set(key, (found = resolveRecipient(r)));
      return found;
    };
  }

  async function enqueue(input: EnqueueNotificationsInput): Promise<EnqueueNotificationsResult> {
    const prepared = await prepare(input, memoisedResolver());
    return { notifications: resultsOf(prepared, await store([prepared])) };
  }

  /** Channel health as the dispatcher keeps it: in memory, written when it changes. */
  const knownHealth = new Map<string, { failures: number; failing: boolean }>();
  const dispatchHealth: ChannelHealthRecorder = {
    async healthy(channel, org) {
      const known = knownHealth.get(channel.key);
      if (known && known.failures === 0 && !known.failing) return;
      await markChannelHealthy(channel, org);
      knownHealth.set(channel.key, { failures: 0, failing: false });
    },
    failed(channel, org, reason) {
      return healthLock.run(channel.key, async () => {
        let known = knownHealth.get(channel.key);
        if (!known) {
          const stored = await models.ChannelHealth.findById(channel.key).lean();
          known = { failures: stored?.consecutiveFailures ?? 0, failing: stored?.failing ?? false };
          knownHealth.set(channel.key, known);
        }
        known.failures++;
        const nowFailing = !known.failing && known.failures >= failingAfter;
        const now = new Date();
        await writeChannelHealth(channel, org, {
          consecutiveFailures: known.failures,
          lastError: reason,
          lastFailureAt: now,
          ...(nowFailing ? { failing: true, failingSince: now } : {}),
        });
        if (nowFailing) {
          known.failing = true;
          activityLog()?.warn('notification channel marked failing', {
            channel: channel.key,
            target: channel.target,
            org,
            consecutiveFailures: known.failures,
            lastError: reason,
          });
        }
      });
    },
  };
  const dispatcher = new OutboxDispatcher(
    models,
    send,
    dispatchHealth,
    retry,
    { ...DEFAULT_DISPATCH, ...deps.dispatch },
    (doc) => channelOrg(doc.recipient),
  );

  return {
    /**
     * Records one outbox document per (recipient, channel) for the dispatcher, then returns without waiting for
     * delivery. Idempotent: ids are deterministic, and a notification delivered already is not queued again.
     */
    enqueueNotifications: enqueue,

    /**
     * enqueueNotifications for several notifications at once (a burst of deadlines in one workflow). A
     * notification that can never be enqueued is reported in `refused` and the others go on; any other error
     * fails the whole batch, which Temporal retries harmlessly (enqueueing is idempotent).
     */
    async enqueueNotificationBatch(input: EnqueueBatchInput): Promise<EnqueueBatchResult> {
      if (input.notifications.length > MAX_BATCH)
        throw invalid(`at most ${MAX_BATCH} notifications per batch`);
      const refused: EnqueueBatchResult['refused'] = [];
      const prepared: Prepared[] = [];
      const resolve = memoisedResolver();
      for (const n of input.notifications) {
        try {
          prepared.push(await prepare(n, resolve));
        } catch (err) {
          if (!(err instanceof ApplicationFailure) || err.type !== INVALID_NOTIFICATION) throw err;
          refused.push({ notificationKey: n.notificationKey, reason: err.message });
        }
      }
      await store(prepared);
      return { refused };
    },

    /**
     * The notification dispatcher (workflows/notification-dispatcher.ts): delivers the outbox for a while, then
     * returns. It heartbeats, so if its worker dies Temporal runs it again on another worker.
     */
    dispatchNotifications: async (input: DispatchRunInput = {}): Promise<DispatchStats> => {
      const ctx = Context.current();
      // Another worker may have run the dispatcher meanwhile: health it recorded is read again, not remembered.
      knownHealth.clear();
      const runFor = Math.min(
        input.runForMs ?? deps.dispatch?.runForMs ?? DEFAULT_DISPATCH.runForMs,
        50 * 60_000,
      );
      const stop = deps.stopSignal
        ? AbortSignal.any([ctx.cancellationSignal, deps.stopSignal])
        : ctx.cancellationSignal;
      return dispatcher.run(Date.now() + runFor, stop, () => ctx.heartbeat(), ctx.cancellationSignal);
    },

    /** Channels currently marked failing, for reports. */
    async listFailingChannels(): Promise<FailingChannel[]> {
      return (await failingChannels(models)).map((h) => ({
        channelKey: h._id,
        kind: h.kind,
        target: h.target,
        org: h.org ?? null,
        consecutiveFailures: h.consecutiveFailures,
        failingSince: h.failingSince ? new Date(h.failingSince).toISOString() : null,
        lastError: h.lastError ?? null,
        lastFailureAt: h.lastFailureAt ? new Date(h.lastFailureAt).toISOString() : null,
      }));
    },
  };
}

export type NotificationActivities = ReturnType<typeof createNotificationActivities>;
