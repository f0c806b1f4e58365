import { Schema, type Connection, type Model } from 'mongoose';
import type { NotificationStatus } from '../notifications/contract';
import { createPeopleModel, type PersonDoc } from './people';

// Every hot path is keyed by `_id` (FerretDB's SQLite backend pushes only `_id` equality down):
// one outbox document (`notificationOutbox._id`), one organisation's channels (`orgChannels._id` = org id),
// one channel's health (`channelHealth._id` = channel key).
//
// FerretDB 1.24 on SQLite answers even an `_id` lookup with a scan of the whole collection, and an update
// holds the database's single write lock for that scan. So notifications in flight live in the small
// `notificationOutbox`; once final (SENT, FAILED, NO_CHANNEL) a notification moves to `notifications`,
// which only grows by inserts (an insert checks the unique index and scans nothing).

export type ChannelKind = 'webhook' | 'email';

/**
 * Whom a notification is for. An organisation gets its `orgChannels`; a person of the directory (`person.id`)
 * gets the channels the directory holds for them; `headOf` is the head (负责人) of that organisation, resolved at
 * enqueue time to the directory's person (or, when the directory names none, the organisation's channels). A
 * person named with an address (`person.email`) gets it directly; a name alone (a free-text 包联领导 of a project
 * from before the directory) reaches nobody and is recorded NO_CHANNEL.
 */
export interface NotificationRecipient {
  org?: string;
  person?: { id?: string; name?: string; email?: string };
  headOf?: string;
}

/** How a recipient was resolved to channels, recorded on each notification so a reader can see why. */
export type RecipientResolution =
  | 'ORG_CHANNELS'
  | 'PERSON_EMAIL'
  | 'PERSON_IN_DIRECTORY'
  | 'PERSON_NOT_IN_DIRECTORY'
  | 'PERSON_WITHOUT_DIRECTORY_ID'
  | 'HEAD_IN_DIRECTORY'
  | 'NO_HEAD_IN_DIRECTORY';

/** A channel as the outbox records it: never the webhook URL's query string or secret, which stay in `orgChannels`. */
export interface NotificationChannelRef {
  kind: ChannelKind;
  key: string;
  /** Redacted URL (origin + path) or e-mail address, for people reading the outbox. */
  target: string;
}

export interface NotificationDoc {
  _id: string; // `${notificationKey}|${recipientKey}|${channelKey}`: a retried enqueue rewrites nothing
  notificationKey: string;
  recipientKey: string;
  recipient: NotificationRecipient;
  channel: NotificationChannelRef | null; // null when the recipient has no channel (NO_CHANNEL)
  /** How the recipient became these channels (absent on notifications from before the people directory). */
  resolution?: { code: RecipientResolution; note?: string };
  template: string;
  payload: Record<string, unknown>;
  subject: string;
  text: string;
  status: NotificationStatus;
  attempts: number;
  /** The delivery workflow that owns it (notifications enqueued before the dispatcher); null: the dispatcher's. */
  workflowId: string | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
  lastAttemptAt: Date | null;
  sentAt: Date | null;
  /** When the dispatcher tries next (absent or null: at once); set after a failed attempt, from the backoff. */
  nextAttemptAt?: Date | null;
}

export interface WebhookChannel {
  url: string;
  secret: string;
}

/** One organisation's delivery addresses; webhook URLs and secrets are credentials and live only here. */
export interface OrgChannelsDoc {
  _id: string; // organisation id
  webhooks: WebhookChannel[];
  emails: string[];
  updatedAt: Date;
}

export interface ChannelHealthDoc {
  _id: string; // channel key
  kind: ChannelKind;
  target: string;
  org: string | null;
  consecutiveFailures: number;
  failing: boolean;
  failingSince: Date | null;
  lastError: string | null;
  lastFailureAt: Date | null;
  lastSuccessAt: Date | null;
}

