/**
 * Deadlines, reminders and escalation as pure functions over the project state. Instants come from the
 * scheduling activity (the work calendar changes; workflow code must not); this module only decides
 * what is due at a given time and what that means for the project.
 */
import type { Duration, Policy } from '../policy/schema';
import type { ProjectDetails } from './project';
import type { NotificationIntent, ProjectState, Task, TaskDeadline, TaskLedger, TaskSchedule } from './state';
import { blockerDeadline } from './blockers';
import { recordEvent } from './events';
import { nextReportOpensAt, periodOfTaskKey, reportDueRule } from './monthly-reports';

/** The deadline rule of a task from the policy, shortened for green-channel (major) projects. */
export function deadlineRuleFor(
  policy: Policy,
  task: Pick<Task, 'kind' | 'key' | 'tier'>,
  details: ProjectDetails,
): DeadlineRule | undefined {
  const rule = baseRule(policy, task);
  if (!rule || !details.flags.major || 'nextMonthlyMeeting' in rule || 'untilDay' in rule) return rule;
  const shorten = (n: number) => Math.max(1, Math.ceil((n * policy.time.greenChannelPercent) / 100));
  if ('workingDays' in rule) return { workingDays: shorten(rule.workingDays) };
  if ('calendarDays' in rule) return { calendarDays: shorten(rule.calendarDays) };
  return { seconds: shorten(rule.seconds) };
}

/**
 * A policy duration counted from the task's opening, or a fixed day (the monthly report's due day), moved to
 * the next working day when it falls on a holiday (our default; the seed fixes no day).
 */
export type DeadlineRule = Duration | { untilDay: string; rollToWorkingDay: true };

function baseRule(policy: Policy, task: Pick<Task, 'kind' | 'key' | 'tier'>): DeadlineRule | undefined {
  if (task.kind === 'CHANGE_REQUEST') return policy.revisions.changeRequestDeadline;
  if (task.kind === 'REPORT') {
    const period = periodOfTaskKey(task.key);
    return period === undefined ? undefined : reportDueRule(policy, period);
  }
  if (task.kind === 'REVIEW') {
    return task.tier === 1
      ? policy.review.tier1.deadline
      : task.tier === 2
        ? policy.review.tier2.deadline
        : policy.review.tier3.deadline;
  }
  if (task.kind === 'APPROVAL_MATTER')
    return policy.reserve.matters.find((m) => `M-${m.key}` === task.key)?.deadline;
  if (task.kind === 'STEP')
    return policy.preConstruction.steps.find((m) => `S-${m.key}` === task.key)?.deadline;
  if (task.key.endsWith('-PLAN')) return policy.review.planInclusionDeadline;
  if (task.key === 'G-START') return policy.startGate.deadline;
  if (task.key.startsWith('G-START-CHECK-')) return policy.startGate.checkDeadline ?? { workingDays: 5 };
  if (task.key === 'G-COMPLETION') return policy.implementation.completionDeadline;
  if (task.key.startsWith('G-STALE')) return { seconds: 0 };
  if (task.kind === 'BLOCKER') return blockerDeadline(policy, task.key);
  return undefined;
}

export interface ScheduleRequest {
  taskId: string;
  openedAt: number;
  rule: DeadlineRule;
  extensionUnits: number;
  pauses: { from: number; to: number }[];
  remindAtHour: number;
  reminders: Duration[];
  escalation: { level: number; after: Duration }[];
  uncovered: 'refuse' | 'provisional';
}

export type ScheduleResult =
  | {
      taskId: string;
      ok: true;
      deadline: TaskDeadline;
      reminders: number[];
      escalations: { level: number; at: number }[];
    }
  | { taskId: string; ok: false; reason: string };

/**
 * A task whose deadline is being recomputed: it had one, and its clock (not paused) asks for a new one (an
 * extension, a resumed clock, a postponed meeting). An action that moved it is shown once the new one is.
 */
