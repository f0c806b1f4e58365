/**
 * Revisions: a project's details change over its life and every version is kept (who, when, why, and the old
 * and new value of each field). In DRAFT (also after a RETURN) the owner edits what it declared; past 谋划 the
 * facts that others rely on change only through a change request decided by 市发改委 (年度计划调整), while small
 * facts change directly. Edits name the version they start from, so a stale edit never overwrites a newer one.
 */
import type { Policy } from '../policy/schema';
import { DomainError } from './errors';
import type { Actor, ProjectDetails } from './project';
import type { ProjectState } from './state';
import {
  PRE_START_LIVE_STAGES,
  closeTask,
  event,
  isTerminal,
  openTask,
  openTaskFor,
  requireOrg,
  requireText,
  touch,
  workItemOf,
  type Ctx,
  type Handlers,
} from './task-ops';

/** Change directly at any live stage, by the owner: contact details and the description. */
export const DIRECT_FIELDS = [
  'contactPerson',
  'contactPhone',
  'description',
  'ownerName',
  'ownerCreditCode',
] as const;
/** Past 谋划 these change only by a change request decided by 市发改委 (the annual plan adjustment). */
export const RELIED_ON_FIELDS = [
  'name',
  'totalInvestmentYuan',
  'annualPlanYuan',
  'plannedStart',
  'plannedCompletion',
  'assignedLeader',
  'responsibleDept',
] as const;
/** Decided which reviews, matters and steps a project needs: they change only in DRAFT. */
export const DRAFT_ONLY_FIELDS = [
  'county',
  'specialActivity',
  'portfolio',
  'industry',
  'investorType',
  'approvalRegime',
  'flags',
  'landInvolved',
  'annualEnergyUseTce',
] as const;
export type EditableField =
  (typeof DIRECT_FIELDS)[number] | (typeof RELIED_ON_FIELDS)[number] | (typeof DRAFT_ONLY_FIELDS)[number];
const EDITABLE: readonly string[] = [...DIRECT_FIELDS, ...RELIED_ON_FIELDS, ...DRAFT_ONLY_FIELDS];
/** Optional fields a merge patch may remove with `null`. */
const REMOVABLE: readonly string[] = [
  'contactPerson',
  'contactPhone',
  'description',
  'ownerCreditCode',
  'plannedStart',
  'plannedCompletion',
  'assignedLeader',
];

export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

export interface Revision {
  version: number;
  at: number;
  actor: Actor;
  reason?: string | undefined;
  via: 'EDIT' | 'CHANGE_REQUEST';
  /** For a change request: its task and who approved it. */
  changeRequest?:
    { taskId: string; requestedBy: Actor; approvedBy: Actor; opinion?: string | undefined } | undefined;
  changes: FieldChange[];
}

export interface ChangeRequest {
  number: number;
  taskId: string;
  changes: Record<string, unknown>;
  reason: string;
  requestedBy: Actor;
  requestedAt: number;
  baseVersion: number;
  status: 'OPEN' | 'APPROVED' | 'REFUSED' | 'CANCELLED';
  decidedBy?: Actor | undefined;
  decidedAt?: number | undefined;
  opinion?: string | undefined;
}

/** The version of a project's details; it is the ETag of `GET /projects/{id}`. */
export function detailsVersionOf(s: Pick<ProjectState, 'detailsVersion'>): number {
  return s.detailsVersion ?? 1;
}

