import { buildWorkCalendar, endOfShanghaiDayMs, shanghaiDayOf } from '../../calendar';
import { packageCalendarYears } from '../../calendar/calendar-data';
import { computeSchedule } from '../../activities/deadlines';
import { deadlineRuleFor, type ScheduleRequest } from '../../domain/time';
import { loadPolicy } from '../../policy/load';
import { projectDetails } from '../support/fixtures';

const cal = buildWorkCalendar();
const policy = loadPolicy();
// 2025-09-26 10:00 Asia/Shanghai
const accepted = Date.parse('2025-09-26T02:00:00Z');

function request(over: Partial<ScheduleRequest> = {}): ScheduleRequest {
  return {
    taskId: 't',
    openedAt: accepted,
    rule: { workingDays: 20 },
    extensionUnits: 0,
    pauses: [],
    remindAtHour: 9,
    reminders: [{ workingDays: 3 }, { workingDays: 1 }, { workingDays: 0 }],
    escalation: [
      { level: 1, after: { workingDays: 1 } },
      { level: 2, after: { workingDays: 3 } },
    ],
    uncovered: 'refuse',
    ...over,
  };
}

function ok(r: ReturnType<typeof computeSchedule>) {
  if (!r.ok) throw new Error(r.reason);
  return r;
}

const at9 = (day: string) => endOfShanghaiDayMs(day) + 1 - 86_400_000 + 9 * 3_600_000;

test('20 working days after 2025-09-26 end on 2025-10-30 at the end of the day in Shanghai', () => {
  const r = ok(computeSchedule(cal, 'v', request()));
  expect(r.deadline.dueDay).toBe('2025-10-30');
  expect(new Date(r.deadline.dueAt).toISOString()).toBe('2025-10-30T15:59:59.999Z');
  expect(r.deadline.provisional).toBe(false);
});

test('reminders fall 3 and 1 working days before and on the day, at the reminder hour', () => {
  const r = ok(computeSchedule(cal, 'v', request()));
  expect(r.reminders).toEqual([at9('2025-10-27'), at9('2025-10-29'), at9('2025-10-30')]);
});

test('escalations fall at the end of the first and third working day overdue', () => {
  const r = ok(computeSchedule(cal, 'v', request()));
  expect(r.escalations.map((e) => shanghaiDayOf(e.at))).toEqual(['2025-10-31', '2025-11-04']);
});

test('a pause shifts the deadline by the paused working days; an extension by its units', () => {
  const pauseFrom = Date.parse('2025-10-14T02:00:00Z'); // Tuesday
  const pauseTo = Date.parse('2025-10-17T02:00:00Z'); // Friday: 3 working days later
  const paused = ok(computeSchedule(cal, 'v', request({ pauses: [{ from: pauseFrom, to: pauseTo }] })));
  expect(paused.deadline.dueDay).toBe('2025-11-04');
  const extended = ok(computeSchedule(cal, 'v', request({ extensionUnits: 5 })));
  expect(extended.deadline.dueDay).toBe('2025-11-06');
});

test('7 working days after 2026-02-12 is the make-up Saturday 2026-02-28', () => {
  const r = ok(
    computeSchedule(
      cal,
      'v',
      request({ openedAt: Date.parse('2026-02-12T02:00:00Z'), rule: { workingDays: 7 } }),
    ),
  );
  expect(r.deadline.dueDay).toBe('2026-02-28');
});

test('a deadline in a year without holiday data is refused, or marked provisional, never silently Mon–Fri', () => {
  const late = Date.parse('2026-12-20T02:00:00Z');
  const refused = computeSchedule(cal, 'v', request({ openedAt: late }));
  expect(refused.ok).toBe(false);
  const provisional = ok(computeSchedule(cal, 'v', request({ openedAt: late, uncovered: 'provisional' })));
  expect(provisional.deadline.provisional).toBe(true);
});

test('a due day in a covered year stands even when an escalation step falls in the next, uncovered year', () => {
  // Every task opened in December of the last year with data: the due day is known, the ladder past it is not.
  const lastCovered = Math.max(...packageCalendarYears().map((y) => y.year));
  const december = (over: Partial<ScheduleRequest>) =>
    ok(
      computeSchedule(
        cal,
        'v',
        request({
          openedAt: Date.parse(`${lastCovered}-12-01T02:00:00Z`),
          rule: { workingDays: 5 },
          ...over,
        }),
      ),
    );
  const r = december({ escalation: [{ level: 1, after: { workingDays: 40 } }], uncovered: 'provisional' });
  expect(r.deadline.dueDay.startsWith(`${lastCovered}-12-`)).toBe(true);
  expect(r.deadline.provisional).toBe(false);
  expect(r.deadline.escalationsProvisional).toBe(true);
  expect(shanghaiDayOf(r.escalations[0]!.at) > `${lastCovered}-12-31`).toBe(true);
  // Under 'refuse' the due day and reminders stand; the ladder stops before the first step it cannot count.
  const refusing = december({
    escalation: [
      { level: 1, after: { workingDays: 1 } },
      { level: 2, after: { workingDays: 40 } },
      { level: 3, after: { workingDays: 41 } },
    ],
    uncovered: 'refuse',
  });
  expect(refusing.deadline).toMatchObject({
    dueDay: r.deadline.dueDay,
    provisional: false,
    escalationsRefused: true,
  });
  expect(refusing.reminders).toHaveLength(3);
  expect(refusing.escalations.map((e) => e.level)).toEqual([1]);
  // Without such a step nothing is flagged.
  const certain = december({ escalation: [], uncovered: 'provisional' });
  expect(certain.deadline).not.toHaveProperty('escalationsProvisional');
  expect(certain.deadline).not.toHaveProperty('escalationsRefused');
});

