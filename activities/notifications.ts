import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowIdReusePolicy } from '@temporalio/common';
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
  FINAL_STATUSES,
  type ArchiveNotificationInput,
  type SentNotification,
  type DeliveryRetryOptions,
  type FailingChannel,
  type MarkUndeliverableInput,
  type NotificationDeliveryInput,
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
import { isDuplicateKey } from '../db/errors';
import type { notificationDelivery } from '../workflows/notification-delivery';

export interface NotificationActivityDeps {
  models: NotificationModels;
  /** Starts delivery workflows; a client on the worker's namespace. */
  client: Client;
  /** Task queue of the worker that runs `notificationDelivery` and `deliverNotification`. */
  taskQueue: string;
  smtp: SmtpSettings;
  /** Network timeout of one webhook POST or SMTP stage (default 10 s). */
  httpTimeoutMs?: number;
  /** Consecutive failures after which a channel is marked failing (default 3). */
  failingAfter?: number;
  /** Retry schedule written into each delivery workflow's input (default: 1 s doubling to 5 min, for 7 days). */
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
  /** Null when nothing is to be delivered (no channel, or already final). */
  workflowId: string | null;
}

export interface EnqueueNotificationsResult {
  notifications: EnqueuedNotification[];
}

export interface EnqueueBatchInput {
  notifications: EnqueueNotificationsInput[];
}

export interface EnqueueBatchResult {
  /** Notifications that can never be enqueued (invalid), with the reason; the rest were enqueued. */
  refused: { notificationKey: string; reason: string }[];
}

export const MAX_RECIPIENTS = 500;
const MAX_BATCH = 100;
const MAX_KEY_LENGTH = 400;

/** Workflow type name of workflows/notification-delivery.ts; started by name so activities never load workflow code. */
export const NOTIFICATION_DELIVERY_WORKFLOW = 'notificationDelivery';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The delivery workflow of one notification (all its recipients and channels): a readable prefix plus a hash
 * of the full key, so sanitising never collides.
 */
export function notificationWorkflowId(notificationKey: string): string {
  const readable = notificationKey.replace(/[^A-Za-z0-9._@:-]+/g, '_').slice(0, 200);
  return `notify-${readable}-${sha256(notificationKey).slice(0, 16)}`;
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

/** Temporal's attempt number inside an activity; 1 when the function is called directly. */
function currentAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

const INVALID_NOTIFICATION = 'InvalidNotification';

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, INVALID_NOTIFICATION);
}

