import {
  buildWorkCalendar,
  CalendarNotCoveredError,
  endOfShanghaiDayMs,
  packageCalendarYears,
  shanghaiDayOf,
  WorkCalendar,
  type CalendarYear,
} from '../../calendar';

/** Noon in Shanghai on a given day, as epoch ms. */
const noon = (day: string): number => Date.parse(`${day}T12:00:00+08:00`);

const official2027: CalendarYear = {
  year: 2027,
  holidays: ['2027-01-01', '2027-01-02', '2027-01-03'],
  makeupWorkdays: [],
  noticeNumber: '国办发明电〔2026〕1号',
  source: 'official',
  version: 1,
};

const calendar = buildWorkCalendar();

describe('package data', () => {
  it('covers exactly the years present in the raw data, 2004 to 2026, and not 2027', () => {
    const years = packageCalendarYears().map((y) => y.year);
    expect(years).toEqual(Array.from({ length: 23 }, (_, i) => 2004 + i));
    expect(calendar.coveredYears()).toEqual(years);
    expect(calendar.isCovered(2027)).toBe(false);
  });

  it('records which data decided a year', () => {
    expect(calendar.dataVersionFor(2025)).toEqual({
      year: 2025,
      source: 'package',
      version: 1,
      noticeNumber: undefined,
    });
    expect(() => calendar.dataVersionFor(2027)).toThrow(CalendarNotCoveredError);
  });
});

describe('isWorkingDay', () => {
  it('treats the Sunday make-up day 2025-09-28 as a working day', () => {
    expect(calendar.isWorkingDay('2025-09-28')).toBe(true);
  });

  it('treats every day of the 2025 National Day and Mid-Autumn break as a day off', () => {
    for (let d = 1; d <= 8; d++) expect(calendar.isWorkingDay(`2025-10-0${d}`)).toBe(false);
    expect(calendar.isWorkingDay('2025-10-09')).toBe(true);
    expect(calendar.isWorkingDay('2025-10-11')).toBe(true);
  });

  it('knows the 2026 Spring Festival: 02-15 to 02-23 off, Saturdays 02-14 and 02-28 worked', () => {
    for (let d = 15; d <= 23; d++) expect(calendar.isWorkingDay(`2026-02-${d}`)).toBe(false);
    expect(calendar.isWorkingDay('2026-02-14')).toBe(true);
    expect(calendar.isWorkingDay('2026-02-24')).toBe(true);
    expect(calendar.isWorkingDay('2026-02-28')).toBe(true);
  });

  it('counts 248 working days in each of 2025 and 2026', () => {
    expect(calendar.workingDaysBetween(noon('2024-12-31'), noon('2025-12-31'))).toBe(248);
    expect(calendar.workingDaysBetween(noon('2025-12-31'), noon('2026-12-31'))).toBe(248);
  });
});

describe('addWorkingDays', () => {
  it('gives 2025-10-30 for 20 working days after 2025-09-26, ending at 23:59:59.999 Shanghai time', () => {
    expect(calendar.addWorkingDays(noon('2025-09-26'), 20)).toEqual({
      day: '2025-10-30',
      endOfDayMs: Date.parse('2025-10-30T23:59:59.999+08:00'),
      provisional: false,
    });
  });

  it('gives the Saturday make-up day 2026-02-28 for 7 working days after 2026-02-12', () => {
    expect(calendar.addWorkingDays(noon('2026-02-12'), 7).day).toBe('2026-02-28');
  });

  it('takes the acceptance day in Shanghai time, not UTC', () => {
    expect(calendar.addWorkingDays(Date.parse('2025-09-25T15:30:00Z'), 20).day).toBe('2025-10-29');
    expect(calendar.addWorkingDays(Date.parse('2025-09-25T16:30:00Z'), 20).day).toBe('2025-10-30');
    expect(shanghaiDayOf(Date.parse('2025-09-25T16:00:00Z'))).toBe('2025-09-26');
    expect(endOfShanghaiDayMs('2025-09-26')).toBe(Date.parse('2025-09-26T15:59:59.999Z'));
  });

  it('returns the acceptance day itself for zero working days', () => {
    expect(calendar.addWorkingDays(noon('2025-10-04'), 0).day).toBe('2025-10-04');
  });
});

