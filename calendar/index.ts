import { packageCalendarYears, type CalendarYear, type LocalOverride } from './calendar-data';
import { WorkCalendar, type CalendarOptions } from './work-calendar';

export * from './calendar-data';
export * from './work-calendar';

/** The package's years, replaced year by year by any admin-loaded ones, plus local overrides. */
export function buildWorkCalendar(
  adminYears: readonly CalendarYear[] = [],
  overrides: readonly LocalOverride[] = [],
  options: CalendarOptions = {},
): WorkCalendar {
  return new WorkCalendar([...packageCalendarYears(), ...adminYears], overrides, options);
}
