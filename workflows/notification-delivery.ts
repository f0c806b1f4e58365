import { ActivityFailure, isCancellation, log, proxyActivities } from '@temporalio/workflow';
import type { createNotificationActivities } from '../activities/notifications';
import {
  DEFAULT_DELIVERY_RETRY,
  type NotificationDeliveryInput,
  type NotificationDeliveryResult,
} from '../notifications/contract';

type NotificationActivities = ReturnType<typeof createNotificationActivities>;

const { markNotificationUndeliverable } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '30 seconds',
  // Only a status write: keep trying through a Mongo outage, but not forever.
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * Delivers one outbox document (workflow id `notify-…`, started by `enqueueNotifications`). It runs apart from
 * the project workflow so a failing receiver never delays a project; Temporal's retry policy provides the
 * backoff, and after `giveUpAfterMs` (or a permanent refusal) the notification is recorded as FAILED.
 */
export async function notificationDelivery(
  input: NotificationDeliveryInput,
): Promise<NotificationDeliveryResult> {
  const retry = { ...DEFAULT_DELIVERY_RETRY, ...input.retry };
  const { deliverNotification } = proxyActivities<NotificationActivities>({
    startToCloseTimeout: retry.attemptTimeoutMs,
    scheduleToCloseTimeout: retry.giveUpAfterMs,
    retry: {
      initialInterval: retry.initialIntervalMs,
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: retry.maximumIntervalMs,
    },
  });
  try {
    const status = await deliverNotification(input.outboxId);
    return { outboxId: input.outboxId, status };
  } catch (err) {
    if (isCancellation(err)) throw err;
    const reason = failureReason(err);
    log.warn('notification undeliverable', { outboxId: input.outboxId, reason });
    const status = await markNotificationUndeliverable({ outboxId: input.outboxId, reason });
    return { outboxId: input.outboxId, status, reason };
  }
}

function failureReason(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