export function awaitsNewDeadline(t: Task): boolean {
  return (
    t.deadline !== undefined &&
    t.clock?.needsSchedule === true &&
    !t.clock.pauses.some((p) => p.to === undefined)
  );
}

/** Tasks whose deadline must be (re)computed, as requests for the scheduling activity. */
export function scheduleRequests(s: TaskLedger, policy: Policy): ScheduleRequest[] {
  const out: ScheduleRequest[] = [];
  for (const t of s.tasks) {
    if (t.status !== 'OPEN' || !t.clock?.needsSchedule) continue;
    if (t.clock.pauses.some((p) => p.to === undefined)) continue; // paused: recomputed on resumption
    const rule = deadlineRuleFor(policy, t, s.details);
    if (!rule) {
      t.clock.needsSchedule = false;
      continue;
    }
    out.push({
      taskId: t.id,
      openedAt: t.openedAt,
      rule,
      extensionUnits: t.clock.extensions.reduce((n, e) => n + e.units, 0),
      pauses: t.clock.pauses.map((p) => ({ from: p.from, to: p.to ?? p.from })),
      remindAtHour: policy.time.remindAtHour,
      reminders: policy.time.reminders,
      escalation: policy.time.escalation.map((e) => ({ level: e.level, after: e.after })),
      uncovered: policy.time.uncoveredYear,
    });
  }
  return out;
}

type EscalationRecipient = Policy['time']['escalation'][number]['recipients'][number];

/**
 * The rungs of the "1+5+N" ladder, bottom up: the responsible unit's head (with the project's 包联领导), the
 * special group ("5"), the leading group ("1"), city supervision.
 */
export const LADDER_TIERS = ['UNIT_HEAD', 'SPECIAL_GROUP', 'LEADING_GROUP', 'CITY_SUPERVISION'] as const;
export type LadderTier = (typeof LADDER_TIERS)[number];

const RECIPIENT_TIER: Record<EscalationRecipient, LadderTier> = {
  ASSIGNEE: 'UNIT_HEAD',
  ASSIGNEE_HEAD: 'UNIT_HEAD',
  ASSIGNED_LEADER: 'UNIT_HEAD',
  SPECIAL_GROUP: 'SPECIAL_GROUP',
  LEADING_GROUP: 'LEADING_GROUP',
  MONTHLY_BULLETIN: 'LEADING_GROUP',
  CITY_SUPERVISION: 'CITY_SUPERVISION',
};

/** The rung an escalation level reaches: the highest of its recipients'. */
export function tierReached(recipients: readonly EscalationRecipient[]): LadderTier {
  const rank = Math.max(0, ...recipients.map((r) => LADDER_TIERS.indexOf(RECIPIENT_TIER[r])));
  return LADDER_TIERS[rank]!;
}

/**
 * The rung a task's assignee stands on. A special group's or the leading group's own task is already at that
 * rung; every other organisation (department, county, owner, office) stands below its own head.
 */
function assigneeRank(policy: Policy, org: string): number {
  const kind = policy.organisations.find((o) => o.id === org)?.kind;
  if (kind === 'SPECIAL_GROUP') return LADDER_TIERS.indexOf('SPECIAL_GROUP');
  if (kind === 'LEADING_GROUP') return LADDER_TIERS.indexOf('LEADING_GROUP');
  return -1;
}

/**
 * The escalation levels of a task assigned to `org`: only those reaching above the assignee's own rung, so an
 * overdue special-group review starts at the leading group and an overdue leading-group decision goes to city
 * supervision — never down the ladder.
 */
export function ladderFor(policy: Policy, org: string): Policy['time']['escalation'] {
  const floor = assigneeRank(policy, org);
  return policy.time.escalation.filter((e) => LADDER_TIERS.indexOf(tierReached(e.recipients)) > floor);
}

