/**
 * What every stage's handlers share: the action context, opening and closing tasks (the same task records that
 * blockers and the clocks of domain/time.ts work on), recording events, and the checks of an action's input.
 */
import type { Policy, WorkItem } from '../policy/schema';
import type { ActionRequest, ProjectAction } from './actions';
import { holds } from './conditions';
import { DomainError } from './errors';
import { recordEvent } from './events';
import { TERMINAL_STAGES, type ProjectDetails, type Stage } from './project';
import type { ProjectState, Task, TaskKind } from './state';

/** One action being applied: the state it changes, the policy, who asks, and what it touched. */
export interface Ctx {
  s: ProjectState;
  policy: Policy;
  req: ActionRequest;
  now: number;
  stageBefore: Stage;
  touchedTask: string | undefined;
  touchedBlocker?: string | undefined;
}

/** The handler of each action type; each stage's module provides those of its own actions. */
export type Handlers = {
  [K in ProjectAction['type']]: (ctx: Ctx, a: Extract<ProjectAction, { type: K }>) => string;
};

export const PRE_START_LIVE_STAGES: readonly Stage[] = [
  'DRAFT',
  'DEPT_SCREENING',
  'SPECIALIST_REVIEW',
  'COMPREHENSIVE_REVIEW',
  'RESERVE',
  'PRE_CONSTRUCTION',
];

export function isTerminal(stage: Stage): boolean {
  return TERMINAL_STAGES.includes(stage);
}

export interface NewTask {
  key: string;
  kind: TaskKind;
  title: string;
  assigneeOrg: string;
  tier?: 1 | 2 | 3;
}

/** A task just opened in the project's current stage and round, its clock waiting to be scheduled. */
export function newOpenTask(
  s: Pick<ProjectState, 'projectId' | 'stage' | 'round'>,
  t: NewTask,
  now: number,
): Task {
  return {
    id: `${s.projectId}~${t.key}`,
    key: t.key,
    kind: t.kind,
    title: t.title,
    stage: s.stage,
    tier: t.tier,
    round: s.round,
    assigneeOrg: t.assigneeOrg,
    status: 'OPEN',
    openedAt: now,
    clock: { extensions: [], pauses: [], needsSchedule: true },
    escalationLevel: 0,
    remindersSent: 0,
  };
}

export function openTask(ctx: Ctx, t: NewTask): Task {
  const { s } = ctx;
  const task = newOpenTask(s, t, ctx.now);
  s.tasks.push(task);
  touch(s, task.id);
  event(ctx, 'TASK_OPENED', {
    taskId: task.id,
    kind: task.kind,
    title: task.title,
    assigneeOrg: task.assigneeOrg,
    tier: task.tier,
  });
  return task;
}

export function closeTask(
  ctx: Ctx,
  task: Task,
  outcome: Partial<Pick<Task, 'decision' | 'opinion' | 'result'>>,
): void {
  Object.assign(task, outcome, { status: 'DONE', actor: ctx.req.actor, closedAt: ctx.now });
  ctx.touchedTask = task.id;
  touch(ctx.s, task.id);
}

export function cancelOpenTasks(ctx: Ctx, why: string, which: (t: Task) => boolean = () => true): void {
  for (const t of ctx.s.tasks) {
    if (t.status !== 'OPEN' || !which(t)) continue;
    Object.assign(t, { status: 'CANCELLED', closedAt: ctx.now, result: { cancelledBecause: why } });
    touch(ctx.s, t.id);
  }
}

export function touch(s: ProjectState, taskId: string): void {
  if (!s.outbox.taskIds.includes(taskId)) s.outbox.taskIds.push(taskId);
}

export function setStage(s: ProjectState, stage: Stage): void {
  s.stage = stage;
}

export function event(ctx: Ctx, type: string, data: Record<string, unknown>): void {
  recordEvent(ctx.s, {
    type,
    actor: ctx.req.actor,
    requestId: ctx.req.requestId,
    stageBefore: ctx.stageBefore,
    at: ctx.now,
    data,
  });
}

