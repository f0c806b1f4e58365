/**
 * Blockers (百项堵点疏解): a problem holding a project back, raised by anyone working on the project, owned by a
 * responsible organisation with a deadline and the escalation ladder, resolved by that organisation and closed
 * (销号) only when the raising organisation confirms — or reopened, which restarts the clock.
 * Plain functions over BlockerState, like domain/lifecycle.ts: the blocker's child workflow calls them.
 */
import type { Duration, Policy } from '../policy/schema';
import { DomainError } from './errors';
import { recordEvent } from './events';
import type { Actor, ProjectDetails, Stage } from './project';
import type { BlockerStatus, BlockerSummary, ProjectEvent, Task, TaskLedger } from './state';

export const BLOCKER_CATEGORIES = {
  LAND: '用地',
  FUNDS: '资金',
  APPROVALS: '审批',
  EXPROPRIATION: '征拆',
  UTILITIES: '配套',
  OBSTRUCTION: '阻工扰工',
  EIA: '环评',
  ENERGY: '能耗',
  OTHER: '其他',
} as const;
export type BlockerCategory = keyof typeof BLOCKER_CATEGORIES;

/** 三级联动: where the blocker must be solved. */
export const BLOCKER_LEVELS = { COUNTY: '县级', CITY: '市级', PROVINCE: '省级' } as const;
export type BlockerLevel = keyof typeof BLOCKER_LEVELS;

/** Used when the policy in force predates blockers (a project keeps the policy version it started with). */
export const DEFAULT_BLOCKER_DEADLINES: Record<BlockerLevel, Duration> = {
  COUNTY: { workingDays: 10 },
  CITY: { workingDays: 15 },
  PROVINCE: { workingDays: 30 },
};

/** How many blockers one project may carry in its state (they are summaries; details live in the child). */
export const BLOCKERS_PER_PROJECT_LIMIT = 200;

/** Organisation kinds that can be made responsible for a blocker. */
export const RESPONSIBLE_ORG_KINDS = ['DEPARTMENT', 'COUNTY', 'SPECIAL_GROUP'] as const;

const RESOLVE_KEY = /^B(\d+)-R(\d+)-(COUNTY|CITY|PROVINCE)$/;

/** The deadline of a blocker task from its key; the raiser's confirmation task has none. */
export function blockerDeadline(policy: Policy, taskKey: string): Duration | undefined {
  const m = RESOLVE_KEY.exec(taskKey);
  if (!m) return undefined;
  const level = m[3] as BlockerLevel;
  return policy.blockers?.deadline[level] ?? DEFAULT_BLOCKER_DEADLINES[level];
}

/** The blocker a blocker task belongs to (inbox entries link to it). */
export function blockerIdOfTask(projectId: string, taskKey: string): string | undefined {
  const m = /^B(\d+)-R\d+-/.exec(taskKey);
  return m ? blockerIdOf(projectId, Number(m[1])) : undefined;
}

export function blockerWorkflowId(blockerId: string): string {
  return `blocker-${blockerId}`;
}

/** `<projectId>-B<n>`: readable, unique for the project's life, valid in a URL path. */
export function blockerIdOf(projectId: string, n: number): string {
  return `${projectId}-B${n}`;
}

export interface BlockerRecord extends Pick<
  BlockerSummary,
  | 'id'
  | 'number'
  | 'responsibleOrg'
  | 'description'
  | 'raisedBy'
  | 'raisedAt'
  | 'status'
  | 'round'
  | 'closedAt'
> {
  category: BlockerCategory;
  level: BlockerLevel;
  resolutions: { round: number; note: string; actor: Actor; at: number }[];
  reopenings: { round: number; reason: string; actor: Actor; at: number }[];
  closedBy?: Actor | undefined;
}

export interface BlockerResult {
  blockerId: string;
  projectId: string;
  status: BlockerStatus;
  seq: number;
  message: string;
}

export interface BlockerState extends TaskLedger {
  blocker: BlockerRecord;
  /** The escalation level and status the project workflow was last told about. */
  reported: { status: BlockerStatus; escalationLevel: number; round: number };
  processed: { requestId: string; result: BlockerResult }[];
}

export type BlockerAction =
  | { type: 'resolveBlocker'; note: string }
  | { type: 'confirmBlockerClosure'; note?: string | undefined }
  | { type: 'reopenBlocker'; reason: string };
export type BlockerActionType = BlockerAction['type'];
export const BLOCKER_ACTION_TYPES: readonly BlockerActionType[] = [
  'resolveBlocker',
  'confirmBlockerClosure',
  'reopenBlocker',
];

export interface BlockerRequest<A extends BlockerAction = BlockerAction> {
  requestId: string;
  actor: Actor;
  action: A;
}

/** What the read model receives from a blocker's workflow: the record now, plus what changed since. */
export interface BlockerSync {
  projectId: string;
  projectName: string;
  blocker: BlockerRecord;
  seq: number;
  escalationLevel: number;
  overdue: boolean;
  openTask: Task | undefined;
  events: ProjectEvent[];
  tasks: Task[];
}

