import type { CalendarYear, LocalOverride } from './calendar-data';

export type UncoveredPolicy = 'refuse' | 'provisional';

export interface CalendarOptions {
  /** 'refuse' throws for a year without data; 'provisional' assumes Mon–Fri and flags the result. */
  uncovered?: UncoveredPolicy;
}

export interface CalendarDeadline {
  day: string;
  /** 23:59:59.999 of `day` in Asia/Shanghai, as UTC epoch milliseconds. */
  endOfDayMs: number;
  /** True when any day counted fell in a year without calendar data (Mon–Fri was assumed). */
  provisional: boolean;
}

export interface CalendarDataVersion {
  year: number;
  source: CalendarYear['source'];
  version: number;
  noticeNumber: string | undefined;
}

export class CalendarNotCoveredError extends Error {
  constructor(readonly year: number) {
    super(`No working-day calendar data for ${year}: load that year's official holiday arrangement`);
    this.name = 'CalendarNotCoveredError';
  }
}

const DAY_MS = 86_400_000;
// Asia/Shanghai has used UTC+8 with no DST since 1991, so a fixed offset is exact for every supported date.
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;
/** Largest n accepted by the counting methods (about ten years of days). */
export const MAX_DAYS = 3660;
// Upper bound on days visited by any scan, so odd override data can never make a loop run away.
const MAX_SCAN_DAYS = 2 * MAX_DAYS;
const MIN_DAY_NUMBER = Date.UTC(1900, 0, 1) / DAY_MS;
const MAX_DAY_NUMBER = Date.UTC(2999, 11, 31) / DAY_MS;
const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

// Days are integer day numbers since 1970-01-01 (a Shanghai calendar date, not an instant): exact arithmetic.
function checkDayNumber(n: number, what: string): number {
  if (n < MIN_DAY_NUMBER || n > MAX_DAY_NUMBER) throw new RangeError(`${what} is outside 1900–2999`);
  return n;
}

function dayNumberOfInstant(ms: number): number {
  if (!Number.isSafeInteger(ms))
    throw new RangeError(`Instant must be integer epoch milliseconds, got ${ms}`);
  return checkDayNumber(Math.floor((ms + SHANGHAI_OFFSET_MS) / DAY_MS), `Instant ${ms}`);
}

function dayNumberOf(day: string): number {
  const n = DAY_PATTERN.test(day) ? Date.parse(`${day}T00:00:00Z`) / DAY_MS : NaN;
  // The round trip rejects dates such as 2025-02-30 that Date.parse would otherwise roll over.
  if (!Number.isInteger(n) || dayString(n) !== day)
    throw new RangeError(`Invalid day '${day}', expected YYYY-MM-DD`);
  return checkDayNumber(n, `Day ${day}`);
}

function dayString(n: number): string {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

function isWeekend(n: number): boolean {
  const weekday = new Date(n * DAY_MS).getUTCDay();
  return weekday === 0 || weekday === 6;
}

// Options may arrive from untyped configuration, so the policy is checked at run time too.
function checkPolicy(policy: string): UncoveredPolicy {
  if (policy !== 'refuse' && policy !== 'provisional')
    throw new RangeError(`Unknown uncovered policy '${policy}'`);
  return policy;
}

function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > MAX_DAYS) {
    throw new RangeError(`Day count must be an integer from 0 to ${MAX_DAYS}, got ${n}`);
  }
}

function deadline(n: number, provisional: boolean): CalendarDeadline {
  return { day: dayString(n), endOfDayMs: (n + 1) * DAY_MS - SHANGHAI_OFFSET_MS - 1, provisional };
}

/** The Asia/Shanghai calendar day ('YYYY-MM-DD') containing an instant. */
export function shanghaiDayOf(ms: number): string {
  return dayString(dayNumberOfInstant(ms));
}

/** 23:59:59.999 of a Shanghai calendar day, as UTC epoch milliseconds. */
export function endOfShanghaiDayMs(day: string): number {
  return deadline(dayNumberOf(day), false).endOfDayMs;
}

const SOURCES: readonly CalendarYear['source'][] = ['package', 'official', 'local'];

