import { WorkflowNotFoundError } from '@temporalio/client';
import { canReadProject } from '../domain/access';
import { libraryOf, type Actor } from '../domain/project';
import type { ApiDeps } from './app';

export interface ProjectViewDto {
  projectId: string;
  stage: string;
  library: string;
  policyVersion: string;
  details: Record<string, unknown> & { ownerOrg?: string };
  state: Record<string, unknown>;
  openTasks: Record<string, unknown>[];
  readers?: string[] | undefined;
  seq: number;
  updatedAt: string;
  source: 'read-model' | 'workflow';
}

/** The read model answers; a project the read model has not caught up with yet is read from its workflow. */
export async function loadProjectView(deps: ApiDeps, projectId: string): Promise<ProjectViewDto | undefined> {
  const doc = await deps.models.Project.findById(projectId).lean();
  if (doc) {
    return {
      projectId: doc._id,
      stage: doc.stage,
      library: doc.library,
      policyVersion: doc.policyVersion,
      details: doc.details,
      state: doc.state,
      openTasks: doc.openTasks,
      readers: doc.readers,
      seq: doc.seq,
      updatedAt: doc.updatedAt.toISOString(),
      source: 'read-model',
    };
  }
  try {
    const live = await deps.projects.query(projectId);
    const { tasks, details, readers, ...state } = live;
    return {
      projectId,
      stage: live.stage,
      library: libraryOf(live.stage),
      policyVersion: live.policyVersion,
      details: details as unknown as ProjectViewDto['details'],
      state: state as unknown as Record<string, unknown>,
      openTasks: tasks.filter((t) => t.status === 'OPEN') as unknown as Record<string, unknown>[],
      readers,
      seq: live.seq,
      updatedAt: new Date().toISOString(),
      source: 'workflow',
    };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** Who may read a project: the one rule of domain/access.ts. */
export function canRead(actor: Actor, view: ProjectViewDto, leadingGroup: string): boolean {
  return canReadProject(actor, view, leadingGroup);
}

/** The ETag of a version of a project's details (domain/revisions.ts). */
export function etagOf(version: number): string {
  return `"v${version}"`;
}
