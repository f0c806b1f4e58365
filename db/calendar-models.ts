import { Schema, type Connection, type Model } from 'mongoose';
import type { CalendarYear, LocalOverride } from '../calendar';

/** An official year arrangement loaded by an administrator; every load is a new version, old ones are kept. */
export interface CalendarYearDoc {
  _id: string; // `${year}`
  versions: (CalendarYear & { loadedAt: Date; loadedBy: string })[];
}

/** Local overrides (e.g. a city's extra working day), versioned as one list. */
export interface CalendarOverridesDoc {
  _id: 'local';
  version: number;
  overrides: (LocalOverride & { addedAt: Date; addedBy: string })[];
}

/** One postponement (顺延) of a joint meeting: from which day to which, why, by whom, when. */
export interface MeetingPostponement {
  from: string;
  to: string;
  reason: string;
  by: string;
  at: Date;
}

/**
 * The leading group's monthly joint meeting (月度联席会议): scheduled on the month's last working day, held on
 * `date` (the scheduled day, or the day it was last postponed to). Kept beside the calendar because tier-3 review
 * deadlines are computed from it (activities/deadlines.ts).
 */
export interface JointMeetingDoc {
  _id: string; // YYYY-MM
  title: string;
  scheduledOn: string; // YYYY-MM-DD
  date: string; // YYYY-MM-DD
  postponements: MeetingPostponement[];
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface CalendarModels {
  CalendarYear: Model<CalendarYearDoc>;
  CalendarOverrides: Model<CalendarOverridesDoc>;
  JointMeeting: Model<JointMeetingDoc>;
}

export function createCalendarModels(conn: Connection): CalendarModels {
  return {
    CalendarYear: conn.model<CalendarYearDoc>(
      'CalendarYear',
      new Schema<CalendarYearDoc>(
        { _id: String, versions: [Schema.Types.Mixed] },
        { versionKey: false, collection: 'calendarYears' },
      ),
    ),
    CalendarOverrides: conn.model<CalendarOverridesDoc>(
      'CalendarOverrides',
      new Schema<CalendarOverridesDoc>(
        { _id: String, version: Number, overrides: [Schema.Types.Mixed] },
        { versionKey: false, collection: 'calendarOverrides' },
      ),
    ),
    JointMeeting: conn.model<JointMeetingDoc>(
      'JointMeeting',
      new Schema<JointMeetingDoc>(
        {
          _id: String,
          title: String,
          scheduledOn: String,
          date: String,
          postponements: [Schema.Types.Mixed],
          createdBy: String,
          createdAt: Date,
          updatedAt: Date,
        },
        { versionKey: false, collection: 'jointMeetings' },
      ),
    ),
  };
}