export function openTaskFor(ctx: Ctx, taskId: string, kinds: TaskKind[], checkAssignee = true): Task {
  const { s } = ctx;
  const task = s.tasks.find((t) => t.id === taskId);
  if (!task || !kinds.includes(task.kind)) {
    throw new DomainError(
      'UNKNOWN_TASK',
      `no ${kinds.join(' or ').toLowerCase()} task ${taskId} on this project`,
      { taskId },
    );
  }
  if (task.status !== 'OPEN') {
    throw new DomainError(
      'ALREADY_DECIDED',
      `task ${taskId} is already ${task.status === 'DONE' ? 'decided' : 'cancelled'}`,
      { taskId, taskStatus: task.status },
    );
  }
  // A step left open at the start (the estimate) may still be completed during construction.
  // So does a monthly report owed since 前期 (it belongs to the month, not the stage).
  const lateStep =
    (task.kind === 'STEP' && (s.stage === 'UNDER_CONSTRUCTION' || s.stage === 'SUSPENDED')) ||
    task.kind === 'REPORT' ||
    task.kind === 'CHANGE_REQUEST';
  if (task.stage !== s.stage && !lateStep)
    throw new DomainError(
      'WRONG_STAGE',
      `task ${taskId} belongs to ${task.stage}, the project is in ${s.stage}`,
    );
  if (checkAssignee) requireOrg(ctx, task.assigneeOrg, `task ${taskId} is assigned to ${task.assigneeOrg}`);
  return task;
}

/** Any open task of the project in the current stage (extensions and pauses apply to every kind). */
export function anyOpenTask(ctx: Ctx, taskId: string): Task {
  return openTaskFor(
    ctx,
    taskId,
    ['REVIEW', 'APPROVAL_MATTER', 'STEP', 'REPORT', 'GATE', 'CHANGE_REQUEST'],
    false,
  );
}

export function clockOf(task: Task): NonNullable<Task['clock']> {
  task.clock ??= { extensions: [], pauses: [], needsSchedule: true };
  return task.clock;
}

export function requireStage(s: ProjectState, stages: readonly Stage[]): void {
  if (!stages.includes(s.stage)) {
    throw new DomainError(
      'WRONG_STAGE',
      `not allowed in stage ${s.stage} (allowed in ${stages.join(', ')})`,
      { stage: s.stage, allowed: stages },
    );
  }
}

export function requireLive(s: ProjectState): void {
  if (isTerminal(s.stage))
    throw new DomainError('WRONG_STAGE', `the project is ${s.stage}`, { stage: s.stage });
}

export function requireOrg(ctx: Ctx, orgs: string | string[], why: string): void {
  const allowed = Array.isArray(orgs) ? orgs : [orgs];
  if (!allowed.includes(ctx.req.actor.org)) {
    throw new DomainError('NOT_ASSIGNEE', `${why}; ${ctx.req.actor.org} is not allowed`, {
      actorOrg: ctx.req.actor.org,
      allowed,
    });
  }
}

export function requireText(v: unknown, field: string, max: number, required = true): string {
  if ((v === undefined || v === '') && !required) return '';
  if (typeof v !== 'string' || v.trim().length === 0 || v.length > max) {
    throw new DomainError('INVALID_DATA', `${field} must be a non-empty text of at most ${max} characters`, {
      field,
    });
  }
  return v;
}

export function requireDate(v: unknown, field: string): string {
  // Date.parse rolls 2025-02-30 over to March; a round trip catches impossible dates.
  const valid =
    typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`));
  if (!valid || new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) !== v) {
    throw new DomainError('INVALID_DATA', `${field} must be a date YYYY-MM-DD`, { field });
  }
  return v;
}

/** Money is integer 元: a safe, non-negative integer (positive where zero makes no sense). */
export function requireYuan(v: unknown, field: string, positive = false): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < (positive ? 1 : 0)) {
    throw new DomainError(
      'INVALID_DATA',
      `${field} must be a ${positive ? 'positive' : 'non-negative'} integer amount in 元`,
      { field },
    );
  }
  return v;
}

/** Integer basis points (1/100 of a percent), rounded half up, so percentages stay exact and comparable. */
export function basisPoints(part: number, whole: number): number {
  if (whole <= 0) return 0;
  const w = BigInt(whole);
  return Number((BigInt(part) * 10000n + w / 2n) / w);
}

export function requiredItems(items: readonly WorkItem[], d: ProjectDetails): WorkItem[] {
  return items.filter((m) => holds(m.requiredWhen, d));
}

export function assigneeOf(item: WorkItem, d: ProjectDetails): string {
  if (item.assignee === 'OWNER') return d.ownerOrg;
  if (item.assignee === 'RESPONSIBLE_DEPT') return d.responsibleDept;
  return item.assignee;
}

export function workItemOf(policy: Policy, task: Task): WorkItem | undefined {
  const key = task.key.slice(2);
  const list = task.kind === 'STEP' ? policy.preConstruction.steps : policy.reserve.matters;
  return list.find((m) => m.key === key);
}

export function orgName(policy: Policy, id: string): string {
  return policy.organisations.find((o) => o.id === id)?.name ?? id;
}
