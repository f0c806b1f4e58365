import { proxyActivities } from '@temporalio/workflow';
import type { NotificationActivities } from '../activities/notifications';

const { enqueueNotifications } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export interface PublishNoticeInput {
  /** Deterministic per notice (e.g. `key-projects:2026:v1`): a second start of the same notice sends nothing new. */
  notificationKey: string;
  /** Organisations told (their channels, as supervision reports reach them). */
  orgs: string[];
  subject: string;
  text: string;
  link: string;
}

/** One notice to many organisations through the notification outbox (the annual list approved and published). */
export async function publishNotice(input: PublishNoticeInput): Promise<{ enqueued: number }> {
  const { notifications } = await enqueueNotifications({
    notificationKey: input.notificationKey,
    recipients: input.orgs.map((org) => ({ org })),
    template: 'GENERIC',
    payload: { subject: input.subject, text: `${input.text}\n详情：${input.link}`, link: input.link },
  });
  return { enqueued: notifications.length };
}
