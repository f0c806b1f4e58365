/**
 * Who may read a project: one rule for the API's project routes, its lists and its blockers.
 *
 * - Supervisors and administrators read every project, and so do the leading group's leaders (they decide
 *   tier 3, removals and extensions across all portfolios).
 * - Everyone else reads the projects of the organisations named in its `readers`: the owner, the county,
 *   the responsible department, the special group of its portfolio, every organisation that ever held one of
 *   its tasks (a department keeps reading a project after its screening closes) and every organisation
 *   responsible for one of its blockers.
 */
import type { Actor, ProjectDetails } from './project';

const SEES_EVERY_PROJECT: readonly string[] = ['supervisor', 'admin'];

export function seesEveryProject(actor: Pick<Actor, 'roles' | 'org'>, leadingGroup: string): boolean {
  if (actor.roles.some((r) => SEES_EVERY_PROJECT.includes(r))) return true;
  return actor.roles.includes('leader') && actor.org === leadingGroup;
}

/** The organisations that read a project, from what the workflow knows of it. */
export function readersOf(s: {
  details: Pick<ProjectDetails, 'ownerOrg' | 'county' | 'responsibleDept' | 'portfolio'>;
  tasks: readonly { assigneeOrg: string }[];
  blockers?: readonly { responsibleOrg: string }[] | undefined;
}): string[] {
  const orgs = new Set<string>([
    s.details.ownerOrg,
    s.details.county,
    s.details.responsibleDept,
    s.details.portfolio,
  ]);
  for (const t of s.tasks) orgs.add(t.assigneeOrg);
  for (const b of s.blockers ?? []) orgs.add(b.responsibleOrg);
  return [...orgs].sort();
}

/** The stored or live project as the access rule needs it; `readers` is absent on records of older releases. */
export interface ReadableProject {
  readers?: readonly string[] | undefined;
  details: Partial<Pick<ProjectDetails, 'ownerOrg' | 'county' | 'responsibleDept' | 'portfolio'>>;
  openTasks: readonly { assigneeOrg?: unknown }[];
}

export function canReadProject(
  actor: Pick<Actor, 'roles' | 'org'>,
  project: ReadableProject,
  leadingGroup: string,
): boolean {
  if (seesEveryProject(actor, leadingGroup)) return true;
  const readers =
    project.readers ??
    readersOf({
      details: project.details as ProjectDetails,
      tasks: project.openTasks.map((t) => ({ assigneeOrg: String(t.assigneeOrg) })),
    });
  return readers.includes(actor.org);
}
