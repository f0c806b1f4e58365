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

export interface CalendarModels {
  CalendarYear: Model<CalendarYearDoc>;
  CalendarOverrides: Model<CalendarOverridesDoc>;
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
  };
}