/** What the child workflow starts from: the project's summary plus what the ladder needs of the project. */
export interface BlockerStart {
  projectId: string;
  projectStage: Stage;
  details: ProjectDetails;
  summary: BlockerSummary;
}

const REQUESTS_REMEMBERED = 100;

export function createBlockerState(start: BlockerStart): BlockerState {
  const b = start.summary;
  const s: BlockerState = {
    projectId: start.projectId,
    details: start.details,
    stage: start.projectStage,
    tasks: [],
    seq: 0,
    flags: { overdue: false },
    outbox: { events: [], taskIds: [] },
    blocker: {
      id: b.id,
      number: b.number,
      category: b.category as BlockerCategory,
      level: b.level as BlockerLevel,
      responsibleOrg: b.responsibleOrg,
      description: b.description,
      raisedBy: b.raisedBy,
      raisedAt: b.raisedAt,
      status: 'OPEN',
      round: 1,
      resolutions: [],
      reopenings: [],
    },
    reported: { status: 'OPEN', escalationLevel: 0, round: 1 },
    processed: [],
  };
  recordEvent(s, {
    type: 'BLOCKER_RAISED',
    actor: b.raisedBy,
    stageBefore: s.stage,
    at: b.raisedAt,
    data: {
      blockerId: b.id,
      category: b.category,
      level: b.level,
      responsibleOrg: b.responsibleOrg,
      description: b.description,
    },
  });
  openResolveTask(s, b.raisedAt);
  return s;
}

/** The open task of the current round: resolving it (responsible org) or confirming it (raiser). */
export function currentTask(s: BlockerState): Task | undefined {
  return s.tasks.find((t) => t.status === 'OPEN');
}

export function validateBlockerAction(s: BlockerState, req: BlockerRequest, now: number): void {
  if (s.processed.some((p) => p.requestId === req.requestId)) return;
  applyBlockerAction(JSON.parse(JSON.stringify(s)) as BlockerState, req, now);
}

export function applyBlockerAction(s: BlockerState, req: BlockerRequest, now: number): BlockerResult {
  const earlier = s.processed.find((p) => p.requestId === req.requestId);
  if (earlier) return earlier.result;
  checkBlockerRequest(req);
  const b = s.blocker;
  let message: string;
  const a = req.action;
  switch (a.type) {
    case 'resolveBlocker': {
      requireStatus(b.status, 'OPEN', 'only an open blocker can be resolved');
      requireOrg(req.actor, [b.responsibleOrg], `the blocker is assigned to ${b.responsibleOrg}`);
      const note = requireText(a.note, 'note', 2000);
      closeOpenTask(s, now, req.actor, { resolution: note });
      b.status = 'RESOLVED';
      b.resolutions.push({ round: b.round, note, actor: req.actor, at: now });
      event(s, req, now, 'BLOCKER_RESOLVED', { note });
      openTask(s, now, {
        key: `B${b.number}-R${b.round}-CONFIRM`,
        title: `堵点销号确认（${BLOCKER_CATEGORIES[b.category]}）`,
        assigneeOrg: b.raisedBy.org,
      });
      message = 'blocker resolved; waiting for the raiser to confirm the closure (销号)';
      break;
    }
    case 'confirmBlockerClosure': {
      requireStatus(b.status, 'RESOLVED', 'only a resolved blocker can be closed');
      requireOrg(req.actor, [b.raisedBy.org], 'only the raising organisation confirms the closure (销号)');
      const note = a.note === undefined ? undefined : requireText(a.note, 'note', 2000);
      closeOpenTask(s, now, req.actor, { confirmed: true, ...(note ? { note } : {}) });
      b.status = 'CLOSED';
      b.closedAt = now;
      b.closedBy = req.actor;
      event(s, req, now, 'BLOCKER_CLOSED', note ? { note } : {});
      message = 'blocker closed (销号)';
      break;
    }
    case 'reopenBlocker': {
      requireStatus(b.status, 'RESOLVED', 'only a resolved, unconfirmed blocker can be reopened');
      requireOrg(req.actor, [b.raisedBy.org], 'only the raising organisation reopens the blocker');
      const reason = requireText(a.reason, 'reason', 2000);
      closeOpenTask(s, now, req.actor, { confirmed: false, reason });
      b.round += 1;
      b.status = 'OPEN';
      b.reopenings.push({ round: b.round, reason, actor: req.actor, at: now });
      event(s, req, now, 'BLOCKER_REOPENED', { reason, round: b.round });
      openResolveTask(s, now);
      message = `blocker reopened (round ${b.round}); the deadline restarts`;
      break;
    }
    default:
      throw new DomainError('INVALID_DATA', 'unknown blocker action', { field: 'action.type' });
  }
  const result: BlockerResult = {
    blockerId: b.id,
    projectId: s.projectId,
    status: b.status,
    seq: s.seq,
    message,
  };
  s.processed.push({ requestId: req.requestId, result });
  if (s.processed.length > REQUESTS_REMEMBERED)
    s.processed.splice(0, s.processed.length - REQUESTS_REMEMBERED);
  return result;
}

