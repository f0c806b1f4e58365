import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { NotificationActivities } from '../activities/notifications';

export interface NotificationDispatcherInput {
  /** How long each dispatcher activity runs before it returns (tests shorten it); default the worker's own. */
  runForMs?: number;
}

/**
 * One per delivery task queue, running for good: it keeps one `dispatchNotifications` activity going, which
 * delivers the notification outbox. The activity heartbeats every second; if its worker dies, the heartbeat
 * timeout lets Temporal run it again on another worker of the queue after a few seconds.
 */
export async function notificationDispatcher(input: NotificationDispatcherInput = {}): Promise<never> {
  const { dispatchNotifications } = proxyActivities<NotificationActivities>({
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '10 seconds',
    // Never gives up: Mongo or the network may be away for a while, and the outbox keeps what waits.
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  });
  for (;;) {
    await dispatchNotifications({ runForMs: input.runForMs });
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > 1_000)
      await continueAsNew<typeof notificationDispatcher>(input);
  }
}