describe('uncovered years', () => {
  it('refuses to count into 2027 by default, naming the year', () => {
    expect(() => calendar.addWorkingDays(noon('2026-12-30'), 3)).toThrow(CalendarNotCoveredError);
    let thrown: unknown;
    try {
      calendar.isWorkingDay('2027-03-01');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CalendarNotCoveredError);
    expect(thrown).toMatchObject({ year: 2027 });
    expect(() => calendar.subtractWorkingDays('2027-01-05', 3)).toThrow(CalendarNotCoveredError);
  });

  it('counts Mon–Fri into 2027 when asked for provisional results, and says so', () => {
    expect(calendar.addWorkingDays(noon('2026-12-30'), 3, { uncovered: 'provisional' })).toMatchObject({
      day: '2027-01-04',
      provisional: true,
    });
    const lenient = buildWorkCalendar([], [], { uncovered: 'provisional' });
    expect(lenient.nextMonthlyMeeting(noon('2026-12-31'))).toMatchObject({
      day: '2027-01-29',
      provisional: true,
    });
    expect(lenient.addWorkingDays(noon('2025-09-26'), 20).provisional).toBe(false);
  });

  it('covers 2027 once an official arrangement is loaded, and its holidays count', () => {
    const loaded = buildWorkCalendar([official2027]);
    expect(loaded.addWorkingDays(noon('2026-12-30'), 3)).toMatchObject({
      day: '2027-01-05',
      provisional: false,
    });
    expect(loaded.isWorkingDay('2027-01-01')).toBe(false);
    expect(loaded.dataVersionFor(2027)).toEqual({
      year: 2027,
      source: 'official',
      version: 1,
      noticeNumber: '国办发明电〔2026〕1号',
    });
  });

  it('lets an admin-loaded year replace the package year, and the highest version win', () => {
    const v1: CalendarYear = { ...official2027, year: 2026, holidays: ['2026-03-02'], version: 1 };
    const v2: CalendarYear = { ...v1, holidays: ['2026-03-03'], version: 2 };
    const replaced = buildWorkCalendar([v2, v1]);
    expect(replaced.isWorkingDay('2026-02-16')).toBe(true);
    expect(replaced.isWorkingDay('2026-03-02')).toBe(true);
    expect(replaced.isWorkingDay('2026-03-03')).toBe(false);
    expect(replaced.dataVersionFor(2026)).toMatchObject({ source: 'official', version: 2 });
  });
});

describe('subtractWorkingDays', () => {
  it('steps back over the National Day break onto the Sunday make-up day', () => {
    expect(calendar.subtractWorkingDays('2025-10-09', 1)).toBe('2025-09-30');
    expect(calendar.subtractWorkingDays('2025-10-09', 3)).toBe('2025-09-28');
    expect(calendar.subtractWorkingDays('2025-10-09', 0)).toBe('2025-10-09');
  });
});

describe('workingDaysBetween', () => {
  it('counts only working days across the National Day break', () => {
    expect(calendar.workingDaysBetween(noon('2025-09-30'), noon('2025-10-10'))).toBe(2);
    expect(calendar.workingDaysBetween(noon('2025-09-26'), noon('2025-10-11'))).toBe(6);
  });

  it('is zero on the same day or when the end is before the start', () => {
    expect(calendar.workingDaysBetween(noon('2025-10-10'), Date.parse('2025-10-10T23:00:00+08:00'))).toBe(0);
    expect(calendar.workingDaysBetween(noon('2025-10-20'), noon('2025-10-10'))).toBe(0);
  });
});

