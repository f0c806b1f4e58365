import type { Response } from 'express';
import { TERMINAL_STAGES, type Stage } from '../domain/project';
import type { ActionResult, BlockerSummary, Task } from '../domain/state';
import { awaitsNewDeadline } from '../domain/time';
import type { ApiDeps } from './app';

/**
 * Read your writes (issue 15 §5): an action is answered once the read model shows it, so the very next
 * `GET /projects/:id`, inbox, trail or blocker view shows its effect. Each check reads one document by `_id`
 * (the only filter FerretDB serves without a scan); a sync writes a record last, after its trail and tasks,
 * so a record that has caught up vouches for them too.
 */
export type ReadModelCheck = () => Promise<boolean>;

/**
 * Waits until every check holds, within one budget (`readYourWritesMs`, 10 s) shared by all of them; past it the
 * answer goes out anyway with `X-Read-Model: behind`. Returns whether the read model caught up.
 */
export async function awaitReadModel(
  deps: ApiDeps,
  res: Response,
  checks: readonly ReadModelCheck[],
): Promise<boolean> {
  const deadline = Date.now() + (deps.readYourWritesMs ?? 10_000);
  for (const check of checks) {
    if (!(await pollUntil(check, deadline))) {
      res.setHeader('X-Read-Model', 'behind');
      return false;
    }
  }
  return true;
}

async function pollUntil(check: ReadModelCheck, deadline: number): Promise<boolean> {
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    if (await check()) return true;
    if (Date.now() + wait > deadline) return false;
    await new Promise((r) => setTimeout(r, wait));
  }
}

/**
 * The project's record has reached `seq` and, if the action moved `taskId`'s deadline (an extension, a resumed
 * clock, a postponed meeting), shows the new one: the workflow computes it just after the action, as its own
 * transition.
 */
export function projectAt(deps: ApiDeps, projectId: string, seq: number, taskId?: string): ReadModelCheck {
  return async () => {
    const doc = await deps.models.Project.findById(projectId, { seq: 1, openTasks: 1 }).lean();
    if (!doc || doc.seq < seq) return false;
    const task = taskId ? (doc.openTasks as unknown as Task[]).find((t) => t.id === taskId) : undefined;
    return !task || !awaitsNewDeadline(task);
  };
}

/**
 * What the project's record must show after `result`. A workflow that answers only once its record is written
 * (from 1.1, `recorded`) needs no read at all; an older run's answer is checked as `projectAt`.
 */
export function projectShows(deps: ApiDeps, result: ActionResult): ReadModelCheck {
  if (result.recorded === true) return () => Promise.resolve(true);
  return projectAt(deps, result.projectId, result.seq, result.taskId);
}

/** The blocker's record (its status, tasks and trail) has reached `seq`. */
export function blockerAt(deps: ApiDeps, blockerId: string, seq: number): ReadModelCheck {
  return async () => ((await deps.models.Blocker.findById(blockerId, { seq: 1 }).lean())?.seq ?? -1) >= seq;
}

/**
 * The project's record (its blocker summary and trail) shows the blocker as far as the blocker's record does.
 * The blocker tells its project by signal before it writes its own record; an ended project no longer listens.
 */
export function projectKnowsBlocker(deps: ApiDeps, projectId: string, blockerId: string): ReadModelCheck {
  return async () => {
    const [blocker, project] = await Promise.all([
      deps.models.Blocker.findById(blockerId, { status: 1, round: 1 }).lean(),
      deps.models.Project.findById(projectId, { stage: 1, 'state.blockers': 1 }).lean(),
    ]);
    if (!blocker || !project) return false;
    if (TERMINAL_STAGES.includes(project.stage as Stage)) return true;
    const known = (project.state?.blockers as BlockerSummary[] | undefined)?.find((b) => b.id === blockerId);
    return known !== undefined && progress(known) >= progress(blocker);
  };
}

/** How far a blocker has come; it only moves forward (domain/lifecycle.ts `applyBlockerChange` orders alike). */
const progress = (b: { round: number; status: string }) =>
  b.round * 10 + ['OPEN', 'RESOLVED', 'CLOSED'].indexOf(b.status);