/** The blocker's highest escalation level in its current round (the ladder restarts on reopening). */
/** The record the read model keeps of a blocker now; `changes` are the events and tasks since the last sync. */
export function blockerSyncOf(
  s: BlockerState,
  changes: { events: ProjectEvent[]; tasks: Task[] },
): BlockerSync {
  return {
    projectId: s.projectId,
    projectName: s.details.name,
    blocker: s.blocker,
    seq: s.seq,
    escalationLevel: blockerEscalationLevel(s),
    overdue: s.flags.overdue,
    openTask: currentTask(s),
    ...changes,
  };
}

export function blockerEscalationLevel(s: BlockerState): number {
  const key = new RegExp(`^B${s.blocker.number}-R${s.blocker.round}-`);
  return Math.max(0, ...s.tasks.filter((t) => key.test(t.key)).map((t) => t.escalationLevel));
}

/** A change the project workflow has not heard of yet, or undefined. */
export function unreportedChange(s: BlockerState): BlockerChange | undefined {
  const b = s.blocker;
  const escalationLevel = blockerEscalationLevel(s);
  const r = s.reported;
  if (r.status === b.status && r.escalationLevel === escalationLevel && r.round === b.round) return undefined;
  return {
    blockerId: b.id,
    status: b.status,
    round: b.round,
    escalationLevel,
    closedAt: b.closedAt,
    at: Math.max(b.closedAt ?? 0, ...s.tasks.map((t) => t.closedAt ?? t.openedAt)),
  };
}

/** Sent by the blocker's workflow to its project's workflow (a signal), so the project lists it current. */
export interface BlockerChange {
  blockerId: string;
  status: BlockerStatus;
  round: number;
  escalationLevel: number;
  closedAt?: number | undefined;
  at: number;
}

function openResolveTask(s: BlockerState, now: number): void {
  const b = s.blocker;
  openTask(s, now, {
    key: `B${b.number}-R${b.round}-${b.level}`,
    title: `堵点疏解（${BLOCKER_CATEGORIES[b.category]}，${BLOCKER_LEVELS[b.level]}）`,
    assigneeOrg: b.responsibleOrg,
  });
}

function openTask(
  s: BlockerState,
  now: number,
  t: { key: string; title: string; assigneeOrg: string },
): void {
  const task: Task = {
    id: `${s.projectId}~${t.key}`,
    key: t.key,
    kind: 'BLOCKER',
    title: t.title,
    stage: s.stage,
    round: s.blocker.round,
    assigneeOrg: t.assigneeOrg,
    status: 'OPEN',
    openedAt: now,
    clock: { extensions: [], pauses: [], needsSchedule: true },
    escalationLevel: 0,
    remindersSent: 0,
  };
  s.tasks.push(task);
  touch(s, task.id);
}

function closeOpenTask(s: BlockerState, now: number, actor: Actor, result: Record<string, unknown>): void {
  const t = currentTask(s);
  if (!t) return;
  Object.assign(t, { status: 'DONE', closedAt: now, actor, result });
  touch(s, t.id);
}

function touch(s: BlockerState, taskId: string): void {
  if (!s.outbox.taskIds.includes(taskId)) s.outbox.taskIds.push(taskId);
}

function event(
  s: BlockerState,
  req: BlockerRequest,
  now: number,
  type: string,
  data: Record<string, unknown>,
) {
  recordEvent(s, {
    type,
    actor: req.actor,
    requestId: req.requestId,
    stageBefore: s.stage,
    at: now,
    data: { blockerId: s.blocker.id, ...data },
  });
}

function requireStatus(actual: BlockerStatus, wanted: BlockerStatus, why: string): void {
  if (actual !== wanted)
    throw new DomainError('WRONG_STAGE', `${why}; the blocker is ${actual}`, { blockerStatus: actual });
}

function requireOrg(actor: Actor, allowed: string[], why: string): void {
  if (!allowed.includes(actor.org))
    throw new DomainError('NOT_ASSIGNEE', `${why}; ${actor.org} is not allowed`, {
      actorOrg: actor.org,
      allowed,
    });
}

function requireText(v: unknown, field: string, max: number): string {
  if (typeof v !== 'string' || v.trim().length === 0 || v.length > max)
    throw new DomainError('INVALID_DATA', `${field} must be a non-empty text of at most ${max} characters`, {
      field,
    });
  return v.trim();
}

function checkBlockerRequest(req: BlockerRequest): void {
  if (typeof req.requestId !== 'string' || req.requestId.length < 1 || req.requestId.length > 200)
    throw new DomainError('INVALID_DATA', 'requestId must be 1–200 characters', { field: 'requestId' });
  if (!req.actor || typeof req.actor.org !== 'string' || typeof req.actor.userId !== 'string')
    throw new DomainError('INVALID_DATA', 'actor must have userId, org and roles', { field: 'actor' });
  if (!req.action || !BLOCKER_ACTION_TYPES.includes(req.action.type))
    throw new DomainError('INVALID_DATA', 'unknown blocker action', { field: 'action.type' });
}