export interface NotificationModels {
  /** Final notifications (SENT, FAILED, NO_CHANNEL): the record people and reports read. */
  Notification: Model<NotificationDoc>;
  /** Notifications in flight (PENDING, SENDING, RETRYING); a document leaves when it becomes final. */
  NotificationOutbox: Model<NotificationDoc>;
  OrgChannels: Model<OrgChannelsDoc>;
  ChannelHealth: Model<ChannelHealthDoc>;
  /** The people directory: persons' channels, read at enqueue and at send time. */
  People: Model<PersonDoc>;
}

const mixed = Schema.Types.Mixed;

/** The outbox and the final record hold the same document: a notification moves between them unchanged. */
function notificationSchema(collection: string): Schema<NotificationDoc> {
  return new Schema<NotificationDoc>(
    {
      _id: String,
      notificationKey: String,
      recipientKey: String,
      recipient: mixed,
      channel: mixed,
      resolution: mixed,
      template: String,
      payload: mixed,
      subject: String,
      text: String,
      status: String,
      attempts: Number,
      workflowId: String,
      lastError: String,
      createdAt: Date,
      updatedAt: Date,
      lastAttemptAt: Date,
      sentAt: Date,
      nextAttemptAt: Date,
    },
    { versionKey: false, minimize: false, collection },
  );
}

/** Idempotent per connection: the worker and a test may both ask for the models of one connection. */
export function createNotificationModels(conn: Connection): NotificationModels {
  const existing = conn.models as Partial<{
    Notification: Model<NotificationDoc>;
    NotificationOutbox: Model<NotificationDoc>;
    OrgChannels: Model<OrgChannelsDoc>;
    ChannelHealth: Model<ChannelHealthDoc>;
  }>;
  const Notification =
    existing.Notification ?? conn.model<NotificationDoc>('Notification', notificationSchema('notifications'));
  const NotificationOutbox =
    existing.NotificationOutbox ??
    conn.model<NotificationDoc>('NotificationOutbox', notificationSchema('notificationOutbox'));
  const OrgChannels =
    existing.OrgChannels ??
    conn.model<OrgChannelsDoc>(
      'OrgChannels',
      new Schema<OrgChannelsDoc>(
        { _id: String, webhooks: [mixed], emails: [String], updatedAt: Date },
        { versionKey: false, minimize: false, collection: 'orgChannels' },
      ),
    );
  const ChannelHealth =
    existing.ChannelHealth ??
    conn.model<ChannelHealthDoc>(
      'ChannelHealth',
      new Schema<ChannelHealthDoc>(
        {
          _id: String,
          kind: String,
          target: String,
          org: String,
          consecutiveFailures: Number,
          failing: Boolean,
          failingSince: Date,
          lastError: String,
          lastFailureAt: Date,
          lastSuccessAt: Date,
        },
        { versionKey: false, minimize: false, collection: 'channelHealth' },
      ),
    );
  return { Notification, NotificationOutbox, OrgChannels, ChannelHealth, People: createPeopleModel(conn) };
}

/** Sets (replaces) one organisation's channels; an administrator's action, also used by tests. */
export async function setOrgChannels(
  models: NotificationModels,
  org: string,
  channels: { webhooks?: WebhookChannel[]; emails?: string[] },
): Promise<void> {
  const webhooks = channels.webhooks ?? [];
  for (const w of webhooks) {
    if (!/^https?:\/\//.test(w.url)) throw new Error(`webhook of ${org}: expected an http(s) URL`);
    if (w.secret.length < 16) throw new Error(`webhook of ${org}: the signing secret needs ≥ 16 characters`);
  }
  const emails = (channels.emails ?? []).map((e) => e.trim()).filter((e) => e !== '');
  await models.OrgChannels.updateOne(
    { _id: org },
    { $set: { webhooks, emails, updatedAt: new Date() } },
    { upsert: true },
  );
}

/**
 * Channels currently marked failing, for supervisors' reports. Scans `channelHealth`, which holds one small
 * document per configured channel (hundreds, not per notification), so the scan stays cheap.
 */
export async function failingChannels(models: NotificationModels): Promise<ChannelHealthDoc[]> {
  const docs = await models.ChannelHealth.find({ failing: true }).lean();
  return docs.sort((a, b) => a._id.localeCompare(b._id));
}
