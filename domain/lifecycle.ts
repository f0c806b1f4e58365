/**
 * The project lifecycle as plain functions over ProjectState: deterministic, sandbox-safe and unit-testable.
 * The workflow calls `validateAction` from update validators and `applyAction` from update handlers. Each
 * stage's actions live in domain/stages/, around the shared task operations of domain/task-ops.ts.
 */
import type { Policy } from '../policy/schema';
import type { ActionRequest } from './actions';
import { DomainError } from './errors';
import type { Actor, ProjectDetails } from './project';
import type { ActionResult, ProjectState } from './state';
import type { BlockerChange } from './blockers';
import { recordEvent } from './events';
import { applyOnboarding, type OnboardingFacts } from './onboarding';
import { isTerminal, type Ctx, type Handlers } from './task-ops';
import { planningHandlers } from './stages/planning';
import { reserveHandlers } from './stages/reserve';
import { preConstructionHandlers } from './stages/pre-construction';
import { implementationHandlers } from './stages/implementation';
import { anyStageHandlers } from './stages/any-stage';
import { reviewOutputHandlers } from './stages/review-outputs';
import { fundingHandlers } from './funding';
import { detailsVersionOf, revisionHandlers } from './revisions';

export { recordEvent, isTerminal };
export { tier1Departments } from './stages/planning';
export { assigneeOf, basisPoints, requiredItems } from './task-ops';

/** How many processed request ids a project remembers (dedup window, carried across continue-as-new). */
export const PROCESSED_REQUEST_LIMIT = 500;

const HANDLERS: Handlers = {
  ...planningHandlers,
  ...reserveHandlers,
  ...preConstructionHandlers,
  ...implementationHandlers,
  ...anyStageHandlers,
  ...revisionHandlers,
  ...reviewOutputHandlers,
  ...fundingHandlers,
};

export function createInitialState(
  projectId: string,
  details: ProjectDetails,
  policy: Policy,
  createdBy: Actor,
  now: number,
  onboarding?: OnboardingFacts,
): ProjectState {
  const s: ProjectState = {
    projectId,
    policyVersion: policy.version,
    details,
    stage: 'DRAFT',
    round: 0,
    createdAt: now,
    createdBy,
    tasks: [],
    reports: [],
    payments: [],
    cumulativePaidYuan: 0,
    lastProgressAt: now,
    flags: { stale: false, overdue: false },
    seq: 0,
    processed: [],
    outbox: { events: [], taskIds: [] },
  };
  recordEvent(s, {
    type: 'PROJECT_CREATED',
    actor: createdBy,
    stageBefore: 'DRAFT',
    at: now,
    data: { policyVersion: policy.version },
  });
  if (onboarding) applyOnboarding(s, policy, onboarding, createdBy, now);
  return s;
}

export function previousResult(s: ProjectState, requestId: string): ActionResult | undefined {
  return s.processed.find((p) => p.requestId === requestId)?.result;
}

/** Throws the DomainError that `applyAction` would throw, without touching the state. */
export function validateAction(s: ProjectState, policy: Policy, req: ActionRequest, now: number): void {
  if (previousResult(s, req.requestId)) return; // a repeat is answered with the first result
  applyAction(JSON.parse(JSON.stringify(s)) as ProjectState, policy, req, now);
}

/** Applies one validated action, records its events, and remembers the result under the request id. */
export function applyAction(s: ProjectState, policy: Policy, req: ActionRequest, now: number): ActionResult {
  const earlier = previousResult(s, req.requestId);
  if (earlier) return earlier;
  checkRequest(req);
  const ctx: Ctx = {
    s,
    policy,
    req,
    now,
    stageBefore: s.stage,
    touchedTask: undefined,
  };
  const message = HANDLERS[req.action.type](ctx, req.action as never);
  const result: ActionResult = {
    projectId: s.projectId,
    stage: s.stage,
    seq: s.seq,
    message,
    taskId: ctx.touchedTask,
    ...(ctx.touchedBlocker ? { blockerId: ctx.touchedBlocker } : {}),
    detailsVersion: detailsVersionOf(s),
  };
  s.processed.push({ requestId: req.requestId, result });
  if (s.processed.length > PROCESSED_REQUEST_LIMIT)
    s.processed.splice(0, s.processed.length - PROCESSED_REQUEST_LIMIT);
  return result;
}

function checkRequest(req: ActionRequest): void {
  if (typeof req.requestId !== 'string' || req.requestId.length < 1 || req.requestId.length > 200) {
    throw new DomainError('INVALID_DATA', 'requestId must be 1–200 characters', { field: 'requestId' });
  }
  if (
    !req.actor ||
    typeof req.actor.userId !== 'string' ||
    typeof req.actor.org !== 'string' ||
    !Array.isArray(req.actor.roles)
  ) {
    throw new DomainError('INVALID_DATA', 'actor must have userId, org and roles', { field: 'actor' });
  }
  if (!req.action || !(req.action.type in HANDLERS))
    throw new DomainError('INVALID_DATA', 'unknown action', { field: 'action.type' });
}

/**
 * A blocker's workflow reports a change (resolved, reopened, closed, escalated): the project's summary follows
 * and its audit trail records it, so the project's read model, reports and supervisors see it.
 * Returns false for a stale or unknown report (signals may arrive late or twice).
 */
export function applyBlockerChange(s: ProjectState, change: BlockerChange): boolean {
  const b = s.blockers?.find((x) => x.id === change.blockerId);
  if (!b) return false;
  const order = (x: { round: number; status: string; escalationLevel: number }) =>
    x.round * 1000 + (x.status === 'CLOSED' ? 200 : x.status === 'RESOLVED' ? 100 : 0) + x.escalationLevel;
  if (order(change) <= order(b)) return false;
  const before = { status: b.status, escalationLevel: b.escalationLevel, round: b.round };
  Object.assign(b, {
    status: change.status,
    round: change.round,
    escalationLevel: change.escalationLevel,
    closedAt: change.closedAt,
  });
  recordEvent(s, {
    type: 'BLOCKER_UPDATED',
    stageBefore: s.stage,
    at: change.at,
    data: {
      blockerId: b.id,
      before,
      after: { status: b.status, escalationLevel: b.escalationLevel, round: b.round },
    },
  });
  return true;
}
