import {
  buildWorkCalendar,
  CalendarNotCoveredError,
  endOfShanghaiDayMs,
  shanghaiDayOf,
  type WorkCalendar,
} from '../calendar';
import type { CalendarModels } from '../db/calendar-models';
import type { DeadlineRule, ScheduleRequest, ScheduleResult } from '../domain/time';

const DAY_MS = 86_400_000;

export interface DeadlineDeps {
  calendarModels: CalendarModels;
  /** How long a loaded calendar is reused before Mongo is read again. */
  cacheMs?: number;
}

/** Loads the package calendar plus every administrator-loaded year (latest version) and local overrides. */
export async function loadWorkCalendar(
  models: CalendarModels,
): Promise<{ calendar: WorkCalendar; version: string }> {
  const [years, overrides] = await Promise.all([
    models.CalendarYear.find().lean(),
    models.CalendarOverrides.findById('local').lean(),
  ]);
  const loaded = years.flatMap((y) => y.versions.slice(-1));
  const version = [
    'pkg',
    ...loaded.map((y) => `${y.year}v${y.version}`),
    `ov${overrides?.version ?? 0}`,
  ].join('+');
  return { calendar: buildWorkCalendar(loaded, overrides?.overrides ?? []), version };
}

function unitOf(rule: DeadlineRule): 'workingDays' | 'calendarDays' | 'seconds' {
  if ('seconds' in rule) return 'seconds';
  if ('calendarDays' in rule) return 'calendarDays';
  return 'workingDays';
}

/**
 * Joint meetings moved from their scheduled day (顺延), by month (YYYY-MM → YYYY-MM-DD). Read fresh for each batch
 * that holds a tier-3 review, never from the calendar cache: a postponement must move deadlines at once.
 */
export type MovedMeetings = ReadonlyMap<string, string>;

/** `YYYY-MM` shifted by `k` months. */
export function addMonths(month: string, k: number): string {
  const n = Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7)) - 1 + k;
  return `${Math.floor(n / 12)}-${String((n % 12) + 1).padStart(2, '0')}`;
}

/** The months whose meeting can be the next one after `fromMs`: the month before (moved into this one) to two ahead. */
export function meetingMonthsAround(fromMs: number): string[] {
  const month = shanghaiDayOf(fromMs).slice(0, 7);
  return [-1, 0, 1, 2].map((k) => addMonths(month, k));
}

/** The postponed meetings among `months`; a meeting held on its scheduled day is not listed. */
export async function loadMovedMeetings(
  models: CalendarModels,
  months: Iterable<string>,
): Promise<Map<string, string>> {
  const ids = [...new Set(months)];
  if (ids.length === 0) return new Map();
  const docs = await models.JointMeeting.find({ _id: { $in: ids } }, { date: 1, scheduledOn: 1 }).lean();
  return new Map(docs.filter((d) => d.date !== d.scheduledOn).map((d) => [d._id, d.date]));
}

function describe(rule: DeadlineRule, extra: number, movedTo?: string): string {
  const base =
    'untilDay' in rule
      ? `${rule.untilDay} 前（遇节假日顺延）`
      : 'workingDays' in rule
        ? `${rule.workingDays} 个工作日`
        : 'calendarDays' in rule
          ? `${rule.calendarDays} 个自然日`
          : 'seconds' in rule
            ? `${rule.seconds} 秒`
            : movedTo
              ? `下次月度联席会议（顺延至 ${movedTo}）`
              : '下次月度联席会议';
  return extra > 0 ? `${base}，顺延 ${extra}` : base;
}

/**
 * Computes absolute instants for one task: deadline, reminders and escalation steps. A monthly-meeting rule
 * waits for the next joint meeting after the task opened, on the day it is held: `moved` names the postponed ones.
 */