// Admin-loaded data beats the package; then the highest version; then an official notice beats local data.
function rank(y: CalendarYear): [number, number, number] {
  return [y.source === 'package' ? 0 : 1, y.version, y.source === 'official' ? 1 : 0];
}

function compareRank(a: CalendarYear, b: CalendarYear): number {
  const [ra, rb] = [rank(a), rank(b)];
  return ra[0] - rb[0] || ra[1] - rb[1] || ra[2] - rb[2];
}

function validateYear(y: CalendarYear): void {
  const where = `Calendar year ${y.year} (${y.source} v${y.version})`;
  if (!Number.isInteger(y.year) || y.year < 1900 || y.year > 2999) throw new RangeError(`${where}: bad year`);
  if (!SOURCES.includes(y.source)) throw new RangeError(`${where}: unknown source`);
  if (!Number.isSafeInteger(y.version) || y.version < 0) throw new RangeError(`${where}: bad version`);
  for (const day of [...y.holidays, ...y.makeupWorkdays]) {
    dayNumberOf(day);
    if (!day.startsWith(`${y.year}-`)) throw new RangeError(`${where}: ${day} is in another year`);
  }
  for (const day of y.makeupWorkdays) {
    if (!isWeekend(dayNumberOf(day)))
      throw new RangeError(`${where}: make-up workday ${day} is not a weekend`);
    if (y.holidays.includes(day)) throw new RangeError(`${where}: ${day} is both holiday and workday`);
  }
}

interface YearData {
  meta: CalendarYear;
  holidays: ReadonlySet<string>;
  makeupWorkdays: ReadonlySet<string>;
}

interface DayClass {
  working: boolean;
  provisional: boolean;
}

/** Working-day arithmetic for Asia/Shanghai: pure and deterministic, safe inside Temporal workflows. */
export class WorkCalendar {
  private readonly years = new Map<number, YearData>();
  private readonly overrides = new Map<string, LocalOverride>();
  private readonly policy: UncoveredPolicy;

  constructor(
    years: readonly CalendarYear[],
    overrides: readonly LocalOverride[] = [],
    options: CalendarOptions = {},
  ) {
    for (const y of years) {
      validateYear(y);
      const current = this.years.get(y.year)?.meta;
      const order = current ? compareRank(y, current) : 1;
      if (order === 0) throw new RangeError(`Two calendars for ${y.year} with the same source and version`);
      if (order > 0) {
        this.years.set(y.year, {
          meta: y,
          holidays: new Set(y.holidays),
          makeupWorkdays: new Set(y.makeupWorkdays),
        });
      }
    }
    for (const o of overrides) {
      dayNumberOf(o.date);
      if (o.kind !== 'holiday' && o.kind !== 'workday') throw new RangeError(`Override ${o.date}: bad kind`);
      if (this.overrides.get(o.date)?.kind === (o.kind === 'holiday' ? 'workday' : 'holiday')) {
        throw new RangeError(`Conflicting local overrides for ${o.date}`);
      }
      this.overrides.set(o.date, o);
    }
    this.policy = checkPolicy(options.uncovered ?? 'refuse');
  }

  coveredYears(): number[] {
    return [...this.years.keys()].sort((a, b) => a - b);
  }

  isCovered(year: number): boolean {
    return this.years.has(year);
  }

  /** Which data decides a year, so a stored deadline can say what produced it. */
  dataVersionFor(year: number): CalendarDataVersion {
    const meta = this.years.get(year)?.meta;
    if (!meta) throw new CalendarNotCoveredError(year);
    return { year, source: meta.source, version: meta.version, noticeNumber: meta.noticeNumber };
  }

  isWorkingDay(day: string): boolean {
    return this.classify(dayNumberOf(day), 'refuse').working;
  }

  /** The n-th working day after the acceptance day (the Shanghai day of fromMs, which does not count). */
  addWorkingDays(fromMs: number, n: number, options?: CalendarOptions): CalendarDeadline {
    checkCount(n);
    const policy = this.policyOf(options);
    let day = dayNumberOfInstant(fromMs);
    let provisional = false;
    for (let found = 0, scanned = 0; found < n; scanned++) {
      if (scanned >= MAX_SCAN_DAYS)
        throw new RangeError(`Fewer than ${n} working days within ${MAX_SCAN_DAYS} days`);
      const c = this.classify(++day, policy);
      provisional ||= c.provisional;
      if (c.working) found++;
    }
    return deadline(day, provisional);
  }