/** Applies computed schedules: the ladder restarts from the new deadline, past reminders are not replayed. */
export function applySchedules(
  s: TaskLedger,
  policy: Policy,
  results: ScheduleResult[],
  now: number,
): NotificationIntent[] {
  const alerts: NotificationIntent[] = [];
  for (const r of results) {
    const t = s.tasks.find((x) => x.id === r.taskId);
    if (!t || t.status !== 'OPEN' || !t.clock) continue;
    t.clock.needsSchedule = false;
    touch(s, t.id);
    if (!r.ok) {
      t.clock.refused = r.reason;
      recordEvent(s, {
        type: 'DEADLINE_REFUSED',
        stageBefore: s.stage,
        at: now,
        data: { taskId: t.id, reason: r.reason },
      });
      alerts.push(adminAlert(s, policy, t, `无法计算期限：${r.reason}`));
      continue;
    }
    const previous = t.schedule;
    const byLevel = new Map(policy.time.escalation.map((e) => [e.level, e]));
    const ladder = new Set(ladderFor(policy, t.assigneeOrg).map((e) => e.level));
    const schedule: TaskSchedule = {
      version: (previous?.version ?? 0) + 1,
      reminders: r.reminders.filter((at) => at > now && at > t.openedAt).sort((a, b) => a - b),
      escalations: r.escalations
        .filter((e) => ladder.has(e.level))
        .map((e) => ({
          level: e.level,
          at: e.at,
          label: byLevel.get(e.level)?.label ?? `L${e.level}`,
          recipients: [...(byLevel.get(e.level)?.recipients ?? [])],
        }))
        .sort((a, b) => a.level - b.level),
      nextReminder: 0,
    };
    t.schedule = schedule;
    t.deadline = r.deadline;
    t.escalationLevel = 0;
    recordEvent(s, {
      type: previous ? 'DEADLINE_RESCHEDULED' : 'DEADLINE_SET',
      stageBefore: s.stage,
      at: now,
      data: {
        taskId: t.id,
        dueAt: new Date(r.deadline.dueAt).toISOString(),
        dueDay: r.deadline.dueDay,
        basis: r.deadline.basis,
        provisional: r.deadline.provisional,
      },
    });
    if (r.deadline.provisional)
      alerts.push(adminAlert(s, policy, t, `期限 ${r.deadline.dueDay} 为暂定：节假日安排尚未发布`));
    else if (r.deadline.escalationsRefused)
      alerts.push(
        adminAlert(
          s,
          policy,
          t,
          `期限 ${r.deadline.dueDay} 已确定，逾期后的升级节点无法计算：次年节假日安排未加载`,
        ),
      );
    else if (r.deadline.escalationsProvisional)
      alerts.push(
        adminAlert(
          s,
          policy,
          t,
          `期限 ${r.deadline.dueDay} 已确定，逾期后的升级时间为暂定：次年节假日安排尚未发布`,
        ),
      );
  }
  refreshOverdue(s, now);
  return alerts;
}

function isPaused(t: Task): boolean {
  return t.clock?.pauses.some((p) => p.to === undefined) ?? false;
}

/** The next instant something falls due (a reminder, an escalation, reserve staleness), if any. */
export function nextWakeAt(
  s: ProjectState,
  policy: Policy,
  now: number,
  withReports = false,
): number | undefined {
  const candidates = [
    nextClockWakeAt(s, now),
    staleAt(s, policy),
    withReports ? nextReportOpensAt(s, policy) : undefined,
  ].filter((t): t is number => t !== undefined);
  return candidates.length > 0 ? Math.min(...candidates) : undefined;
}