export function createNotificationActivities(deps: NotificationActivityDeps) {
  const { models, client, taskQueue } = deps;
  const httpTimeoutMs = deps.httpTimeoutMs ?? 10_000;
  const failingAfter = deps.failingAfter ?? 3;
  // Well inside the attempt timeout: an attempt that ran out of time would be retried, and sent again.
  const inlineArchiveBudgetMs = 5_000;
  const retry: DeliveryRetryOptions = { ...DEFAULT_DELIVERY_RETRY, ...deps.retry };
  // An SMTP send spans connect, greeting and data stages, each bounded by httpTimeoutMs; recording it follows.
  if (retry.attemptTimeoutMs < 4 * httpTimeoutMs + inlineArchiveBudgetMs) {
    throw new Error(
      `notification retry.attemptTimeoutMs (${retry.attemptTimeoutMs}) must be ≥ 4 × httpTimeoutMs (${httpTimeoutMs}) + ${inlineArchiveBudgetMs} ms so attempts never overlap`,
    );
  }
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

  /**
   * Starts the delivery workflow; false when one with this id exists or existed. Temporal's id is the claim on
   * a notification: REJECT_DUPLICATE refuses even a finished delivery, so a retried enqueue never sends twice.
   */
  async function startDelivery(outboxIds: string[], workflowId: string): Promise<boolean> {
    const input: NotificationDeliveryInput = { outboxIds, retry };
    try {
      await client.workflow.start<typeof notificationDelivery>(NOTIFICATION_DELIVERY_WORKFLOW, {
        workflowId,
        taskQueue,
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
      return true;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw err;
    }
  }

  /** Puts one notification in the outbox unless it is there already (a retried enqueue). */
  async function upsertOutbox(doc: Omit<NotificationDoc, 'createdAt' | 'updatedAt'>): Promise<void> {
    const now = new Date();
    try {
      await models.NotificationOutbox.updateOne(
        { _id: doc._id },
        { $setOnInsert: { ...doc, createdAt: now, updatedAt: now } },
        { upsert: true },
      );
    } catch (err) {
      // Two concurrent upserts may both try the insert; the loser finds the document there, as it wanted.
      if (!isDuplicateKey(err)) throw err;
    }
  }

  // A channel's health document is shared by all its notifications: one writer at a time (see KeyedLock).
  const healthLock = new KeyedLock();

  async function markChannelHealthy(channel: NotificationChannelRef, org: string | null): Promise<void> {
    return healthLock.run(channel.key, async () => {
      const before = await models.ChannelHealth.findById(channel.key, { failing: 1 }).lean();
      await models.ChannelHealth.updateOne(
        { _id: channel.key },
        {
          $set: {
            kind: channel.kind,
            target: channel.target,
            org,
            consecutiveFailures: 0,
            failing: false,
            failingSince: null,
            lastSuccessAt: new Date(),
          },
        },
        { upsert: true },
      );
      if (before?.failing)
        activityLog()?.info('notification channel healthy again', { channel: channel.key });
    });
  }

  async function markChannelFailure(
    channel: NotificationChannelRef,
    org: string | null,
    reason: string,
  ): Promise<void> {
    return healthLock.run(channel.key, async () => {
      const now = new Date();
      await models.ChannelHealth.updateOne(
        { _id: channel.key },
        {
          $inc: { consecutiveFailures: 1 },
          $set: { kind: channel.kind, target: channel.target, org, lastError: reason, lastFailureAt: now },
        },
        { upsert: true },
      );
      const health = await models.ChannelHealth.findById(channel.key).lean();
      if (health && !health.failing && health.consecutiveFailures >= failingAfter) {
        await models.ChannelHealth.updateOne(
          { _id: channel.key, failing: { $ne: true } },
          { $set: { failing: true, failingSince: now } },
        );
        activityLog()?.warn('notification channel marked failing', {
          channel: channel.key,
          target: channel.target,
          org,
          consecutiveFailures: health.consecutiveFailures,
          lastError: reason,
        });
      }
    });
  }

  /** Writes a final record by insert alone; an existing one (a retried write) is kept as it is. */
  async function insertFinal(doc: NotificationDoc): Promise<NotificationStatus> {
    try {
      await models.Notification.collection.insertOne(doc as never);
      return doc.status;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const stored = await models.Notification.findById(doc._id, { status: 1 }).lean();
      return stored?.status ?? doc.status;
    }
  }

  /** See archiveNotification. */
  async function archive(input: ArchiveNotificationInput): Promise<NotificationStatus> {
    const doc = await models.NotificationOutbox.findById(input.outboxId).lean();
    if (!doc) {
      const stored = await models.Notification.findById(input.outboxId, { status: 1 }).lean();
      return stored?.status ?? input.status;
    }
    const status = await insertFinal({
      ...doc,
      status: input.status,
      attempts: input.attempts ?? doc.attempts,
      sentAt: input.sentAt ? new Date(input.sentAt) : doc.sentAt,
      lastAttemptAt: input.status === 'SENT' && input.sentAt ? new Date(input.sentAt) : doc.lastAttemptAt,
      lastError: input.status === 'SENT' ? null : (input.lastError ?? doc.lastError),
      updatedAt: new Date(),
    });
    if (status === 'SENT' && doc.channel) await markChannelHealthy(doc.channel, channelOrg(doc.recipient));
    await models.NotificationOutbox.deleteOne({ _id: input.outboxId });
    return status;
  }

  /**
   * Records a successful send at once when Mongo answers within the budget; true when it did. Whatever happens
   * here, the send stands: an error or a slow write only leaves the recording to the workflow.
   */
  async function archiveSent(sent: SentNotification): Promise<boolean> {
    const recorded = archive({
      outboxId: sent.outboxId,
      status: 'SENT',
      attempts: sent.attempts,
      sentAt: sent.sentAt,
    });
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), inlineArchiveBudgetMs);
    });
    try {
      return await Promise.race([recorded.then(() => true as const), budget]);
    } catch (err) {
      activityLog()?.warn('recording a sent notification failed; the delivery workflow retries it', {
        outboxId: sent.outboxId,
        error: err instanceof Error ? err.message : String(err),
      });
      return false;
    } finally {
      clearTimeout(timer);
      recorded.catch(() => undefined); // settled later by the workflow's own archive step
    }
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
    const channels = personId
      ? (await models.People.findById(personId).lean())?.channels
      : org
        ? await models.OrgChannels.findById(org).lean()
        : null;
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

  async function enqueue(input: EnqueueNotificationsInput): Promise<EnqueueNotificationsResult> {
    if (!input.notificationKey || input.notificationKey.length > MAX_KEY_LENGTH)
      throw invalid(`notificationKey must have 1..${MAX_KEY_LENGTH} characters`);
    if (input.notificationKey.includes('|'))
      throw invalid('notificationKey must not contain "|" (it separates the parts of an outbox id)');
    if (input.recipients.length > MAX_RECIPIENTS)
      throw invalid(`at most ${MAX_RECIPIENTS} recipients per notification`);
    if (input.recipients.some((r) => !r.org && !r.person && !r.headOf))
      throw invalid('a recipient needs an org, a person or an organisation whose head it is');
    const results: EnqueuedNotification[] = [];
    const queued: EnqueuedNotification[] = [];
    const workflowId = notificationWorkflowId(input.notificationKey);
    const seen = new Set<string>();
    // One message per channel per notification: the head may also be the project's leader.
    const channelsTaken = new Set<string>();
    for (const wanted of input.recipients) {
      const rKey = recipientKey(wanted);
      if (seen.has(rKey)) continue;
      seen.add(rKey);
      const { recipient, channels: found, resolution } = await resolveRecipient(wanted);
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
        lastError: null,
        lastAttemptAt: null,
        sentAt: null,
      };
      if (channels.length === 0) {
        const id = outboxId(input.notificationKey, rKey, 'none');
        const now = new Date();
        const status = await insertFinal({
          ...base,
          _id: id,
          channel: null,
          status: 'NO_CHANNEL',
          workflowId: null,
          createdAt: now,
          updatedAt: now,
        });
        activityLog()?.warn('notification recipient has no channel', {
          recipient: rKey,
          outboxId: id,
          resolution: resolution.code,
        });
        results.push({ outboxId: id, recipientKey: rKey, channel: null, status, workflowId: null });
        continue;
      }
      for (const channel of channels) {
        const id = outboxId(input.notificationKey, rKey, channel.key);
        await upsertOutbox({ ...base, _id: id, channel, status: 'PENDING', workflowId });
        queued.push({ outboxId: id, recipientKey: rKey, channel, status: 'PENDING', workflowId });
      }
    }
    const ids = queued.map((q) => q.outboxId);
    if (ids.length === 0 || (await startDelivery(ids, workflowId)))
      return { notifications: [...results, ...queued] };
    // Enqueued before. A final record means that document's delivery is over and the upsert above put it
    // back: take it out again. (A delivery writes the final record before it deletes the outbox document,
    // so the order of these reads and writes is safe.)
    for (const q of queued) {
      const stored = await models.Notification.findById(q.outboxId, { status: 1 }).lean();
      if (stored) await models.NotificationOutbox.deleteOne({ _id: q.outboxId });
      const final = stored !== null && FINAL_STATUSES.includes(stored.status);
      results.push({ ...q, status: stored?.status ?? 'PENDING', workflowId: final ? null : workflowId });
    }
    return { notifications: results };
  }

  return {
    /**
     * Records one outbox document per (recipient, channel) and starts the notification's delivery workflow,
     * then returns without waiting for delivery. Idempotent: ids are deterministic, inserts use `$setOnInsert`,
     * and a delivery that runs or ran is never started again.
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
      for (const n of input.notifications) {
        try {
          await enqueue(n);
        } catch (err) {
          if (!(err instanceof ApplicationFailure) || err.type !== INVALID_NOTIFICATION) throw err;
          refused.push({ notificationKey: n.notificationKey, reason: err.message });
        }
      }
      return { refused };
    },

    /**
     * One send of an outbox notification. Once sent, the activity succeeds whatever the status write does, so
     * a failed write can never cause a second send: it records the result itself when Mongo answers within a
     * short budget, and otherwise reports `archived: false` and the workflow runs archiveNotification.
     * Throws a retryable failure (Temporal backs off and retries) or a non-retryable one for permanent errors.
     */
    async sendNotification(id: string): Promise<SentNotification> {
      const doc = await models.NotificationOutbox.findById(id).lean();
      if (!doc) {
        const final = await models.Notification.findById(id).lean();
        if (!final)
          throw ApplicationFailure.nonRetryable(`notification ${id} not found`, 'NotificationNotFound');
        return {
          outboxId: id,
          status: final.status,
          attempts: final.attempts,
          sentAt: final.sentAt ? new Date(final.sentAt).toISOString() : null,
          alreadyFinal: true,
        };
      }
      const channel = doc.channel;
      if (!channel) throw ApplicationFailure.nonRetryable(`notification ${id} has no channel`, 'NoChannel');
      const attempt = currentAttempt();
      try {
        await send(doc, channel);
      } catch (err) {
        const permanent = err instanceof DeliveryError && err.permanent;
        const reason = err instanceof Error ? err.message : String(err);
        const now = new Date();
        await models.NotificationOutbox.updateOne(
          { _id: id },
          {
            $set: {
              status: 'RETRYING',
              attempts: attempt,
              lastError: reason,
              lastAttemptAt: now,
              updatedAt: now,
            },
          },
        );
        await markChannelFailure(channel, channelOrg(doc.recipient), reason);
        if (permanent) throw ApplicationFailure.nonRetryable(reason, 'PermanentDeliveryFailure');
        throw ApplicationFailure.retryable(reason, 'DeliveryFailed');
      }
      const sent: SentNotification = {
        outboxId: id,
        status: 'SENT',
        attempts: attempt,
        sentAt: new Date().toISOString(),
        alreadyFinal: false,
      };
      return { ...sent, archived: await archiveSent(sent) };
    },

    /**
     * Moves a notification from the outbox to the final record (SENT or FAILED) and marks a successful
     * channel healthy. Each step is idempotent, so Temporal may retry the activity as often as it needs.
     */
    archiveNotification: archive,

    /**
     * One delivery attempt of a delivery workflow started before the outbox split (see notificationDelivery's
     * patch); such a notification is still in `notifications`.
     */
    async deliverNotification(id: string): Promise<NotificationStatus> {
      const doc = await models.Notification.findById(id).lean();
      if (!doc) throw ApplicationFailure.nonRetryable(`notification ${id} not found`, 'NotificationNotFound');
      if (FINAL_STATUSES.includes(doc.status)) return doc.status;
      const channel = doc.channel;
      if (!channel) throw ApplicationFailure.nonRetryable(`notification ${id} has no channel`, 'NoChannel');
      await models.Notification.updateOne(
        { _id: id },
        {
          $inc: { attempts: 1 },
          $set: { status: 'SENDING', lastAttemptAt: new Date(), updatedAt: new Date() },
        },
      );
      const org = channelOrg(doc.recipient);
      try {
        await send(doc, channel);
      } catch (err) {
        const permanent = err instanceof DeliveryError && err.permanent;
        const reason = err instanceof Error ? err.message : String(err);
        await models.Notification.updateOne(
          { _id: id },
          { $set: { status: permanent ? 'FAILED' : 'RETRYING', lastError: reason, updatedAt: new Date() } },
        );
        await markChannelFailure(channel, org, reason);
        if (permanent) throw ApplicationFailure.nonRetryable(reason, 'PermanentDeliveryFailure');
        throw ApplicationFailure.retryable(reason, 'DeliveryFailed');
      }
      const now = new Date();
      await models.Notification.updateOne(
        { _id: id },
        { $set: { status: 'SENT', sentAt: now, updatedAt: now, lastError: null } },
      );
      await markChannelHealthy(channel, org);
      return 'SENT';
    },

    /** The give-up step of a delivery workflow started before the outbox split; a SENT notification stays SENT. */
    async markNotificationUndeliverable(input: MarkUndeliverableInput): Promise<NotificationStatus> {
      const now = new Date();
      await models.Notification.updateOne(
        { _id: input.outboxId, status: { $nin: ['SENT', 'NO_CHANNEL'] } },
        { $set: { status: 'FAILED', lastError: input.reason, updatedAt: now } },
      );
      const doc = await models.Notification.findById(input.outboxId, { status: 1 }).lean();
      return doc?.status ?? 'FAILED';
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
