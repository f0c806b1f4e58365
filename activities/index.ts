import type { CalendarModels } from '../db/calendar-models';
import type { Models } from '../db/models';
import { ProjectClient } from '../client/project-client';
import { createDeadlineActivities } from './deadlines';
import { createImportActivities } from './imports';
import { createNotificationActivities, type NotificationActivityDeps } from './notifications';
import { createReadModelActivities } from './read-model';
import { createSupervisionActivities } from './supervision';
import { createWakeupActivities } from './wakeup';
import type { SupervisionModels } from '../db/supervision-models';
import type { Policy } from '../policy/schema';

export interface ActivityDeps {
  models: Models;
  calendarModels: CalendarModels;
  /** Notification delivery (outbox, webhooks, SMTP); every worker that runs project workflows needs it. */
  notifications: NotificationActivityDeps;
  supervisionModels: SupervisionModels;
  /** The policy in force: supervision reports name its organisations and record its version. */
  policy: Policy;
}

/** All activities the worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  const readModel = createReadModelActivities({ models: deps.models });
  const notifications = createNotificationActivities(deps.notifications);
  return {
    ...readModel,
    ...createDeadlineActivities({ calendarModels: deps.calendarModels }),
    ...notifications,
    ...createWakeupActivities(readModel, notifications),
    ...createSupervisionActivities({
      models: deps.models,
      calendarModels: deps.calendarModels,
      supervisionModels: deps.supervisionModels,
      policy: deps.policy,
    }),
    ...createImportActivities({
      models: deps.models,
      projects: new ProjectClient({
        client: deps.notifications.client,
        taskQueue: deps.notifications.taskQueue,
        policy: deps.policy,
      }),
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
