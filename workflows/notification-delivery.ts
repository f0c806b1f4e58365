import { ActivityFailure, isCancellation, log, patched, proxyActivities } from '@temporalio/workflow';
import type { createNotificationActivities } from '../activities/notifications';
import {
  DEFAULT_DELIVERY_RETRY,
  type NotificationDeliveriesResult,
  type NotificationDeliveryInput,
  type NotificationDeliveryResult,
} from '../notifications/contract';

type NotificationActivities = ReturnType<typeof createNotificationActivities>;

/** Deliveries started from this version on keep the outbox small and record a send apart from sending it. */
export const OUTBOX_ARCHIVE_PATCH = 'notification-outbox-archive';

const { markNotificationUndeliverable, archiveNotification } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '30 seconds',
  // Only status writes: keep trying through a Mongo outage, but not forever.
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * Delivers one notification (workflow id `notify-…`, started by `enqueueNotifications`): each of its outbox
 * documents, one per recipient channel, in parallel and retried on its own. It runs apart from the project
 * workflow so a failing receiver never delays a project; Temporal's retry policy provides the backoff, and
 * after `giveUpAfterMs` (or a permanent refusal) a document is recorded as FAILED.
 */
export async function notificationDelivery(
  input: NotificationDeliveryInput,
): Promise<NotificationDeliveriesResult | NotificationDeliveryResult> {
  const retry = { ...DEFAULT_DELIVERY_RETRY, ...input.retry };
  const { deliverNotification, sendNotification } = proxyActivities<NotificationActivities>({
    startToCloseTimeout: retry.attemptTimeoutMs,
    scheduleToCloseTimeout: retry.giveUpAfterMs,
    retry: {
      initialInterval: retry.initialIntervalMs,
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: retry.maximumIntervalMs,
    },
  });
  if (!patched(OUTBOX_ARCHIVE_PATCH)) {
    // A delivery started before the patch: one document, still in `notifications`.
    const outboxId = input.outboxId ?? '';
    try {
      const status = await deliverNotification(outboxId);
      return { outboxId, status };
    } catch (err) {
      if (isCancellation(err)) throw err;
      const reason = failureReason(err);
      log.warn('notification undeliverable', { outboxId, reason });
      const status = await markNotificationUndeliverable({ outboxId, reason });
      return { outboxId, status, reason };
    }
  }

  async function deliverOne(outboxId: string): Promise<NotificationDeliveryResult> {
    let sent;
    try {
      sent = await sendNotification(outboxId);
    } catch (err) {
      if (isCancellation(err)) throw err;
      const reason = failureReason(err);
      log.warn('notification undeliverable', { outboxId, reason });
      const status = await archiveNotification({ outboxId, status: 'FAILED', lastError: reason });
      return { outboxId, status, reason };
    }
    // The send is in this workflow's history now: a retried status write below can never send again.
    if (sent.alreadyFinal || sent.archived) return { outboxId, status: sent.status };
    const status = await archiveNotification({
      outboxId,
      status: 'SENT',
      attempts: sent.attempts,
      sentAt: sent.sentAt,
    });
    return { outboxId, status };
  }

  const outboxIds = input.outboxIds ?? (input.outboxId === undefined ? [] : [input.outboxId]);
  return { deliveries: await Promise.all(outboxIds.map(deliverOne)) };
}

function failureReason(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
