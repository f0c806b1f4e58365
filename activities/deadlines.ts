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

function describe(rule: DeadlineRule, extra: number): string {
  const base =
    'untilDay' in rule
      ? `${rule.untilDay} 前（遇节假日顺延）`
      : 'workingDays' in rule
        ? `${rule.workingDays} 个工作日`
        : 'calendarDays' in rule
          ? `${rule.calendarDays} 个自然日`
          : 'seconds' in rule
            ? `${rule.seconds} 秒`
            : '下次月度联席会议';
  return extra > 0 ? `${base}，顺延 ${extra}` : base;
}

/** Computes absolute instants for one task: deadline, reminders and escalation steps. */
export function computeSchedule(
  cal: WorkCalendar,
  calendarVersion: string,
  r: ScheduleRequest,
): ScheduleResult {
  const provisional = { value: false };
  const opts = { uncovered: r.uncovered };
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
    const res = cal.nextMonthlyMeeting(fromMs, opts);
    provisional.value ||= res.provisional;
    return res.endOfDayMs;
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
    const escalations = r.escalation.map((e) => ({ level: e.level, at: add(dueAt, e.after) }));
    return {
      taskId: r.taskId,
      ok: true,
      deadline: {
        dueAt,
        dueDay,
        provisional: provisional.value,
        basis: describe(r.rule, extra),
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
      return requests.map((r) => computeSchedule(calendar, version, r));
    },
  };
}
