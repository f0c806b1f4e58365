import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import {
  BLOCKER_CATEGORIES,
  BLOCKER_LEVELS,
  type BlockerAction,
  type BlockerCategory,
  type BlockerLevel,
} from '../../domain/blockers';
import type { BlockerDoc } from '../../db/models';
import { auditTrailOf, type AuditEvent } from '../../db/queries';
import type { Actor } from '../../domain/project';
import type { ApiDeps } from '../app';
import { seesEveryProject } from '../../domain/access';
import { ApiError } from '../problem';
import { route, type AnyRouteSpec, type RouteContext } from '../registry';
import { ROLES } from '../auth';
import * as S from '../schemas';
import { requestIdOf, sendAction } from './actions';
import { readable } from './projects';
import { awaitReadModel, blockerAt, projectKnowsBlocker } from '../read-your-writes';

const CATEGORY_KEYS = Object.keys(BLOCKER_CATEGORIES) as [BlockerCategory, ...BlockerCategory[]];
const LEVEL_KEYS = Object.keys(BLOCKER_LEVELS) as [BlockerLevel, ...BlockerLevel[]];

export const RaiseBlockerBody = z.strictObject({
  category: z.enum(CATEGORY_KEYS).describe(
    Object.entries(BLOCKER_CATEGORIES)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
  ),
  level: z.enum(LEVEL_KEYS).describe('COUNTY 县级, CITY 市级, PROVINCE 省级 (三级联动)'),
  responsibleOrg: z.string().regex(/^[a-z0-9-]{2,40}$/, 'an organisation id of the policy'),
  description: z.string().trim().min(4).max(2000),
});
const RAISE_EXAMPLE: z.input<typeof RaiseBlockerBody> = {
  category: 'LAND',
  level: 'CITY',
  responsibleOrg: 'natural-resources',
  description: '项目用地指标未落实，影响按期开工',
};
const ResolveBody = z.strictObject({ note: z.string().trim().min(2).max(2000) });
const ConfirmBody = z.strictObject({ note: z.string().trim().min(1).max(2000).optional() });
const ReopenBody = z.strictObject({ reason: z.string().trim().min(2).max(2000) });

const BlockerIdParams = z.strictObject({
  blockerId: z.string().regex(/^[A-Za-z0-9_-]{1,64}-B\d{1,4}$/, 'invalid blocker id'),
});
const BlockerListQuery = z.strictObject({
  status: z.enum(['OPEN', 'RESOLVED', 'CLOSED']).optional(),
  org: z
    .string()
    .regex(/^[a-z0-9-]{2,40}$/)
    .optional()
    .describe('responsible or raising organisation'),
  level: z.enum(LEVEL_KEYS).optional(),
  category: z.enum(CATEGORY_KEYS).optional(),
  overdue: z.enum(['true', 'false']).optional(),
});

const BlockerResultSchema = z.object({
  blockerId: z.string(),
  projectId: z.string(),
  status: z.string(),
  seq: z.number().int(),
  message: z.string(),
  requestId: z.string(),
});

const involves = (b: BlockerDoc, org: string) => b.responsibleOrg === org || b.raisedByOrg === org;

/** The API's shape of a blocker: labels users read beside the codes. */
function blockerDto(b: BlockerDoc) {
  return {
    blockerId: b._id,
    projectId: b.projectId,
    projectName: b.projectName,
    category: b.category,
    categoryLabel: BLOCKER_CATEGORIES[b.category as BlockerCategory] ?? b.category,
    level: b.level,
    levelLabel: BLOCKER_LEVELS[b.level as BlockerLevel] ?? b.level,
    responsibleOrg: b.responsibleOrg,
    description: b.description,
    raisedBy: b.raisedBy,
    raisedAt: b.raisedAt,
    status: b.status,
    round: b.round,
    escalationLevel: b.escalationLevel,
    overdue: b.overdue,
    dueAt: b.dueAt,
    openTaskId: (b.openTask as { id?: string } | null)?.id ?? null,
    resolutions: b.resolutions,
    reopenings: b.reopenings,
    closedAt: b.closedAt,
    closedBy: b.closedBy,
  };
}

const byDue = (a: BlockerDoc, b: BlockerDoc) =>
  (a.dueAt ? new Date(a.dueAt).getTime() : Infinity) - (b.dueAt ? new Date(b.dueAt).getTime() : Infinity) ||
  new Date(a.raisedAt).getTime() - new Date(b.raisedAt).getTime();

/** Reminders and escalations in a trail, as the supervisor's view lists them. */
function clockEvents(trail: AuditEvent[]) {
  return trail
    .filter((e) => e.type === 'REMINDER_SENT' || e.type === 'ESCALATED')
    .map((e) => ({
      at: e.at,
      type: e.type,
      taskId: e.data?.taskId,
      level: e.data?.level ?? null,
      label: e.data?.label ?? null,
      to: e.data?.to ?? e.data?.recipients ?? null,
      dueAt: e.data?.dueAt ?? null,
    }));
}