test('the comprehensive review is due at the next monthly joint meeting (last working day of the month)', () => {
  const r = ok(computeSchedule(cal, 'v', request({ rule: { nextMonthlyMeeting: true } })));
  expect(r.deadline.dueDay).toBe('2025-09-30');
});

test('a postponed joint meeting moves the comprehensive review’s deadline to the day it is held', () => {
  // Arrange: the October 2025 meeting (scheduled Friday 2025-10-31) is postponed to Tuesday 2025-11-04.
  const moved = new Map([['2025-10', '2025-11-04']]);
  const meeting = (opened: string) =>
    ok(
      computeSchedule(
        cal,
        'v',
        request({ rule: { nextMonthlyMeeting: true }, openedAt: Date.parse(`${opened}T02:00:00Z`) }),
        moved,
      ),
    );

  // Act
  const openedBefore = meeting('2025-10-20');
  const openedAfterScheduledDay = meeting('2025-11-01');
  const openedAfterMeeting = meeting('2025-11-05');
  const unmoved = ok(
    computeSchedule(
      cal,
      'v',
      request({ rule: { nextMonthlyMeeting: true }, openedAt: Date.parse('2025-10-20T02:00:00Z') }),
    ),
  );

  // Assert
  expect(openedBefore.deadline.dueDay).toBe('2025-11-04');
  expect(openedBefore.deadline.basis).toBe('下次月度联席会议（顺延至 2025-11-04）');
  expect(openedAfterScheduledDay.deadline.dueDay).toBe('2025-11-04');
  expect(openedAfterMeeting.deadline.dueDay).toBe('2025-11-28');
  expect(openedAfterMeeting.deadline.basis).toBe('下次月度联席会议');
  expect(unmoved.deadline.dueDay).toBe('2025-10-31');
});

test('a meeting postponed into a year without holiday data is due that day, neither refused nor provisional', () => {
  // Arrange: the December 2026 meeting moves to 2027-01-05; 2027 has no calendar data in the package.
  const moved = new Map([['2026-12', '2027-01-05']]);
  const opened = Date.parse('2026-12-10T02:00:00Z');
  const rule = { nextMonthlyMeeting: true } as const;

  // Act
  const refusing = ok(
    computeSchedule(cal, 'v', request({ rule, openedAt: opened, reminders: [], escalation: [] }), moved),
  );
  const lenient = ok(
    computeSchedule(
      cal,
      'v',
      request({ rule, openedAt: opened, reminders: [], escalation: [], uncovered: 'provisional' }),
      moved,
    ),
  );

  // Assert
  expect(refusing.deadline).toMatchObject({ dueDay: '2027-01-05', provisional: false });
  expect(lenient.deadline).toMatchObject({ dueDay: '2027-01-05', provisional: false });
});

test('postponing a later month’s meeting leaves a review due at this month’s meeting where it was', () => {
  const r = ok(
    computeSchedule(
      cal,
      'v',
      request({ rule: { nextMonthlyMeeting: true } }),
      new Map([['2025-10', '2025-11-04']]),
    ),
  );
  expect(r.deadline.dueDay).toBe('2025-09-30');
});

test('the green channel halves a major project’s internal deadlines (rounded up)', () => {
  const task = { kind: 'APPROVAL_MATTER' as const, key: 'M-FEASIBILITY_APPROVAL', tier: undefined };
  expect(deadlineRuleFor(policy, task, projectDetails())).toEqual({ workingDays: 20 });
  const major = projectDetails({ flags: { ...projectDetails().flags, major: true } });
  expect(deadlineRuleFor(policy, task, major)).toEqual({ workingDays: 10 });
  expect(
    deadlineRuleFor(policy, { kind: 'STEP', key: 'S-CONSTRUCTION_PERMIT', tier: undefined }, major),
  ).toEqual({ workingDays: 4 });
  expect(deadlineRuleFor(policy, { kind: 'REVIEW', key: 'R1-T3', tier: 3 }, major)).toEqual({
    nextMonthlyMeeting: true,
  });
});