describe('calendar days and monthly meetings', () => {
  it('adds calendar days regardless of holidays', () => {
    expect(calendar.addCalendarDays(noon('2025-09-30'), 5)).toEqual({
      day: '2025-10-05',
      endOfDayMs: Date.parse('2025-10-05T23:59:59.999+08:00'),
      provisional: false,
    });
  });

  it('finds the last working day when the month ends on a weekend or holiday', () => {
    expect(calendar.lastWorkingDayOfMonth(2025, 8)).toBe('2025-08-29');
    expect(calendar.lastWorkingDayOfMonth(2025, 5)).toBe('2025-05-30');
  });

  it('finds a Saturday make-up day as the last working day of the month', () => {
    expect(calendar.lastWorkingDayOfMonth(2026, 2)).toBe('2026-02-28');
  });

  it('schedules the monthly meeting this month only while it is still ahead', () => {
    expect(calendar.nextMonthlyMeeting(noon('2025-09-29')).day).toBe('2025-09-30');
    expect(calendar.nextMonthlyMeeting(noon('2025-09-30')).day).toBe('2025-10-31');
    expect(calendar.nextMonthlyMeeting(noon('2025-12-31')).day).toBe('2026-01-30');
    expect(() => calendar.nextMonthlyMeeting(noon('2026-12-31'))).toThrow(CalendarNotCoveredError);
  });
});

describe('local overrides', () => {
  it('turns a working day into a holiday', () => {
    const local = buildWorkCalendar(
      [],
      [{ date: '2025-10-30', kind: 'holiday', reason: 'city-wide emergency drill' }],
    );
    expect(local.isWorkingDay('2025-10-30')).toBe(false);
    expect(local.addWorkingDays(noon('2025-09-26'), 20).day).toBe('2025-10-31');
  });

  it('turns a weekend day into a working day', () => {
    const local = buildWorkCalendar(
      [],
      [{ date: '2025-10-12', kind: 'workday', reason: 'city make-up day' }],
    );
    expect(local.isWorkingDay('2025-10-12')).toBe(true);
    expect(local.workingDaysBetween(noon('2025-10-10'), noon('2025-10-13'))).toBe(3);
    expect(local.addWorkingDays(noon('2025-09-26'), 20).day).toBe('2025-10-29');
  });
});

describe('input validation', () => {
  it('rejects counts that are negative, fractional, not numbers or too large', () => {
    for (const n of [-1, 1.5, Number.NaN, 3661]) {
      expect(() => calendar.addWorkingDays(noon('2025-09-26'), n)).toThrow(RangeError);
    }
    expect(() => calendar.subtractWorkingDays('2025-10-09', -2)).toThrow(RangeError);
    expect(() => calendar.addCalendarDays(noon('2025-09-26'), 0.5)).toThrow(RangeError);
  });

  it('rejects malformed days, instants, months and policies', () => {
    for (const day of ['2025-02-30', '2025-9-1', '', '2025-10-01T00:00']) {
      expect(() => calendar.isWorkingDay(day)).toThrow(RangeError);
    }
    expect(() => calendar.addWorkingDays(Number.NaN, 1)).toThrow(RangeError);
    expect(() => calendar.workingDaysBetween(1.5, noon('2025-01-01'))).toThrow(RangeError);
    expect(() => calendar.lastWorkingDayOfMonth(2025, 13)).toThrow(RangeError);
    expect(() => buildWorkCalendar([], [], { uncovered: 'lenient' as 'refuse' })).toThrow(RangeError);
  });

  it('rejects inconsistent calendar data', () => {
    const weekdayMakeup = { ...official2027, makeupWorkdays: ['2027-01-04'] };
    expect(() => new WorkCalendar([weekdayMakeup])).toThrow(/not a weekend/);
    expect(() => new WorkCalendar([official2027, { ...official2027 }])).toThrow(RangeError);
    expect(() => new WorkCalendar([{ ...official2027, holidays: ['2026-12-31'] }])).toThrow(/another year/);
    const clash = [
      { date: '2025-10-12', kind: 'workday' as const, reason: 'a' },
      { date: '2025-10-12', kind: 'holiday' as const, reason: 'b' },
    ];
    expect(() => new WorkCalendar([], clash)).toThrow(/Conflicting/);
  });
});
