import { createHash, randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { ProjectDetails } from '../../domain/project';
import { actorOf, requireRole } from '../auth';
import { ApiError } from '../problem';
import { CreateProjectBody, ProjectIdParams } from '../schemas';
import { body, params } from '../validate';
import type { ApiDeps } from '../app';
import { canRead, loadProjectView } from '../project-view';

/** With an Idempotency-Key the project id derives from it, so a retried create finds the same project. */
function newProjectId(req: Request, org: string): string {
  const key = req.get('Idempotency-Key');
  if (key) return 'P' + createHash('sha256').update(`${org}\n${key}`).digest('hex').slice(0, 20);
  return 'P' + randomUUID().replace(/-/g, '').slice(0, 20);
}

export function projectRoutes(deps: ApiDeps): Router {
  const r = Router();

  r.post('/projects', async (req, res) => {
    const actor = requireRole(req, 'applicant');
    const input = body(req, CreateProjectBody);
    const orgs = deps.orgIndex;
    const expectKind = (id: string, field: string, kinds: string[]) => {
      const o = orgs.get(id);
      if (!o || !kinds.includes(o.kind)) {
        throw new ApiError(400, 'validation', 'Validation failed', `unknown ${field}`, {
          errors: [
            { in: 'body', path: field, message: `must be an organisation of kind ${kinds.join('/')}` },
          ],
        });
      }
    };
    expectKind(input.county, 'county', ['COUNTY']);
    expectKind(input.portfolio, 'portfolio', ['SPECIAL_GROUP']);
    expectKind(input.responsibleDept, 'responsibleDept', ['DEPARTMENT']);
    if (!(input.industry in deps.projects.policy.review.tier1.byIndustry)) {
      throw new ApiError(400, 'validation', 'Validation failed', 'unknown industry', {
        errors: [
          {
            in: 'body',
            path: 'industry',
            message: `one of ${Object.keys(deps.projects.policy.review.tier1.byIndustry).join(', ')}`,
          },
        ],
      });
    }
    const details: ProjectDetails = { ...input, ownerOrg: actor.org };
    const projectId = newProjectId(req, actor.org);
    try {
      await deps.projects.start(projectId, details, actor);
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError && req.get('Idempotency-Key'))) throw err;
    }
    const view = await loadProjectView(deps, projectId);
    res
      .status(201)
      .location(`/api/v1/projects/${projectId}`)
      .json(view ?? { projectId, stage: 'DRAFT', details });
  });

  r.get('/projects/:id', async (req, res) => {
    const actor = actorOf(req);
    const { id } = params(req, ProjectIdParams);
    const view = await loadProjectView(deps, id);
    if (!view || !canRead(actor, view)) throw new ApiError(404, 'not-found', 'Not found', `no project ${id}`);
    res.json(view);
  });

  return r;
}