  /** The end of the n-th calendar day after the acceptance day; holidays play no part. */
  addCalendarDays(fromMs: number, n: number): CalendarDeadline {
    checkCount(n);
    return deadline(checkDayNumber(dayNumberOfInstant(fromMs) + n, 'Result'), false);
  }

  /** The working day n working days before deadlineDay. Always refuses uncovered years: a string cannot carry a flag. */
  subtractWorkingDays(deadlineDay: string, n: number): string {
    checkCount(n);
    let day = dayNumberOf(deadlineDay);
    for (let found = 0, scanned = 0; found < n; scanned++) {
      if (scanned >= MAX_SCAN_DAYS)
        throw new RangeError(`Fewer than ${n} working days within ${MAX_SCAN_DAYS} days`);
      if (this.classify(--day, 'refuse').working) found++;
    }
    return dayString(day);
  }

  /** Working days strictly after the day of fromMs, up to and including the day of toMs (refuses uncovered years). */
  workingDaysBetween(fromMs: number, toMs: number): number {
    const from = dayNumberOfInstant(fromMs);
    const to = dayNumberOfInstant(toMs);
    if (to - from > MAX_SCAN_DAYS) throw new RangeError(`Span longer than ${MAX_SCAN_DAYS} days`);
    let count = 0;
    for (let day = from + 1; day <= to; day++) if (this.classify(day, 'refuse').working) count++;
    return count;
  }

  lastWorkingDayOfMonth(year: number, month: number): string {
    return this.lastWorkingDay(year, month, 'refuse').day;
  }

  /** The monthly dispatch meeting: this month's last working day if still ahead of fromMs's day, else next month's. */
  nextMonthlyMeeting(fromMs: number, options?: CalendarOptions): CalendarDeadline {
    const policy = this.policyOf(options);
    const today = dayNumberOfInstant(fromMs);
    const date = new Date(today * DAY_MS);
    const [year, month] = [date.getUTCFullYear(), date.getUTCMonth() + 1];
    const current = this.lastWorkingDay(year, month, policy);
    if (current.day > dayString(today)) return current;
    return month === 12
      ? this.lastWorkingDay(year + 1, 1, policy)
      : this.lastWorkingDay(year, month + 1, policy);
  }

  private lastWorkingDay(year: number, month: number, policy: UncoveredPolicy): CalendarDeadline {
    if (!Number.isInteger(year) || !Number.isInteger(month) || month < 1 || month > 12) {
      throw new RangeError(`Invalid month ${year}-${month}`);
    }
    const first = checkDayNumber(Date.UTC(year, month - 1, 1) / DAY_MS, `Year ${year}`);
    let provisional = false;
    for (let day = Date.UTC(year, month, 0) / DAY_MS; day >= first; day--) {
      const c = this.classify(day, policy);
      provisional ||= c.provisional;
      if (c.working) return deadline(day, provisional);
    }
    throw new RangeError(`No working day in ${year}-${month}`);
  }

  private policyOf(options: CalendarOptions | undefined): UncoveredPolicy {
    return checkPolicy(options?.uncovered ?? this.policy);
  }

  // Coverage is decided per year first; a local override then decides its own date.
  private classify(n: number, policy: UncoveredPolicy): DayClass {
    const day = dayString(n);
    const data = this.years.get(Number(day.slice(0, 4)));
    if (!data && policy === 'refuse') throw new CalendarNotCoveredError(Number(day.slice(0, 4)));
    const provisional = !data;
    const override = this.overrides.get(day);
    if (override) return { working: override.kind === 'workday', provisional };
    if (data?.holidays.has(day)) return { working: false, provisional };
    if (data?.makeupWorkdays.has(day)) return { working: true, provisional };
    return { working: !isWeekend(n), provisional };
  }
}