export function computeSchedule(
  cal: WorkCalendar,
  calendarVersion: string,
  r: ScheduleRequest,
  moved: MovedMeetings = new Map(),
): ScheduleResult {
  const provisional = { value: false };
  const opts = { uncovered: r.uncovered };
  let movedTo: string | undefined;
  const add = (fromMs: number, d: DeadlineRule): number => {
    if ('untilDay' in d) {
      let day = d.untilDay;
      for (let guard = 0; d.rollToWorkingDay && !isWorking(day); guard++) {
        if (guard > 60) throw new RangeError(`no working day within 60 days after ${d.untilDay}`);
        day = shanghaiDayOf(endOfShanghaiDayMs(day) + 1);
      }
      return endOfShanghaiDayMs(day);
    }
    if ('seconds' in d) return fromMs + d.seconds * 1000;
    if ('calendarDays' in d) return cal.addCalendarDays(fromMs, d.calendarDays).endOfDayMs;
    if ('workingDays' in d) {
      const res = cal.addWorkingDays(fromMs, d.workingDays, opts);
      provisional.value ||= res.provisional;
      return res.endOfDayMs;
    }
    return nextMeeting(fromMs);
  };
  // A month's last working day, and whether an uncovered year (Mon–Fri assumed) decided it.
  const lastWorkingDayOf = (month: string): { day: string; provisional: boolean } => {
    const before = provisional.value;
    provisional.value = false;
    try {
      let day = shanghaiDayOf(endOfShanghaiDayMs(`${addMonths(month, 1)}-01`) - DAY_MS);
      for (let guard = 0; !isWorking(day); guard++) {
        if (guard > 31) throw new RangeError(`no working day in ${month}`);
        day = shanghaiDayOf(endOfShanghaiDayMs(day) - DAY_MS);
      }
      return { day, provisional: provisional.value };
    } finally {
      provisional.value = before;
    }
  };
  const nextMeeting = (fromMs: number): number => {
    const months = meetingMonthsAround(fromMs);
    if (!months.some((m) => moved.has(m))) {
      const res = cal.nextMonthlyMeeting(fromMs, opts);
      provisional.value ||= res.provisional;
      return res.endOfDayMs;
    }
    const today = shanghaiDayOf(fromMs);
    const [previous, ...ahead] = months as [string, ...string[]];
    // Last month's meeting may have been postponed past today; this month's and later ones are held on their
    // own day unless moved. An unmoved meeting ahead ends the search: every later one is later still.
    const candidates: { day: string; moved: boolean; provisional: boolean }[] = [];
    const earlier = moved.get(previous);
    if (earlier !== undefined && earlier > today)
      candidates.push({ day: earlier, moved: true, provisional: false });
    for (const month of ahead) {
      const movedDay = moved.get(month);
      let c: (typeof candidates)[number];
      try {
        c = movedDay
          ? { day: movedDay, moved: true, provisional: false }
          : { ...lastWorkingDayOf(month), moved: false };
      } catch (err) {
        // A month of a year without data ends its working days after the 15th (no holiday, not even 春节, takes a
        // fortnight): a meeting found by then comes first, and needs no data of that year.
        if (err instanceof CalendarNotCoveredError && candidates.some((x) => x.day <= `${month}-15`)) break;
        throw err;
      }
      if (c.day <= today) continue;
      candidates.push(c);
      if (!c.moved) break;
    }
    const next = candidates.sort((a, b) => a.day.localeCompare(b.day))[0];
    if (!next) throw new RangeError(`no joint meeting after ${today}`);
    provisional.value ||= next.provisional;
    if (next.moved) movedTo = next.day;
    return endOfShanghaiDayMs(next.day);
  };
  // Reminders step back over working days; an uncovered year under 'provisional' counts Mon–Fri, flagged.
  const isWorking = (day: string): boolean => {
    try {
      return cal.isWorkingDay(day);
    } catch (err) {
      if (!(err instanceof CalendarNotCoveredError) || r.uncovered !== 'provisional') throw err;
      provisional.value = true;
      const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
      return weekday !== 0 && weekday !== 6;
    }
  };
  const workingDaysBefore = (day: string, n: number): string => {
    let d = day;
    for (let left = n, guard = 0; left > 0; guard++) {
      if (guard > 3 * 3660) throw new RangeError('reminder offset too large');
      d = shanghaiDayOf(endOfShanghaiDayMs(d) - DAY_MS);
      if (isWorking(d)) left--;
    }
    return d;
  };
  try {
    const unit = unitOf(r.rule);
    // Paused time counts in the rule's own unit; a monthly-meeting rule shifts by working days.
    const paused = r.pauses.reduce((n, p) => {
      if (unit === 'seconds') return n + Math.ceil((p.to - p.from) / 1000);
      if (unit === 'calendarDays') return n + Math.floor((p.to - p.from) / DAY_MS);
      return n + cal.workingDaysBetween(p.from, p.to);
    }, 0);
    const extra = r.extensionUnits + paused;
    let dueAt = add(r.openedAt, r.rule);
    if (extra > 0)
      dueAt = add(
        dueAt,
        unit === 'seconds'
          ? { seconds: extra }
          : unit === 'calendarDays'
            ? { calendarDays: extra }
            : { workingDays: extra },
      );
    const dueDay = shanghaiDayOf(dueAt);
    const reminders = r.reminders.map((d) => {
      if ('seconds' in d) return dueAt - d.seconds * 1000;
      const day =
        'calendarDays' in d
          ? shanghaiDayOf(endOfShanghaiDayMs(dueDay) - d.calendarDays * DAY_MS)
          : 'workingDays' in d
            ? workingDaysBefore(dueDay, d.workingDays)
            : dueDay;
      return endOfShanghaiDayMs(day) + 1 - DAY_MS + r.remindAtHour * 3_600_000;
    });
    // The due day's flag covers the due day and its reminders only: escalation steps past it may reach a year
    // without data (every task opened in December) while the due day itself is certain.
    const dueProvisional = provisional.value;
    // Under 'refuse' the ladder stops at the first step in a year without data (the later ones are later still):
    // the due day and its reminders stand, and the administrators are told the rest waits for the data.
    const escalations: { level: number; at: number }[] = [];
    let escalationsRefused = false;
    for (const e of r.escalation) {
      try {
        escalations.push({ level: e.level, at: add(dueAt, e.after) });
      } catch (err) {
        if (!(err instanceof CalendarNotCoveredError)) throw err;
        escalationsRefused = true;
        break;
      }
    }
    return {
      taskId: r.taskId,
      ok: true,
      deadline: {
        dueAt,
        dueDay,
        provisional: dueProvisional,
        ...(provisional.value && !dueProvisional ? { escalationsProvisional: true } : {}),
        ...(escalationsRefused ? { escalationsRefused: true } : {}),
        basis: describe(r.rule, extra, movedTo),
        calendarVersion,
      },
      reminders,
      escalations,
    };
  } catch (err) {
    if (err instanceof CalendarNotCoveredError) {
      return { taskId: r.taskId, ok: false, reason: `${err.year} 年节假日安排未加载，拒绝计算工作日期限` };
    }
    throw err;
  }
}

export function createDeadlineActivities(deps: DeadlineDeps) {
  let cached: { at: number; value: Awaited<ReturnType<typeof loadWorkCalendar>> } | undefined;
  const cacheMs = deps.cacheMs ?? 60_000;
  return {
    /** Deadlines are computed here, not in the workflow: holiday data changes, workflow code must not. */
    async scheduleTaskDeadlines(requests: ScheduleRequest[]): Promise<ScheduleResult[]> {
      if (!cached || Date.now() - cached.at > cacheMs)
        cached = { at: Date.now(), value: await loadWorkCalendar(deps.calendarModels) };
      const { calendar, version } = cached.value;
      const meetingRules = requests.filter((r) => 'nextMonthlyMeeting' in r.rule);
      const moved =
        meetingRules.length > 0
          ? await loadMovedMeetings(
              deps.calendarModels,
              meetingRules.flatMap((r) => meetingMonthsAround(r.openedAt)),
            )
          : undefined;
      return requests.map((r) => computeSchedule(calendar, version, r, moved));
    },
  };
}
