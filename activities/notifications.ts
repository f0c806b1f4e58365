import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  failingChannels,
  type NotificationChannelRef,
  type NotificationDoc,
  type NotificationModels,
  type NotificationRecipient,
} from '../db/notification-models';
import {
  DEFAULT_DELIVERY_RETRY,
  FINAL_STATUSES,
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

export const MAX_RECIPIENTS = 500;
const MAX_KEY_LENGTH = 400;

/** Workflow type name of workflows/notification-delivery.ts; started by name so activities never load workflow code. */
export const NOTIFICATION_DELIVERY_WORKFLOW = 'notificationDelivery';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Deterministic workflow id: a readable prefix plus a hash of the full outbox id, so sanitising never collides. */
export function notificationWorkflowId(outboxId: string): string {
  const readable = outboxId.replace(/[^A-Za-z0-9._@:-]+/g, '_').slice(0, 200);
  return `notify-${readable}-${sha256(outboxId).slice(0, 16)}`;
}

export function webhookChannelKey(url: string): string {
  return `webhook:${sha256(url).slice(0, 20)}`;
}

export function emailChannelKey(address: string): string {
  return `email:${address.trim().toLowerCase()}`;
}

export function recipientKey(r: NotificationRecipient): string {
  if (r.person) return `person:${r.org ?? ''}/${r.person.email?.trim().toLowerCase() ?? r.person.name}`;
  return `org:${r.org ?? ''}`;
}

export function outboxId(notificationKey: string, recipient: string, channelKey: string): string {
  return `${notificationKey}|${recipient}|${channelKey}`;
}

/** Activity log when running as an activity; silent when the functions are called directly (scripts, tests). */
function activityLog(): Pick<Context['log'], 'info' | 'warn'> | undefined {
  try {
    return Context.current().log;
  } catch {
    return undefined;
  }
}

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'InvalidNotification');
}