/** The next instant a task's reminder or escalation falls due, or its overdue flag turns on, if any. */
export function nextClockWakeAt(s: TaskLedger, now: number): number | undefined {
  let next = Number.POSITIVE_INFINITY;
  for (const t of s.tasks) {
    if (t.status !== 'OPEN' || !t.schedule || isPaused(t)) continue;
    const reminder = t.schedule.reminders[t.schedule.nextReminder];
    if (reminder !== undefined) next = Math.min(next, reminder);
    const esc = t.schedule.escalations.find((e) => e.level > t.escalationLevel);
    if (esc) next = Math.min(next, esc.at);
    if (t.deadline && t.deadline.dueAt + 1 > now) next = Math.min(next, t.deadline.dueAt + 1); // the overdue flag turns on
  }
  return Number.isFinite(next) ? next : undefined;
}

/** When a reserve project without approval progress becomes stale, if it is in RESERVE and not yet flagged. */
export function staleAt(s: ProjectState, policy: Policy): number | undefined {
  if (s.stage !== 'RESERVE' || s.flags.stale) return undefined;
  if (policy.reserve.staleAfterSeconds !== undefined)
    return s.lastProgressAt + policy.reserve.staleAfterSeconds * 1000;
  const d = new Date(s.lastProgressAt);
  d.setUTCMonth(d.getUTCMonth() + policy.reserve.staleAfterMonths);
  return d.getTime();
}

/** Fires every reminder, escalation and reserve staleness due at `now`; returns what must be delivered. */
export function fireDue(s: ProjectState, policy: Policy, now: number): NotificationIntent[] {
  const out = fireTaskClocks(s, policy, now);
  const stale = staleAt(s, policy);
  if (stale !== undefined && stale <= now) {
    out.push(...markStale(s, now));
    refreshOverdue(s, now);
  }
  return out;
}

/** Fires every reminder and escalation due at `now`, records them, and returns what must be delivered. */
export function fireTaskClocks(s: TaskLedger, policy: Policy, now: number): NotificationIntent[] {
  const out: NotificationIntent[] = [];
  for (const t of s.tasks) {
    if (t.status !== 'OPEN' || !t.schedule || !t.deadline || isPaused(t)) continue;
    const sch = t.schedule;
    while (sch.nextReminder < sch.reminders.length && (sch.reminders[sch.nextReminder] ?? Infinity) <= now) {
      sch.nextReminder += 1;
      t.remindersSent += 1;
      touch(s, t.id);
      recordEvent(s, {
        type: 'REMINDER_SENT',
        stageBefore: s.stage,
        at: now,
        data: {
          taskId: t.id,
          to: t.assigneeOrg,
          dueAt: new Date(t.deadline.dueAt).toISOString(),
          reminder: sch.nextReminder,
        },
      });
      out.push({
        key: `${t.id}:s${sch.version}:R${sch.nextReminder}`,
        template: 'REMINDER',
        recipients: [{ org: t.assigneeOrg }],
        payload: taskPayload(s, t),
      });
    }
    for (const e of sch.escalations) {
      if (e.level <= t.escalationLevel || e.at > now) continue;
      t.escalationLevel = e.level;
      if (e.recipients.includes('MONTHLY_BULLETIN')) t.onMonthlyBulletin = true;
      touch(s, t.id);
      const recipients = resolveRecipients(s, policy, t, e.recipients);
      recordEvent(s, {
        type: 'ESCALATED',
        stageBefore: s.stage,
        at: now,
        data: {
          taskId: t.id,
          level: e.level,
          label: e.label,
          recipients: recipients.map(recipientLabel),
          dueAt: new Date(t.deadline.dueAt).toISOString(),
        },
      });
      out.push({
        key: `${t.id}:s${sch.version}:L${e.level}`,
        template: 'ESCALATION',
        recipients,
        payload: { ...taskPayload(s, t), level: e.level, label: e.label },
      });
    }
  }
  refreshOverdue(s, now);
  return out;
}

