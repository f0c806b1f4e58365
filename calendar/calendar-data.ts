import chineseDaysData from 'chinese-days/dist/chinese-days.json';

/** One year's official arrangement of days off and make-up working days (调休上班). */
export interface CalendarYear {
  year: number;
  /** 'YYYY-MM-DD' days off: full statutory holiday spans, including weekdays taken in lieu. */
  holidays: string[];
  /** 'YYYY-MM-DD' weekend days that are working days (调休上班). */
  makeupWorkdays: string[];
  /** 文号 of the State Council General Office notice, e.g. 国办发明电〔2024〕12号. */
  noticeNumber?: string;
  source: 'package' | 'official' | 'local';
  version: number;
}

/** A local deviation (e.g. a city-declared day off) applied on top of the national arrangement. */
export interface LocalOverride {
  date: string;
  kind: 'holiday' | 'workday';
  reason: string;
}

/** Version given to package-derived years; any admin-loaded year for the same year replaces it. */
export const PACKAGE_DATA_VERSION = 1;

// The raw maps are keyed by 'YYYY-MM-DD'; `inLieuDays` is a subset of `holidays`, so it is not needed.
const raw: { holidays: Record<string, string>; workdays: Record<string, string> } = chineseDaysData;

/**
 * One CalendarYear per year present in the package's raw data. Coverage comes from the data itself
 * because the package's own isWorkday() silently assumes Mon–Fri for years it has no data for.
 */
export function packageCalendarYears(): CalendarYear[] {
  const byYear = new Map<number, CalendarYear>();
  const entryFor = (day: string): CalendarYear => {
    const year = Number(day.slice(0, 4));
    let entry = byYear.get(year);
    if (!entry) {
      entry = { year, holidays: [], makeupWorkdays: [], source: 'package', version: PACKAGE_DATA_VERSION };
      byYear.set(year, entry);
    }
    return entry;
  };
  for (const day of Object.keys(raw.holidays)) entryFor(day).holidays.push(day);
  for (const day of Object.keys(raw.workdays)) entryFor(day).makeupWorkdays.push(day);
  return [...byYear.values()]
    .map((y) => ({ ...y, holidays: y.holidays.sort(), makeupWorkdays: y.makeupWorkdays.sort() }))
    .sort((a, b) => a.year - b.year);
}