function requireVersion(s: ProjectState, expected: unknown): void {
  const current = detailsVersionOf(s);
  if (expected !== current)
    throw new DomainError(
      'STALE_VERSION',
      `the project changed since version ${String(expected)}: it is at version ${current}; read it again and reapply the change`,
      { currentVersion: current, expectedVersion: expected },
    );
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The field changes a patch makes (fields whose value does not change are left out). */
function changesOf(details: ProjectDetails, patch: Record<string, unknown>): FieldChange[] {
  const out: FieldChange[] = [];
  for (const [field, to] of Object.entries(patch)) {
    if (!EDITABLE.includes(field))
      throw new DomainError('INVALID_DATA', `${field} cannot be changed`, { field });
    if (to === null && !REMOVABLE.includes(field))
      throw new DomainError('INVALID_DATA', `${field} cannot be removed`, { field });
    const from = (details as unknown as Record<string, unknown>)[field];
    if (field === 'flags') {
      // Key status comes from tiers 2–3 and 市发改委, never from the owner's edit.
      const now = details.flags;
      const next = to as ProjectDetails['flags'];
      for (const f of ['cityKey', 'provincialKey'] as const)
        if (next[f] !== now[f])
          throw new DomainError('INVALID_DATA', `flags.${f} is not the owner's to change`, {
            field: `flags.${f}`,
          });
    }
    if (!same(from ?? null, to)) out.push({ field, from: from ?? null, to });
  }
  return out;
}

/** Applies field changes as the next version and records it in the trail. */
function applyRevision(
  ctx: Ctx,
  changes: FieldChange[],
  revision: Omit<Revision, 'version' | 'changes' | 'at'>,
): Revision {
  const { s } = ctx;
  const d = s.details as unknown as Record<string, unknown>;
  for (const c of changes) {
    if (c.to === null) delete d[c.field];
    else d[c.field] = c.to;
  }
  const version = detailsVersionOf(s) + 1;
  s.detailsVersion = version;
  const rev: Revision = { version, at: ctx.now, changes, ...revision };
  (s.revisions ??= []).push(rev);
  const responsible = changes.find((c) => c.field === 'responsibleDept');
  if (responsible) reassignResponsibleTasks(ctx, String(responsible.from), String(responsible.to));
  event(ctx, 'DETAILS_REVISED', {
    version,
    via: rev.via,
    reason: rev.reason,
    changes,
    ...(rev.changeRequest ? { changeRequestTaskId: rev.changeRequest.taskId } : {}),
  });
  return rev;
}

/** Open tasks that belong to the responsible department follow it to the new one. */
function reassignResponsibleTasks(ctx: Ctx, from: string, to: string): void {
  for (const t of ctx.s.tasks) {
    if (t.status !== 'OPEN' || t.assigneeOrg !== from) continue;
    const byPolicy = workItemOf(ctx.policy, t)?.assignee === 'RESPONSIBLE_DEPT';
    if (!byPolicy && t.key !== 'G-COMPLETION' && !t.key.startsWith('G-STALE')) continue;
    t.assigneeOrg = to;
    touch(ctx.s, t.id);
  }
}

/** Who decides change requests: the policy's approver, else the planning department (市发改委). */
export function changeApproverOf(policy: Policy): string {
  return policy.revisions.changeApprover ?? policy.planInclusionOrg;
}

function kindOfField(field: string): 'DIRECT' | 'RELIED_ON' | 'DRAFT_ONLY' {
  if ((DIRECT_FIELDS as readonly string[]).includes(field)) return 'DIRECT';
  if ((RELIED_ON_FIELDS as readonly string[]).includes(field)) return 'RELIED_ON';
  return 'DRAFT_ONLY';
}

const UNDER_REVIEW = ['DEPT_SCREENING', 'SPECIALIST_REVIEW', 'COMPREHENSIVE_REVIEW'];

export const revisionHandlers: Pick<Handlers, 'editDetails' | 'requestChange' | 'decideChange'> = {
  editDetails(ctx, a) {
    const { s } = ctx;
    if (isTerminal(s.stage))
      throw new DomainError('WRONG_STAGE', `the project is ${s.stage}`, { stage: s.stage });
    requireOrg(ctx, s.details.ownerOrg, 'the owner edits its project');
    requireVersion(s, a.expectedVersion);
    if (a.reason !== undefined) requireText(a.reason, 'reason', 2000);
    const changes = changesOf(s.details, a.patch);
    if (changes.length === 0)
      throw new DomainError('INVALID_DATA', 'the patch changes nothing', { field: 'patch' });
    if (s.stage !== 'DRAFT') {
      if (UNDER_REVIEW.includes(s.stage))
        throw new DomainError(
          'WRONG_STAGE',
          'the project is under review: it is edited after a RETURN, or its small facts once it is in the plan',
          { stage: s.stage },
        );
      const relied = changes.filter((c) => kindOfField(c.field) === 'RELIED_ON').map((c) => c.field);
      if (relied.length > 0)
        throw new DomainError(
          'CHANGE_REQUEST_REQUIRED',
          `past 谋划, ${relied.join(', ')} change only by a change request decided by 市发改委 (POST /projects/{id}/change-requests)`,
          { fields: relied },
        );
      const frozen = changes.filter((c) => kindOfField(c.field) === 'DRAFT_ONLY').map((c) => c.field);
      if (frozen.length > 0)
        throw new DomainError(
          'WRONG_STAGE',
          `${frozen.join(', ')} decided the project's reviews and approvals and change only in DRAFT`,
          { fields: frozen },
        );
    }
    const rev = applyRevision(ctx, changes, { actor: ctx.req.actor, reason: a.reason, via: 'EDIT' });
    return `details revised to version ${rev.version}`;
  },

  requestChange(ctx, a) {
    const { s, policy } = ctx;
    if (
      PRE_START_LIVE_STAGES.indexOf(s.stage) < PRE_START_LIVE_STAGES.indexOf('RESERVE') ||
      isTerminal(s.stage)
    )
      throw new DomainError(
        'WRONG_STAGE',
        'change requests are for projects past 谋划; a DRAFT is edited directly',
        { stage: s.stage },
      );
    requireOrg(ctx, s.details.ownerOrg, 'the owner requests a change of its project');
    requireVersion(s, a.expectedVersion);
    requireText(a.reason, 'reason', 2000);
    const changes = changesOf(s.details, a.changes);
    if (changes.length === 0)
      throw new DomainError('INVALID_DATA', 'the request changes nothing', { field: 'changes' });
    const other = changes.filter((c) => kindOfField(c.field) !== 'RELIED_ON').map((c) => c.field);
    if (other.length > 0)
      throw new DomainError(
        'INVALID_DATA',
        `a change request changes only ${RELIED_ON_FIELDS.join(', ')}; not ${other.join(', ')}`,
        { field: 'changes', fields: other },
      );
    const requests = (s.changeRequests ??= []);
    const open = requests.find((r) => r.status === 'OPEN');
    if (open)
      throw new DomainError('GATE_NOT_MET', `change request ${open.taskId} is still to be decided`, {
        taskId: open.taskId,
      });
    const number = requests.length + 1;
    const task = openTask(ctx, {
      key: `CR-${number}`,
      kind: 'CHANGE_REQUEST',
      title: `项目调整申请（第${number}次）`,
      assigneeOrg: changeApproverOf(policy),
    });
    requests.push({
      number,
      taskId: task.id,
      changes: Object.fromEntries(changes.map((c) => [c.field, c.to])),
      reason: a.reason,
      requestedBy: ctx.req.actor,
      requestedAt: ctx.now,
      baseVersion: detailsVersionOf(s),
      status: 'OPEN',
    });
    ctx.touchedTask = task.id;
    event(ctx, 'CHANGE_REQUESTED', { taskId: task.id, changes, reason: a.reason });
    return `change request ${task.id} sent to ${changeApproverOf(policy)}`;
  },

  decideChange(ctx, a) {
    const { s } = ctx;
    const task = openTaskFor(ctx, a.taskId, ['CHANGE_REQUEST']);
    const request = s.changeRequests?.find((r) => r.taskId === task.id);
    if (!request)
      throw new DomainError('UNKNOWN_TASK', `no change request ${a.taskId}`, { taskId: a.taskId });
    if (a.decision !== 'APPROVE' && a.decision !== 'REFUSE')
      throw new DomainError('INVALID_DATA', 'decision must be APPROVE or REFUSE', { field: 'decision' });
    requireText(a.opinion, 'opinion', 2000, a.decision === 'REFUSE');
    Object.assign(request, {
      status: a.decision === 'APPROVE' ? 'APPROVED' : 'REFUSED',
      decidedBy: ctx.req.actor,
      decidedAt: ctx.now,
      opinion: a.opinion,
    });
    closeTask(ctx, task, { decision: a.decision === 'APPROVE' ? 'PASS' : 'REJECT', opinion: a.opinion });
    event(ctx, 'CHANGE_DECIDED', { taskId: task.id, decision: a.decision, opinion: a.opinion });
    if (a.decision === 'REFUSE') return `change request ${task.id} refused`;
    const changes = changesOf(s.details, request.changes);
    if (changes.length === 0)
      return `change request ${task.id} approved; the details already held these values`;
    const rev = applyRevision(ctx, changes, {
      actor: ctx.req.actor,
      reason: request.reason,
      via: 'CHANGE_REQUEST',
      changeRequest: {
        taskId: task.id,
        requestedBy: request.requestedBy,
        approvedBy: ctx.req.actor,
        opinion: a.opinion,
      },
    });
    return `change request ${task.id} approved; details revised to version ${rev.version}`;
  },
};

/** What changed in the details since `since` (epoch ms): one entry per field, first old value to last new. */
export function changesSince(revisions: readonly Revision[], since: number): FieldChange[] {
  const byField = new Map<string, FieldChange>();
  for (const r of revisions) {
    if (r.at <= since) continue;
    for (const c of r.changes) {
      const seen = byField.get(c.field);
      byField.set(c.field, { field: c.field, from: seen ? seen.from : c.from, to: c.to });
    }
  }
  return [...byField.values()].filter((c) => !same(c.from, c.to));
}

/**
 * The details in force at `instant`: the current ones with every later revision undone. Reports use them, so a
 * plan raised in June does not rewrite May's completion rate.
 */
export function detailsAt<T extends object>(
  details: T,
  revisions: readonly Revision[] | undefined,
  instant: number,
): T {
  const later = (revisions ?? []).filter((r) => r.at > instant);
  if (later.length === 0) return details;
  const d = { ...(details as Record<string, unknown>) };
  for (const r of [...later].reverse())
    for (const c of r.changes) {
      if (c.from === null) delete d[c.field];
      else d[c.field] = c.from;
    }
  return d as T;
}