/** A stale reserve project is flagged and gets a task for its responsible department, which enters the ladder. */
function markStale(s: ProjectState, now: number): NotificationIntent[] {
  s.flags.stale = true;
  s.staleRound = (s.staleRound ?? 0) + 1;
  const task: Task = {
    id: `${s.projectId}~G-STALE-${s.staleRound}`,
    key: `G-STALE-${s.staleRound}`,
    kind: 'GATE',
    title: '储备项目长期未取得审批进展',
    stage: s.stage,
    round: s.round,
    assigneeOrg: s.details.responsibleDept,
    status: 'OPEN',
    openedAt: now,
    escalationLevel: 0,
    remindersSent: 0,
    clock: { extensions: [], pauses: [], needsSchedule: true },
  };
  s.tasks.push(task);
  touch(s, task.id);
  recordEvent(s, {
    type: 'RESERVE_STALE',
    stageBefore: s.stage,
    at: now,
    data: { taskId: task.id, lastProgressAt: new Date(s.lastProgressAt).toISOString() },
  });
  return [];
}

export function refreshOverdue(s: TaskLedger, now: number): void {
  s.flags.overdue = s.tasks.some(
    (t) => t.status === 'OPEN' && t.deadline !== undefined && !isPaused(t) && t.deadline.dueAt < now,
  );
}

export function nextDeadline(s: TaskLedger): number | undefined {
  const due = s.tasks.filter((t) => t.status === 'OPEN' && t.deadline).map((t) => t.deadline!.dueAt);
  return due.length ? Math.min(...due) : undefined;
}

type Recipient = NotificationIntent['recipients'][number];

/** How the audit trail names a recipient: an org id, `head:<org>`, `person:<id>`, or a pre-directory name. */
function recipientLabel(r: Recipient): string | undefined {
  if (r.org) return r.org;
  if (r.headOf) return `head:${r.headOf}`;
  return r.person?.id ? `person:${r.person.id}` : r.person?.name;
}

/**
 * Who an escalation level reaches. The unit's head (负责人) and the 包联领导 are people of the directory,
 * resolved to their own channels when the outbox takes the notification (activities/notifications.ts).
 */
function resolveRecipients(
  s: TaskLedger,
  policy: Policy,
  t: Task,
  kinds: string[],
): NotificationIntent['recipients'] {
  const out: NotificationIntent['recipients'] = [];
  const same = (a: Recipient, b: Recipient) =>
    a.org === b.org &&
    a.headOf === b.headOf &&
    a.person?.id === b.person?.id &&
    a.person?.name === b.person?.name;
  const add = (r: Recipient) => {
    if (!out.some((x) => same(x, r))) out.push(r);
  };
  const leader = s.details.assignedLeader;
  for (const k of kinds) {
    if (k === 'ASSIGNEE') add({ org: t.assigneeOrg });
    else if (k === 'ASSIGNEE_HEAD') add({ headOf: t.assigneeOrg });
    else if (k === 'ASSIGNED_LEADER' && leader) add({ person: { id: leader } });
    else if (k === 'SPECIAL_GROUP') add({ org: s.details.portfolio });
    else if (k === 'LEADING_GROUP') add({ org: policy.leadingGroup });
    else if (k === 'CITY_SUPERVISION') add({ org: policy.citySupervision });
  }
  return out;
}

function taskPayload(s: TaskLedger, t: Task): Record<string, unknown> {
  return {
    projectId: s.projectId,
    projectName: s.details.name,
    taskId: t.id,
    taskTitle: t.title,
    assigneeOrg: t.assigneeOrg,
    dueAt: t.deadline ? new Date(t.deadline.dueAt).toISOString() : undefined,
    dueDay: t.deadline?.dueDay,
  };
}

function adminAlert(s: TaskLedger, policy: Policy, t: Task, message: string): NotificationIntent {
  return {
    key: `${t.id}:admin:${s.seq}`,
    template: 'GENERIC',
    recipients: [{ org: policy.administrators }],
    payload: { ...taskPayload(s, t), message },
  };
}

function touch(s: TaskLedger, taskId: string): void {
  if (!s.outbox.taskIds.includes(taskId)) s.outbox.taskIds.push(taskId);
}