export function createNotificationActivities(deps: NotificationActivityDeps) {
  const { models, client, taskQueue } = deps;
  const httpTimeoutMs = deps.httpTimeoutMs ?? 10_000;
  const failingAfter = deps.failingAfter ?? 3;
  const retry: DeliveryRetryOptions = { ...DEFAULT_DELIVERY_RETRY, ...deps.retry };
  // An SMTP send spans connect, greeting and data stages, each bounded by httpTimeoutMs.
  if (retry.attemptTimeoutMs < 4 * httpTimeoutMs) {
    throw new Error(
      `notification retry.attemptTimeoutMs (${retry.attemptTimeoutMs}) must be ≥ 4 × httpTimeoutMs (${httpTimeoutMs}) so attempts never overlap`,
    );
  }
  const email = createEmailSender(deps.smtp, httpTimeoutMs);

  async function channelsOf(r: NotificationRecipient): Promise<NotificationChannelRef[]> {
    // A person with an address gets it directly; otherwise the organisation's channels carry the message.
    const personal = r.person?.email?.trim();
    if (personal) return [{ kind: 'email', key: emailChannelKey(personal), target: personal }];
    if (!r.org) return [];
    const doc = await models.OrgChannels.findById(r.org).lean();
    const refs: NotificationChannelRef[] = [];
    for (const w of doc?.webhooks ?? []) {
      refs.push({ kind: 'webhook', key: webhookChannelKey(w.url), target: redactUrl(w.url) });
    }
    for (const address of doc?.emails ?? []) {
      refs.push({ kind: 'email', key: emailChannelKey(address), target: address.trim() });
    }
    return refs.filter((c, i) => refs.findIndex((o) => o.key === c.key) === i);
  }

  async function startDelivery(id: string, workflowId: string): Promise<void> {
    const input: NotificationDeliveryInput = { outboxId: id, retry };
    try {
      await client.workflow.start<typeof notificationDelivery>(NOTIFICATION_DELIVERY_WORKFLOW, {
        workflowId,
        taskQueue,
        args: [input],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  /** Upserts one outbox document; returns its status (the stored one when it already existed). */
  async function upsertOutbox(
    doc: Omit<NotificationDoc, 'createdAt' | 'updatedAt'>,
  ): Promise<NotificationStatus> {
    const now = new Date();
    const res = await models.Notification.updateOne(
      { _id: doc._id },
      { $setOnInsert: { ...doc, createdAt: now, updatedAt: now } },
      { upsert: true },
    );
    if (res.upsertedCount > 0) return doc.status;
    const stored = await models.Notification.findById(doc._id, { status: 1 }).lean();
    return stored?.status ?? doc.status;
  }

  // A channel's health document is shared by all its notifications: one writer at a time (see KeyedLock).
  const healthLock = new KeyedLock();

  async function recordSuccess(doc: NotificationDoc, channel: NotificationChannelRef): Promise<void> {
    return healthLock.run(channel.key, () => recordSuccessLocked(doc, channel));
  }

  async function recordSuccessLocked(doc: NotificationDoc, channel: NotificationChannelRef): Promise<void> {
    const now = new Date();
    await models.Notification.updateOne(
      { _id: doc._id },
      { $set: { status: 'SENT', sentAt: now, updatedAt: now, lastError: null } },
    );
    const before = await models.ChannelHealth.findById(channel.key, { failing: 1 }).lean();
    await models.ChannelHealth.updateOne(
      { _id: channel.key },
      {
        $set: {
          kind: channel.kind,
          target: channel.target,
          org: doc.recipient.org ?? null,
          consecutiveFailures: 0,
          failing: false,
          failingSince: null,
          lastSuccessAt: now,
        },
      },
      { upsert: true },
    );
    if (before?.failing) activityLog()?.info('notification channel healthy again', { channel: channel.key });
  }

  async function recordFailure(
    doc: NotificationDoc,
    channel: NotificationChannelRef,
    reason: string,
    permanent: boolean,
  ): Promise<void> {
    return healthLock.run(channel.key, () => recordFailureLocked(doc, channel, reason, permanent));
  }

  async function recordFailureLocked(
    doc: NotificationDoc,
    channel: NotificationChannelRef,
    reason: string,
    permanent: boolean,
  ): Promise<void> {
    const now = new Date();
    await models.Notification.updateOne(
      { _id: doc._id },
      { $set: { status: permanent ? 'FAILED' : 'RETRYING', lastError: reason, updatedAt: now } },
    );
    await models.ChannelHealth.updateOne(
      { _id: channel.key },
      {
        $inc: { consecutiveFailures: 1 },
        $set: {
          kind: channel.kind,
          target: channel.target,
          org: doc.recipient.org ?? null,
          lastError: reason,
          lastFailureAt: now,
        },
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
        org: doc.recipient.org,
        consecutiveFailures: health.consecutiveFailures,
        lastError: reason,
      });
    }
  }

  async function send(doc: NotificationDoc, channel: NotificationChannelRef): Promise<void> {
    if (channel.kind === 'email') {
      await email.send({ notificationId: doc._id, to: channel.target, subject: doc.subject, text: doc.text });
      return;
    }
    // The URL and secret are read at send time from orgChannels, so a rotated secret applies to queued messages.
    const org = doc.recipient.org;
    const channels = org ? await models.OrgChannels.findById(org).lean() : null;
    const hook = channels?.webhooks.find((w) => webhookChannelKey(w.url) === channel.key);
    if (!hook)
      throw new DeliveryError(`webhook ${channel.target}: no longer configured for ${org ?? '?'}`, true);
    await postWebhook({
      url: hook.url,
      secret: hook.secret,
      timeoutMs: httpTimeoutMs,
      body: {
        notificationId: doc._id,
        template: doc.template,
        recipient: {
          ...(doc.recipient.org ? { org: doc.recipient.org } : {}),
          ...(doc.recipient.person ? { person: { name: doc.recipient.person.name } } : {}),
        },
        subject: doc.subject,
        text: doc.text,
        payload: doc.payload,
      },
    });
  }

  return {
    /**
     * Records one outbox document per (recipient, channel) and starts one delivery workflow for each, then
     * returns without waiting for delivery. Idempotent: ids are deterministic, inserts use `$setOnInsert`,
     * and an already started or already final delivery is not started again.
     */
    async enqueueNotifications(input: EnqueueNotificationsInput): Promise<EnqueueNotificationsResult> {
      if (!input.notificationKey || input.notificationKey.length > MAX_KEY_LENGTH)
        throw invalid(`notificationKey must have 1..${MAX_KEY_LENGTH} characters`);
      if (input.recipients.length > MAX_RECIPIENTS)
        throw invalid(`at most ${MAX_RECIPIENTS} recipients per notification`);
      const results: EnqueuedNotification[] = [];
      const seen = new Set<string>();
      for (const recipient of input.recipients) {
        if (!recipient.org && !recipient.person) throw invalid('a recipient needs an org or a person');
        const rKey = recipientKey(recipient);
        if (seen.has(rKey)) continue;
        seen.add(rKey);
        const { subject, text } = renderTemplate(input.template, input.payload, recipient.person?.name);
        const base = {
          notificationKey: input.notificationKey,
          recipientKey: rKey,
          recipient,
          template: input.template,
          payload: input.payload,
          subject,
          text,
          attempts: 0,
          lastError: null,
          lastAttemptAt: null,
          sentAt: null,
        };
        const channels = await channelsOf(recipient);
        if (channels.length === 0) {
          const id = outboxId(input.notificationKey, rKey, 'none');
          const status = await upsertOutbox({
            ...base,
            _id: id,
            channel: null,
            status: 'NO_CHANNEL',
            workflowId: null,
          });
          activityLog()?.warn('notification recipient has no channel', { recipient: rKey, outboxId: id });
          results.push({ outboxId: id, recipientKey: rKey, channel: null, status, workflowId: null });
          continue;
        }
        for (const channel of channels) {
          const id = outboxId(input.notificationKey, rKey, channel.key);
          const workflowId = notificationWorkflowId(id);
          const status = await upsertOutbox({ ...base, _id: id, channel, status: 'PENDING', workflowId });
          const final = FINAL_STATUSES.includes(status);
          if (!final) await startDelivery(id, workflowId);
          results.push({
            outboxId: id,
            recipientKey: rKey,
            channel,
            status,
            workflowId: final ? null : workflowId,
          });
        }
      }
      return { notifications: results };
    },

    /**
     * One delivery attempt. Returns the final status without sending when the notification is already final;
     * throws a retryable failure (Temporal backs off and retries) or a non-retryable one for permanent errors.
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
      try {
        await send(doc, channel);
      } catch (err) {
        const permanent = err instanceof DeliveryError && err.permanent;
        const reason = err instanceof Error ? err.message : String(err);
        await recordFailure(doc, channel, reason, permanent);
        if (permanent) throw ApplicationFailure.nonRetryable(reason, 'PermanentDeliveryFailure');
        throw ApplicationFailure.retryable(reason, 'DeliveryFailed');
      }
      await recordSuccess(doc, channel);
      return 'SENT';
    },

    /** Records that retries were exhausted (or delivery was refused); a SENT notification stays SENT. */
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
