import type { ReadModelSync } from '../domain/state';
import type { EnqueueBatchResult, EnqueueNotificationsInput, NotificationActivities } from './notifications';
import type { createReadModelActivities } from './read-model';

export interface ProjectWakeupWrite {
  sync: ReadModelSync;
  notifications: EnqueueNotificationsInput[];
}

/**
 * A project workflow's wakeup writes once: its notifications go into the outbox (one bulk insert) and what
 * changed into the read model, in one activity. Both steps are idempotent, so a retry repeats them harmlessly;
 * the outbox comes first, so a reader never sees an escalation whose notification is not queued yet.
 */
export function createWakeupActivities(
  readModel: ReturnType<typeof createReadModelActivities>,
  notifications: Pick<NotificationActivities, 'enqueueNotificationBatch'>,
) {
  return {
    async writeProjectWakeup(input: ProjectWakeupWrite): Promise<EnqueueBatchResult> {
      const { refused } =
        input.notifications.length > 0
          ? await notifications.enqueueNotificationBatch({ notifications: input.notifications })
          : { refused: [] };
      await readModel.syncReadModel(input.sync);
      return { refused };
    },
  };
}

export type WakeupActivities = ReturnType<typeof createWakeupActivities>;
