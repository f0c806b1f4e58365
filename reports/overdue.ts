import { shanghaiTime } from './format';
import { isOverdue, orgNameOf, prepare, type ProjectRecord, type ReportContext } from './source';

/** Working days strictly after the day of fromMs up to and including the day of toMs (calendar/ WorkCalendar). */
export type WorkingDaysBetween = (fromMs: number, toMs: number) => number;

export interface OverdueRow {
  taskId: string;
  task: string; // 逾期事项
  projectId: string;
  projectName: string;
  projectCode: string | null;
  county: string;
  responsibleOrg: string; // 责任单位: the assignee organisation
  assignedLeader: string | null; // 包联领导
  deadline: string; // Asia/Shanghai, YYYY-MM-DD HH:mm
  provisional: boolean; // the deadline was computed on an uncovered calendar year
  workingDaysOverdue: number;
  escalationLevel: number;
  remindersSent: number;
  onMonthlyBulletin: boolean;
}

export interface OverdueReport {
  kind: 'overdue';
  title: string;
  asOf: string;
  rows: OverdueRow[];
}

/**
 * 逾期清单: every open, unpaused task whose deadline is before `asOf`, most overdue first. Working days come
 * from the caller's work calendar, e.g. `(a, b) => calendar.workingDaysBetween(a, b)`.
 */
export function overdueList(
  docs: readonly ProjectRecord[],
  ctx: ReportContext,
  workingDaysBetween: WorkingDaysBetween,
): OverdueReport {
  const { asOf, projects } = prepare(docs, ctx);
  const orgs = ctx.organisations;
  const rows: (OverdueRow & { dueAt: number })[] = [];
  for (const p of projects)
    for (const t of p.openTasks) {
      if (!isOverdue(t, asOf)) continue;
      const dueAt = t.deadline!.dueAt;
      rows.push({
        taskId: t.id,
        task: t.title,
        projectId: p.id,
        projectName: p.details.name,
        projectCode: p.state.projectCode ?? null,
        county: orgNameOf(orgs, p.details.county),
        responsibleOrg: orgNameOf(orgs, t.assigneeOrg, p),
        assignedLeader: p.details.assignedLeader?.trim() || null,
        deadline: shanghaiTime(dueAt),
        provisional: t.deadline!.provisional,
        workingDaysOverdue: workingDaysBetween(dueAt, asOf),
        escalationLevel: t.escalationLevel,
        remindersSent: t.remindersSent,
        onMonthlyBulletin: t.onMonthlyBulletin ?? false,
        dueAt,
      });
    }
  rows.sort(
    (a, b) =>
      b.workingDaysOverdue - a.workingDaysOverdue ||
      a.dueAt - b.dueAt ||
      (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0),
  );
  return {
    kind: 'overdue',
    title: '逾期事项清单',
    asOf: shanghaiTime(asOf),
    rows: rows.map(({ dueAt: _d, ...r }) => r),
  };
}
