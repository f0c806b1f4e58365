// Sandbox-safe contract between the delivery workflow and the notification activities: types and constants
// only, no Node built-ins, so workflows/ may import it.

/** How one notification is retried; durations in ms, carried in the workflow input so tests can shorten them. */
export interface DeliveryRetryOptions {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  /** After this long without success the notification is recorded as FAILED (scheduleToClose of the activity). */
  giveUpAfterMs: number;
  /** One attempt's budget; must exceed the sender's own network timeouts so attempts never overlap. */
  attemptTimeoutMs: number;
}

export const DEFAULT_DELIVERY_RETRY: DeliveryRetryOptions = {
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 5 * 60_000,
  giveUpAfterMs: 7 * 24 * 3600_000,
  attemptTimeoutMs: 2 * 60_000,
};

export interface NotificationDeliveryInput {
  /** The outbox documents of one notification, one per (recipient, channel); each is delivered on its own. */
  outboxIds?: string[];
  /** A delivery workflow started before one workflow carried a whole notification had a single document. */
  outboxId?: string;
  retry?: Partial<DeliveryRetryOptions>;
}

export const NOTIFICATION_STATUSES = [
  'PENDING',
  'SENDING',
  'RETRYING',
  'SENT',
  'FAILED',
  'NO_CHANNEL',
] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/** Statuses after which nothing more is sent for an outbox document. */
export const FINAL_STATUSES: readonly NotificationStatus[] = ['SENT', 'FAILED', 'NO_CHANNEL'];

export interface NotificationDeliveryResult {
  outboxId: string;
  status: NotificationStatus;
  reason?: string;
}

/** The result of a delivery workflow: one entry per outbox document, in the order of the input. */
export interface NotificationDeliveriesResult {
  deliveries: NotificationDeliveryResult[];
}

export interface MarkUndeliverableInput {
  outboxId: string;
  reason: string;
}

/** A channel marked failing, as reports receive it (plain JSON: times as ISO strings). */
export interface FailingChannel {
  channelKey: string;
  kind: 'webhook' | 'email';
  /** Redacted URL (origin + path) or e-mail address. */
  target: string;
  org: string | null;
  consecutiveFailures: number;
  failingSince: string | null;
  lastError: string | null;
  lastFailureAt: string | null;
}

/** What one successful send reports to the delivery workflow, which then records it (see archiveNotification). */
export interface SentNotification {
  outboxId: string;
  /** SENT when this attempt sent it; the stored final status when an earlier delivery already finished it. */
  status: NotificationStatus;
  /** Temporal's attempt number of the send that succeeded (each attempt is one POST or one e-mail). */
  attempts: number;
  sentAt: string | null;
  alreadyFinal: boolean;
  /** True when the send also moved the notification to its final record; else the workflow does it. */
  archived?: boolean;
}

/** Moves a notification from the outbox to the final record. */
export interface ArchiveNotificationInput {
  outboxId: string;
  status: 'SENT' | 'FAILED';
  attempts?: number;
  sentAt?: string | null;
  lastError?: string | null;
}
