// Types and constants of notification delivery shared by the activities, the API and reports: no Node built-ins.

/** How one notification is retried by the dispatcher; durations in ms (tests shorten them). */
export interface DeliveryRetryOptions {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  /** After this long without success the notification is recorded as FAILED. */
  giveUpAfterMs: number;
}

export const DEFAULT_DELIVERY_RETRY: DeliveryRetryOptions = {
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 5 * 60_000,
  giveUpAfterMs: 7 * 24 * 3600_000,
};

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
