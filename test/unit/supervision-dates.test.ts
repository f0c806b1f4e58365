import { dispatchPeriodsDue } from '../../activities/supervision';
import { buildWorkCalendar } from '../../calendar';
import { supervisionSchedules } from '../../infra/schedules';
import { loadPolicy } from '../../policy/load';
import { SupervisionPolicySchema } from '../../policy/schema';

const calendar = buildWorkCalendar();
const lastWorkingDay = (month: string) =>
  calendar.lastWorkingDayOfMonth(Number(month.slice(0, 4)), Number(month.slice(5, 7)));
const postponed = (month: string, postponedTo: string) => ({ _id: month, postponedTo });

describe('the dispatch days of a month', () => {
  it('are its last working day on the work calendar when nobody postponed the meeting', () => {
    // Act
    const onLastWorkingDay = dispatchPeriodsDue('2026-11-30', ['2026-11'], [], lastWorkingDay);
    const dayBefore = dispatchPeriodsDue('2026-11-27', ['2026-11'], [], lastWorkingDay);

    // Assert
    expect(onLastWorkingDay).toEqual(['2026-11']);
    expect(dayBefore).toEqual([]);
  });

  it('move to the postponed day, also into the next month', () => {
    // Arrange
    const november = postponed('2026-11', '2026-12-02');

    // Act
    const on30November = dispatchPeriodsDue('2026-11-30', ['2026-11'], [november], lastWorkingDay);
    const on2December = dispatchPeriodsDue('2026-12-02', ['2026-12'], [november], lastWorkingDay);
    const on3December = dispatchPeriodsDue('2026-12-03', ['2026-12'], [november], lastWorkingDay);

    // Assert
    expect(on30November).toEqual([]);
    expect(on2December).toEqual(['2026-11']);
    expect(on3December).toEqual([]);
  });

  it('report a month postponed to the next month’s meeting day first, then that month', () => {
    // Arrange
    const november = postponed('2026-11', '2026-12-31');

    // Act
    const due = dispatchPeriodsDue('2026-12-31', ['2026-12'], [november], lastWorkingDay);

    // Assert
    expect(due).toEqual(['2026-11', '2026-12']);
  });

  it('skip a weekend month end: November 2025 meets on Friday the 28th', () => {
    // Act
    const due = dispatchPeriodsDue('2025-11-28', ['2025-11'], [], lastWorkingDay);
    const sunday = dispatchPeriodsDue('2025-11-30', ['2025-11'], [], lastWorkingDay);

    // Assert
    expect(due).toEqual(['2025-11']);
    expect(sunday).toEqual([]);
  });
});

describe('the supervision schedules', () => {
  it('follow the policy’s supervision dates in Asia/Shanghai, the dispatch check every day', () => {
    // Arrange
    const dates = SupervisionPolicySchema.parse({
      dispatch: { hour: 17 },
      adjustment: { dayOfMonth: 6, hour: 8 },
      bulletin: { dayOfMonth: 12, hour: 10 },
      assessment: { month: 2, dayOfMonth: 20, hour: 11 },
    });

    // Act
    const specs = Object.fromEntries(supervisionSchedules('tq', dates).map((s) => [s.kind, s.spec]));

    // Assert
    expect(specs).toEqual({
      MONTHLY_DISPATCH: {
        timezone: 'Asia/Shanghai',
        calendars: [{ hour: 17, minute: 0, comment: expect.any(String) }],
      },
      QUARTERLY_ADJUSTMENT: {
        timezone: 'Asia/Shanghai',
        calendars: [
          {
            month: ['JANUARY', 'APRIL', 'JULY', 'OCTOBER'],
            dayOfMonth: 6,
            hour: 8,
            minute: 0,
            comment: expect.any(String),
          },
        ],
      },
      QUARTERLY_BULLETIN: {
        timezone: 'Asia/Shanghai',
        calendars: [
          {
            month: ['JANUARY', 'APRIL', 'JULY', 'OCTOBER'],
            dayOfMonth: 12,
            hour: 10,
            minute: 0,
            comment: expect.any(String),
          },
        ],
      },
      ANNUAL_ASSESSMENT: {
        timezone: 'Asia/Shanghai',
        calendars: [{ month: 'FEBRUARY', dayOfMonth: 20, hour: 11, minute: 0, comment: expect.any(String) }],
      },
    });
  });

  it('keep today’s days under the default policy: the 5th and 10th of each quarter’s first month, 15 January', () => {
    // Act
    const specs = supervisionSchedules('tq', loadPolicy().supervision).map((s) => s.spec.calendars?.[0]);

    // Assert
    expect(specs).toEqual([
      expect.objectContaining({ hour: 16, minute: 0 }),
      expect.objectContaining({ dayOfMonth: 5, hour: 9 }),
      expect.objectContaining({ dayOfMonth: 10, hour: 9 }),
      expect.objectContaining({ month: 'JANUARY', dayOfMonth: 15, hour: 9 }),
    ]);
  });
});
