import { z } from 'zod';
import {
  DIRECT_FIELDS,
  DRAFT_ONLY_FIELDS,
  RELIED_ON_FIELDS,
  changesSince,
  detailsVersionOf,
  type ChangeRequest,
  type Revision,
} from '../../domain/revisions';
import { auditTrailOf } from '../../db/queries';
import type { ApiDeps } from '../app';
import { ApiError } from '../problem';
import { route, type AnyRouteSpec, type RouteContext } from '../registry';
import { ROLES } from '../auth';
import * as S from '../schemas';
import { sendAction } from './actions';
import { readable } from './projects';
import { etagOf } from '../project-view';
import { assertKnownLeader } from '../project-input';

const IF_MATCH = {
  name: 'If-Match',
  required: true,
  description: 'The ETag of `GET /projects/{id}` the change starts from; a stale one answers 412, none 428',
} as const;

/** The version an edit starts from, from `If-Match`; a change without it could overwrite someone else's. */
function expectedVersion(ctx: RouteContext<unknown, unknown, unknown>): number {
  const header = ctx.req.get('If-Match');
  if (header === undefined || header.trim() === '*')
    throw new ApiError(
      428,
      'precondition-required',
      'Precondition required',
      'send If-Match with the ETag of GET /projects/{id}: a change names the version it starts from',
    );
  const m = /^"v(\d{1,9})"$/.exec(header.trim());
  if (!m)
    throw new ApiError(
      412,
      'stale-version',
      'Precondition failed',
      `If-Match ${header} is not an ETag of this project; read it again`,
      { errorType: 'STALE_VERSION' },
    );
  return Number(m[1]);
}

function withEtag(
  ctx: RouteContext<unknown, unknown, unknown>,
  result: { detailsVersion?: number | undefined },
) {
  if (result.detailsVersion !== undefined) ctx.res.setHeader('ETag', etagOf(result.detailsVersion));
  return result;
}

export function revisionRoutes(deps: ApiDeps): AnyRouteSpec[] {
  return [
    route({
      method: 'patch',
      path: '/projects/:id',
      summary: `修改项目：a JSON merge patch of the details by the owner — any of them in DRAFT (also after a RETURN); past 谋划 only ${DIRECT_FIELDS.join(', ')} (the rest by a change request); needs If-Match`,
      tag: 'Projects',
      roles: ['applicant'],
      params: S.ProjectIdParams,
      body: S.DetailsPatchBody,
      bodyExample: S.EXAMPLES.detailsPatch,
      headers: [IF_MATCH],
      success: { status: 200, description: 'The new version; its ETag in the ETag header' },
      problems: [404, 409, 412, 422, 428, 504],
      idempotent: true,
      handler: async (ctx) => {
        await readable(deps, ctx.actor, ctx.params.id);
        await assertKnownLeader(ctx.body, deps.models.People);
        const version = expectedVersion(ctx);
        const { reason, ...patch } = ctx.body;
        const result = await sendAction(deps, ctx, ctx.params.id, {
          type: 'editDetails',
          patch,
          expectedVersion: version,
          reason,
        });
        return withEtag(ctx, result);
      },
    }),
    route({
      method: 'post',
      path: '/projects/:id/change-requests',
      summary: `项目调整申请：past 谋划 the owner asks 市发改委 to change ${RELIED_ON_FIELDS.join(', ')} (年度计划调整), with a reason; needs If-Match`,
      tag: 'Projects',
      roles: ['applicant'],
      params: S.ProjectIdParams,
      body: S.ChangeRequestBody,
      bodyExample: S.EXAMPLES.changeRequest,
      headers: [IF_MATCH],
      success: { status: 200, description: 'The change request’s task, in the approver’s inbox' },
      problems: [404, 409, 412, 422, 428, 504],
      idempotent: true,
      handler: async (ctx) => {
        await readable(deps, ctx.actor, ctx.params.id);
        await assertKnownLeader(ctx.body.changes, deps.models.People, 'changes.');
        const version = expectedVersion(ctx);
        return sendAction(deps, ctx, ctx.params.id, {
          type: 'requestChange',
          changes: ctx.body.changes,
          reason: ctx.body.reason,
          expectedVersion: version,
        });
      },
    }),
    route({
      method: 'post',
      path: '/tasks/:taskId/change-decision',
      summary: '调整审批：市发改委 approves or refuses a change request (a refusal needs an opinion)',
      tag: 'Tasks',
      roles: ['reviewer'],
      params: S.TaskIdParams,
      body: S.ChangeDecisionBody,
      bodyExample: S.EXAMPLES.changeDecision,
      success: { status: 200, description: 'Decided; an approval is the project’s next version' },
      problems: [404, 409, 422, 504],
      idempotent: true,
      handler: async (ctx) => {
        const projectId = ctx.params.taskId.slice(0, ctx.params.taskId.indexOf('~'));
        const result = await sendAction(deps, ctx, projectId, {
          type: 'decideChange',
          taskId: ctx.params.taskId,
          decision: ctx.body.decision,
          opinion: ctx.body.opinion,
        });
        return withEtag(ctx, result);
      },
    }),
    route({
      method: 'get',
      path: '/projects/:id/revisions',
      summary:
        '版本记录：every version of the project’s details (who, when, why, old and new value of each field), its change requests, and what changed since the last RETURN',
      tag: 'Projects',
      roles: ROLES,
      params: S.ProjectIdParams,
      success: {
        status: 200,
        description: 'Versions oldest first',
        schema: z.object({
          projectId: z.string(),
          version: z.number().int(),
          editable: z.object({
            draftOnly: z.array(z.string()),
            byChangeRequest: z.array(z.string()),
            direct: z.array(z.string()),
          }),
          revisions: z.array(z.unknown()),
          changeRequests: z.array(z.unknown()),
          sinceLastReturn: z.unknown(),
        }),
      },
      problems: [404],
      handler: async (ctx) => {
        const view = await readable(deps, ctx.actor, ctx.params.id);
        const state = view.state as {
          detailsVersion?: number;
          revisions?: Revision[];
          changeRequests?: ChangeRequest[];
        };
        // The last RETURN comes from the trail (one document per project, read by `_id`).
        const returned = (await auditTrailOf(deps.models, ctx.params.id))
          .filter((e) => e.type === 'REVIEW_DECIDED' && e.data?.decision === 'RETURN')
          .pop();
        const version = detailsVersionOf(state);
        ctx.res.setHeader('ETag', etagOf(version));
        return {
          projectId: ctx.params.id,
          version,
          editable: {
            draftOnly: [...DRAFT_ONLY_FIELDS],
            byChangeRequest: [...RELIED_ON_FIELDS],
            direct: [...DIRECT_FIELDS],
          },
          revisions: state.revisions ?? [],
          changeRequests: state.changeRequests ?? [],
          sinceLastReturn: returned
            ? {
                taskId: returned.data?.taskId ?? null,
                returnedAt: new Date(returned.at).toISOString(),
                by: returned.data?.org ?? null,
                opinion: returned.data?.opinion ?? null,
                changes: changesSince(state.revisions ?? [], new Date(returned.at).getTime()),
              }
            : null,
        };
      },
    }),
  ];
}
