import type { CalendarModels } from '../db/calendar-models';
import type { Models } from '../db/models';
import { createDeadlineActivities } from './deadlines';
import { createNotificationActivities, type NotificationActivityDeps } from './notifications';
import { createReadModelActivities } from './read-model';

export interface ActivityDeps {
  models: Models;
  calendarModels: CalendarModels;
  /** Notification delivery (outbox, webhooks, SMTP); every worker that runs project workflows needs it. */
  notifications: NotificationActivityDeps;
}

/** All activities the worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createReadModelActivities({ models: deps.models }),
    ...createDeadlineActivities({ calendarModels: deps.calendarModels }),
    ...createNotificationActivities(deps.notifications),
  };
}

export type Activities = ReturnType<typeof createActivities>;