export function blockerRoutes(deps: ApiDeps): AnyRouteSpec[] {
  // The project access rule (domain/access.ts) decides who sees every blocker too.
  const seesAll = (actor: Actor) => seesEveryProject(actor, deps.projects.policy.leadingGroup);
  /** The blocker's stored record, if the caller may see it; 404 alike for absent and not visible. */
  async function visibleBlocker(actor: Actor, blockerId: string): Promise<BlockerDoc> {
    const b = await deps.models.Blocker.findById(blockerId).lean();
    if (b && (seesAll(actor) || involves(b, actor.org))) return b;
    if (b) {
      // Anyone who may read the project may read its blockers.
      await readable(deps, actor, b.projectId);
      return b;
    }
    throw new ApiError(404, 'not-found', 'Not found', `no blocker ${blockerId}`);
  }

  async function sendBlockerAction(
    ctx: RouteContext<unknown, unknown, unknown>,
    blockerId: string,
    action: BlockerAction,
  ) {
    const requestId = requestIdOf(ctx);
    await visibleBlocker(ctx.actor, blockerId);
    try {
      const result = await deps.projects.actOnBlocker(blockerId, requestId, ctx.actor, action, {
        timeoutMs: deps.updateTimeoutMs,
      });
      ctx.res.setHeader('Content-Location', `/api/v1/blockers/${blockerId}`);
      await awaitReadModel(deps, ctx.res, [
        blockerAt(deps, blockerId, result.seq),
        projectKnowsBlocker(deps, result.projectId, blockerId),
      ]);
      return { ...result, requestId };
    } catch (err) {
      // The blocker's workflow ends when it is closed: nothing more can be done to it.
      if (err instanceof WorkflowNotFoundError)
        throw new ApiError(409, 'wrong-stage', 'Wrong stage', `blocker ${blockerId} is closed`, {
          errorType: 'WRONG_STAGE',
        });
      throw err;
    }
  }

  const blockerAction = <B>(def: {
    path: string;
    summary: string;
    roles: AnyRouteSpec['roles'];
    body: z.ZodType<B>;
    example: unknown;
    toAction: (b: B) => BlockerAction;
  }) =>
    route<{ blockerId: string }, unknown, B>({
      method: 'post',
      path: def.path,
      summary: def.summary,
      tag: 'Blockers',
      roles: def.roles,
      params: BlockerIdParams,
      body: def.body,
      bodyExample: def.example,
      success: {
        status: 200,
        description: 'Applied (or had been, under the same Idempotency-Key)',
        schema: BlockerResultSchema,
      },
      problems: [404, 409, 422, 504],
      idempotent: true,
      handler: (ctx) => sendBlockerAction(ctx, ctx.params.blockerId, def.toAction(ctx.body)),
    });

  return [
    route({
      method: 'post',
      path: '/projects/:id/blockers',
      summary:
        '提报堵点：raise a blocker on a project (anyone working on it); a child workflow runs its clock',
      tag: 'Blockers',
      roles: ['applicant', 'reviewer', 'leader'],
      params: S.ProjectIdParams,
      body: RaiseBlockerBody,
      bodyExample: RAISE_EXAMPLE,
      success: { status: 201, description: 'Raised; Location names the blocker' },
      problems: [404, 409, 422, 504],
      idempotent: true,
      handler: async (ctx) => {
        const o = deps.orgIndex.get(ctx.body.responsibleOrg);
        if (!o || !['DEPARTMENT', 'COUNTY', 'SPECIAL_GROUP'].includes(o.kind))
          throw new ApiError(400, 'validation', 'Validation failed', 'the request body is invalid', {
            errors: [
              {
                in: 'body',
                path: 'responsibleOrg',
                message: 'must be a department, county or special group',
              },
            ],
          });
        // The blocker's own workflow writes its record and the responsible organisation's task: wait for it too.
        const result = await sendAction(
          deps,
          ctx,
          ctx.params.id,
          { type: 'raiseBlocker', ...ctx.body },
          (r) => (r.blockerId ? [blockerAt(deps, r.blockerId, 1)] : []),
        );
        if (result.blockerId) ctx.res.location(`/api/v1/blockers/${result.blockerId}`);
        return result;
      },
    }),
    route({
      method: 'get',
      path: '/projects/:id/blockers',
      summary: '项目堵点：the blockers raised on a project, open ones first by deadline',
      tag: 'Blockers',
      roles: ROLES,
      params: S.ProjectIdParams,
      success: { status: 200, description: 'The project’s blockers' },
      problems: [404],
      handler: async ({ actor, params }) => {
        await readable(deps, actor, params.id);
        const docs = await deps.models.Blocker.find({ projectId: params.id }).lean();
        const open = docs.filter((b) => b.status !== 'CLOSED').sort(byDue);
        const closed = docs.filter((b) => b.status === 'CLOSED').sort(byDue);
        return { projectId: params.id, blockers: [...open, ...closed].map(blockerDto) };
      },
    }),
    route({
      method: 'get',
      path: '/blockers',
      summary:
        '堵点清单：blockers by status, organisation, level, category; others than supervisors see their organisation’s',
      tag: 'Blockers',
      roles: ROLES,
      query: BlockerListQuery,
      success: { status: 200, description: 'Blockers, earliest deadline first' },
      handler: async ({ actor, query }) => {
        const filter: Record<string, unknown> = {};
        if (query.status) filter.status = query.status;
        if (query.level) filter.level = query.level;
        if (query.category) filter.category = query.category;
        if (query.overdue) filter.overdue = query.overdue === 'true';
        const org = seesAll(actor) ? query.org : actor.org;
        if (!seesAll(actor) && query.org && query.org !== actor.org)
          throw new ApiError(403, 'forbidden', 'Forbidden', 'you see the blockers of your own organisation');
        const docs = (await deps.models.Blocker.find(filter).lean()).filter((b) => !org || involves(b, org));
        return { org: org ?? null, blockers: docs.sort(byDue).map(blockerDto) };
      },
    }),
    route({
      method: 'get',
      path: '/blockers/:blockerId',
      summary: '堵点详情：one blocker with its rounds, resolutions and audit trail',
      tag: 'Blockers',
      roles: ROLES,
      params: BlockerIdParams,
      success: { status: 200, description: 'The blocker and its trail' },
      problems: [404],
      handler: async ({ actor, params }) => {
        const b = await visibleBlocker(actor, params.blockerId);
        return { ...blockerDto(b), events: await auditTrailOf(deps.models, b._id) };
      },
    }),
    blockerAction({
      path: '/blockers/:blockerId/resolution',
      summary: '堵点疏解：the responsible organisation records how the blocker was solved',
      roles: ['reviewer', 'leader'],
      body: ResolveBody,
      example: { note: '已调剂新增建设用地指标，项目用地预审通过' },
      toAction: (b) => ({ type: 'resolveBlocker', note: b.note }),
    }),
    blockerAction({
      path: '/blockers/:blockerId/confirmation',
      summary: '销号确认：the raising organisation confirms the resolution; the blocker is closed',
      roles: ['applicant', 'reviewer', 'leader'],
      body: ConfirmBody,
      example: { note: '问题已解决，同意销号' },
      toAction: (b) => ({ type: 'confirmBlockerClosure', note: b.note }),
    }),
    blockerAction({
      path: '/blockers/:blockerId/reopening',
      summary: '退回重办：the raising organisation rejects the resolution; a new round with a new deadline',
      roles: ['applicant', 'reviewer', 'leader'],
      body: ReopenBody,
      example: { reason: '用地指标仅落实一半，仍影响开工' },
      toAction: (b) => ({ type: 'reopenBlocker', reason: b.reason }),
    }),
    route({
      method: 'get',
      path: '/projects/:id/supervision',
      summary:
        '督办视图：every reminder and escalation of the project’s tasks and blockers across its life, and its blockers',
      tag: 'Supervision',
      roles: ['supervisor', 'leader', 'admin'],
      params: S.ProjectIdParams,
      success: { status: 200, description: 'Reminders, escalations and blockers' },
      problems: [404],
      handler: async ({ actor, params }) => {
        const view = await readable(deps, actor, params.id);
        const trail = await auditTrailOf(deps.models, params.id);
        const blockers = (await deps.models.Blocker.find({ projectId: params.id }).lean()).sort(
          (a, b) => a.number - b.number,
        );
        const withClocks = await Promise.all(
          blockers.map(async (b) => ({
            ...blockerDto(b),
            clock: clockEvents(await auditTrailOf(deps.models, b._id)),
          })),
        );
        const taskClock = clockEvents(trail);
        return {
          projectId: params.id,
          name: view.details.name,
          stage: view.stage,
          summary: {
            reminders: taskClock.filter((e) => e.type === 'REMINDER_SENT').length,
            escalations: taskClock.filter((e) => e.type === 'ESCALATED').length,
            highestEscalation: Math.max(0, ...taskClock.map((e) => Number(e.level ?? 0))),
            blockers: blockers.length,
            openBlockers: blockers.filter((b) => b.status !== 'CLOSED').length,
          },
          tasks: taskClock,
          blockers: withClocks,
        };
      },
    }),
  ];
}
