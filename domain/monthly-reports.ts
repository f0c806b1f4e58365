/**
 * The monthly progress report as an obligation (annex 2: 建设单位…定期报送进度; annex 1, 通报考核制度): every project
 * in 前期 or 实施 owes, for each month, a report due on the policy's day of the following month
 * (`implementation.monthlyReportDueDay`, a day the seed does not fix), as a REPORT task with the same clock as
 * every other task. The obligation starts with the month in which the project enters 前期 (or is onboarded), so
 * a project onboarded mid-month owes its first report in the next month.
 *
 * Test policies may set `monthlyReportCycleSeconds`: each "month" then lasts that many seconds from the start of
 * the obligation, and periods are still labelled YYYY-MM in order.
 */
import type { Policy } from '../policy/schema';
import { recordEvent } from './events';
import { newOpenTask } from './task-ops';
import type { Stage } from './project';
import type { ProjectState, Task } from './state';

const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

/** Stages whose projects owe a monthly report. */
export const REPORTING_STAGES: readonly Stage[] = ['PRE_CONSTRUCTION', 'UNDER_CONSTRUCTION', 'SUSPENDED'];

export interface ReportObligation {
  /** The first period owed (YYYY-MM). */
  firstPeriod: string;
  /** When the obligation started (epoch ms). */
  startedAt: number;
  /** The next period whose task has not been opened yet. */
  nextPeriod: string;
}

export const REPORT_TASK_PREFIX = 'REPORT-';

export function reportTaskKey(period: string): string {
  return `${REPORT_TASK_PREFIX}${period}`;
}

export function periodOfTaskKey(key: string): string | undefined {
  return key.startsWith(REPORT_TASK_PREFIX) ? key.slice(REPORT_TASK_PREFIX.length) : undefined;
}

/** The month (YYYY-MM) an instant falls in, in Asia/Shanghai. */
export function shanghaiPeriodOf(ms: number): string {
  return new Date(ms + SHANGHAI_OFFSET_MS).toISOString().slice(0, 7);
}

export function addMonths(period: string, n: number): string {
  const [y, m] = period.split('-').map(Number) as [number, number];
  const index = y * 12 + (m - 1) + n;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

export function monthsBetween(from: string, to: string): number {
  const [fy, fm] = from.split('-').map(Number) as [number, number];
  const [ty, tm] = to.split('-').map(Number) as [number, number];
  return ty * 12 + tm - (fy * 12 + fm);
}

export function periodLabel(period: string): string {
  const [y, m] = period.split('-');
  return `${y}年${Number(m)}月`;
}

/** Starts owing monthly reports from the current month, once. */
export function startReportObligation(s: ProjectState, policy: Policy, now: number): void {
  if (s.reportObligation) return;
  const period = shanghaiPeriodOf(now);
  s.reportObligation = { firstPeriod: period, startedAt: now, nextPeriod: period };
  void policy;
}

function cycleMs(policy: Policy): number | undefined {
  const sec = policy.implementation.monthlyReportCycleSeconds;
  return sec === undefined ? undefined : sec * 1000;
}

/** When the task for `period` opens: the first instant of the next month (Asia/Shanghai). */
export function reportOpensAt(ob: ReportObligation, policy: Policy, period: string): number {
  const cycle = cycleMs(policy);
  if (cycle !== undefined) return ob.startedAt + (monthsBetween(ob.firstPeriod, period) + 1) * cycle;
  const [y, m] = addMonths(period, 1).split('-').map(Number) as [number, number];
  return Date.UTC(y, m - 1, 1) - SHANGHAI_OFFSET_MS;
}

/** The period a report may at most be filed for now (no report for a month still to come). */
export function latestReportablePeriod(s: ProjectState, policy: Policy, now: number): string {
  const ob = s.reportObligation;
  const cycle = cycleMs(policy);
  if (!ob || cycle === undefined) return shanghaiPeriodOf(now);
  return addMonths(ob.firstPeriod, Math.max(0, Math.floor((now - ob.startedAt) / cycle)));
}

/** The due rule of a period's report: the policy's day of the next month, or one cycle in test policies. */
export function reportDueRule(
  policy: Policy,
  period: string,
): { untilDay: string; rollToWorkingDay: true } | { seconds: number } {
  const sec = policy.implementation.monthlyReportCycleSeconds;
  if (sec !== undefined) return { seconds: sec };
  const day = String(policy.implementation.monthlyReportDueDay).padStart(2, '0');
  return { untilDay: `${addMonths(period, 1)}-${day}`, rollToWorkingDay: true };
}

function owes(s: ProjectState): boolean {
  return s.reportObligation !== undefined && REPORTING_STAGES.includes(s.stage);
}

/** When the next report task opens, if the project owes one. */
export function nextReportOpensAt(s: ProjectState, policy: Policy): number | undefined {
  if (!owes(s)) return undefined;
  const ob = s.reportObligation!;
  return reportOpensAt(ob, policy, ob.nextPeriod);
}

/**
 * Opens the report task of every period that has come due by `now`; a period already reported (early) opens
 * nothing. Returns the tasks opened.
 */
export function openDueReports(s: ProjectState, policy: Policy, now: number): Task[] {
  const opened: Task[] = [];
  if (!owes(s)) return opened;
  const ob = s.reportObligation!;
  for (let guard = 0; guard < 120 && reportOpensAt(ob, policy, ob.nextPeriod) <= now; guard++) {
    const period = ob.nextPeriod;
    ob.nextPeriod = addMonths(period, 1);
    if (s.reports.some((r) => r.period >= period)) continue;
    const task = newOpenTask(
      s,
      {
        key: reportTaskKey(period),
        kind: 'REPORT',
        title: `月度进展报送（${periodLabel(period)}）`,
        assigneeOrg: s.details.ownerOrg,
      },
      now,
    );
    s.tasks.push(task);
    if (!s.outbox.taskIds.includes(task.id)) s.outbox.taskIds.push(task.id);
    recordEvent(s, {
      type: 'TASK_OPENED',
      stageBefore: s.stage,
      at: now,
      data: { taskId: task.id, kind: task.kind, title: task.title, assigneeOrg: task.assigneeOrg, period },
    });
    opened.push(task);
  }
  return opened;
}
