import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import type { ProjectAction } from '../../domain/actions';
import type { ActionResult } from '../../domain/state';
import type { ApiDeps } from '../app';
import { ApiError } from '../problem';
import { loadProjectView } from '../project-view';
import { awaitReadModel, projectShows, type ReadModelCheck } from '../read-your-writes';
import { route, type AnyRouteSpec, type RouteContext } from '../registry';
import type { Role } from '../auth';
import * as S from '../schemas';

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,200}$/;

export const ActionResultSchema = z.object({
  projectId: z.string(),
  stage: z.string(),
  seq: z.number().int(),
  message: z.string(),
  taskId: z.string().optional(),
  blockerId: z.string().optional(),
  detailsVersion: z.number().int().optional(),
  requestId: z.string(),
});

/** The update id of an action: the caller's Idempotency-Key (scoped to the caller), else a fresh id. */
export function requestIdOf(ctx: RouteContext<unknown, unknown, unknown>): string {
  const key = ctx.req.get('Idempotency-Key');
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new ApiError(
      400,
      'validation',
      'Validation failed',
      'Idempotency-Key must be 8–200 characters of A–Z a–z 0–9 . _ : -',
      {
        errors: [{ in: 'header', path: 'Idempotency-Key', message: 'invalid' }],
      },
    );
  }
  return key ? `${ctx.actor.userId}:${key}` : randomUUID();
}

/**
 * Sends one lifecycle action as an Update; the Idempotency-Key (scoped to the caller) is its update id. Answers
 * once the read model shows the action (read your writes): the project's record, and whatever `alsoAwait` names
 * (e.g. the record of a blocker the action raised).
 */
export async function sendAction(
  deps: ApiDeps,
  ctx: RouteContext<unknown, unknown, unknown>,
  projectId: string,
  action: ProjectAction,
  alsoAwait: (result: ActionResult) => ReadModelCheck[] = () => [],
) {
  const requestId = requestIdOf(ctx);
  // The Update goes first: only when no workflow takes it is it worth a read to tell an unknown project (404) from
  // a closed one (409). Every action saves the read of the whole record FerretDB would decode for it.
  const result = await deps.projects
    .act(projectId, requestId, ctx.actor, action as Extract<ProjectAction, { type: 'submit' }>, {
      timeoutMs: deps.updateTimeoutMs,
    })
    .catch(async (err: unknown) => {
      if (
        err instanceof WorkflowNotFoundError &&
        !(await deps.models.Project.exists({ _id: projectId })) &&
        !(await loadProjectView(deps, projectId))
      )
        throw new ApiError(404, 'not-found', 'Not found', `no project ${projectId}`);
      throw err;
    });
  ctx.res.setHeader('Content-Location', `/api/v1/projects/${projectId}`);
  await awaitReadModel(deps, ctx.res, [projectShows(deps, result), ...alsoAwait(result)]);
  const { recorded: _recorded, ...answer } = result;
  return { ...answer, requestId };
}

const projectOf = (taskId: string) => taskId.slice(0, taskId.indexOf('~'));

interface ActionRouteDef<B> {
  path: string;
  summary: string;
  roles: readonly Role[];
  body?: z.ZodType<B>;
  example?: unknown;
  on: 'project' | 'task';
  toAction(body: B, ids: { projectId: string; taskId?: string }): ProjectAction;
}

function actionRoute<B>(deps: ApiDeps, def: ActionRouteDef<B>): AnyRouteSpec {
  return route<{ id?: string; taskId?: string }, unknown, B>({
    method: 'post',
    path: def.path,
    summary: def.summary,
    tag: def.on === 'task' ? 'Tasks' : 'Lifecycle actions',
    roles: def.roles,
    params: def.on === 'task' ? S.TaskIdParams : S.ProjectIdParams,
    ...(def.body ? { body: def.body, bodyExample: def.example } : {}),
    success: {
      status: 200,
      description: 'The action was applied (or had been, under the same Idempotency-Key)',
      schema: ActionResultSchema,
    },
    problems: [404, 409, 422, 429, 504],
    idempotent: true,
    handler: (ctx) => {
      const taskId = ctx.params.taskId;
      const projectId = taskId ? projectOf(taskId) : ctx.params.id!;
      return sendAction(deps, ctx, projectId, def.toAction(ctx.body, { projectId, taskId }));
    },
  });
}

/** One endpoint per lifecycle action; roles here, organisations checked by the project workflow. */
export function actionRoutes(deps: ApiDeps): AnyRouteSpec[] {
  const a = <B>(def: ActionRouteDef<B>) => actionRoute(deps, def);
  return [
    a({
      on: 'project',
      path: '/projects/:id/submit',
      summary: '申报：submit a DRAFT project for department screening',
      roles: ['applicant'],
      toAction: () => ({ type: 'submit' }),
    }),
    a({
      on: 'task',
      path: '/tasks/:taskId/decision',
      summary: '评审决定：PASS / REJECT / RETURN a review task with an opinion',
      roles: ['reviewer', 'leader'],
      body: S.DecisionBody,
      example: S.EXAMPLES.decision,
      toAction: (b, ids) => ({
        type: 'decideReview',
        taskId: ids.taskId!,
        decision: b.decision,
        opinion: b.opinion,
      }),
    }),
    a({
      on: 'task',
      path: '/tasks/:taskId/complete',
      summary: '办结：complete an approval matter (审批事项) or a pre-construction step',
      roles: ['reviewer', 'applicant'],
      body: S.CompleteTaskBody,
      example: S.EXAMPLES.completeTask,
      toAction: (b, ids) => ({ type: 'completeTask', taskId: ids.taskId!, ...b }),
    }),
    a({
      on: 'task',
      path: '/tasks/:taskId/extension',
      summary: '延期：extend a task deadline (once per task, capped by the policy)',
      roles: ['leader'],
      body: S.ExtensionBody,
      example: S.EXAMPLES.extension,
      toAction: (b, ids) => ({
        type: 'extendDeadline',
        taskId: ids.taskId!,
        units: b.units,
        reason: b.reason,
      }),
    }),
    a({
      on: 'task',
      path: '/tasks/:taskId/pause',
      summary: '暂停计时：pause a task clock (补正, expert review, hearing)',
      roles: ['reviewer'],
      body: S.PauseBody,
      example: S.EXAMPLES.pause,
      toAction: (b, ids) => ({ type: 'pauseClock', taskId: ids.taskId!, reason: b.reason, note: b.note }),
    }),
    a({
      on: 'task',
      path: '/tasks/:taskId/resume',
      summary: '恢复计时：resume a paused task clock; the deadline shifts by the paused working days',
      roles: ['reviewer'],
      body: S.ResumeClockBody,
      example: S.EXAMPLES.resumeClock,
      toAction: (b, ids) => ({ type: 'resumeClock', taskId: ids.taskId!, note: b.note }),
    }),
    a({
      on: 'project',
      path: '/projects/:id/plan-inclusion',
      summary: '纳入规划：record plan inclusion; the project enters the reserve library',
      roles: ['reviewer'],
      body: S.PlanInclusionBody,
      example: S.EXAMPLES.planInclusion,
      toAction: (b) => ({ type: 'recordPlanInclusion', ...b }),
    }),
    a({
      on: 'project',
      path: '/projects/:id/project-code',
      summary: '项目代码：record the project code (immutable once set)',
      roles: ['applicant', 'reviewer'],
      body: S.ProjectCodeBody,
      example: S.EXAMPLES.projectCode,
      toAction: (b) => ({ type: 'recordProjectCode', code: b.code }),
    }),
    a({
      on: 'project',
      path: '/projects/:id/funding',
      summary: '建设资金落实：confirm construction funds',
      roles: ['reviewer', 'applicant'],
      body: S.FundingBody,
      example: S.EXAMPLES.funding,
      toAction: (b) => ({ type: 'confirmFunding', ...b }),
    }),
    a({
      on: 'project',
      path: '/projects/:id/start',
      summary:
        '开工申请：the owner applies to start construction; refused unless 施工许可 (or, procurement-type, the signed contract) AND 建设资金落实 are in place, or an emergency exception is approved; the 开工条件核查 follows',
      roles: ['applicant'],
      body: S.StartBody,
      example: S.EXAMPLES.start,
      toAction: (b) => ({ type: 'startConstruction', date: b.date }),
    }),
    a({
      on: 'task',
      path: '/tasks/:taskId/start-check',
      summary:
        '开工条件核查：the checking organisation (not the owner; the policy names it) confirms the start or refuses it with an opinion',
      roles: ['reviewer'],
      body: S.StartCheckBody,
      example: S.EXAMPLES.startCheck,
      toAction: (b) => ({ type: 'checkStart', decision: b.decision, opinion: b.opinion }),
    }),
    a({
      on: 'project',
      path: '/projects/:id/start-exception',
      summary:
        '应急开工例外：the organisation the policy names approves an emergency project’s exception from the start gate, with a reason',
      roles: ['leader'],
      body: S.ReasonBody,
      example: S.EXAMPLES.startException,
      toAction: (b) => ({ type: 'approveStartException', reason: b.reason }),
    }),
    a({
      on: 'project',
      path: '/projects/:id/funding-sources',
      summary:
        '资金来源：record a funding source (type of the policy, amount, 申报/下达/到位 with its date) or move a recorded one (sourceId) to a later state; higher-level funds are credited to the unit that secured them',
      roles: ['applicant', 'reviewer'],
      body: S.FundingSourceBody,
      example: S.EXAMPLES.fundingSource,
      toAction: (b) => ({ type: 'recordFundingSource', ...b }),
    }),
    a({
      on: 'project',
      path: '/projects/:id/provincial-key',
      summary:
        '省级重点：市发改委 marks or unmarks a project as a provincial key project, naming the document',
      roles: ['reviewer'],
      body: S.ProvincialKeyBody,
      example: S.EXAMPLES.provincialKey,
      toAction: (b) => ({ type: 'setProvincialKey', ...b }),
    }),
    a({
      on: 'project',
      path: '/projects/:id/progress-reports',
      summary: '月报：record a monthly progress report (percentages are computed)',
      roles: ['applicant'],
      body: S.ProgressBody,
      example: S.EXAMPLES.progress,
      toAction: (b) => ({ type: 'recordProgress', ...b }),
    }),
    a({
      on: 'project',
      path: '/projects/:id/payments',
      summary: '支付：record a payment (refused beyond the approved estimate — 严禁超概算支付)',
      roles: ['applicant'],
      body: S.PaymentBody,
      example: S.EXAMPLES.payment,
      toAction: (b) => ({ type: 'recordPayment', ...b }),
    }),
    a({
      on: 'project',
      path: '/projects/:id/completion',
      summary: '竣工验收：accept completion',
      roles: ['reviewer'],
      body: S.CompletionBody,
      example: S.EXAMPLES.completion,
      toAction: (b) => ({ type: 'acceptCompletion', ...b }),
    }),
    a({
      on: 'project',
      path: '/projects/:id/suspend',
      summary: '停缓建：suspend construction',
      roles: ['applicant', 'reviewer'],
      body: S.ReasonBody,
      example: S.EXAMPLES.suspend,
      toAction: (b) => ({ type: 'suspend', reason: b.reason }),
    }),
    a({
      on: 'project',
      path: '/projects/:id/resume',
      summary: '复工：resume construction',
      roles: ['applicant', 'reviewer'],
      body: S.ReasonBody,
      example: S.EXAMPLES.resume,
      toAction: (b) => ({ type: 'resume', reason: b.reason }),
    }),
    a({
      on: 'project',
      path: '/projects/:id/remove',
      summary: '调出库：remove from the library (leading group; reason and approver)',
      roles: ['leader'],
      body: S.RemoveBody,
      example: S.EXAMPLES.remove,
      toAction: (b) => ({ type: 'remove', ...b }),
    }),
    a({
      on: 'project',
      path: '/projects/:id/withdraw',
      summary: '撤回：withdraw the project (applicant, before construction)',
      roles: ['applicant'],
      body: S.ReasonBody,
      example: S.EXAMPLES.withdraw,
      toAction: (b) => ({ type: 'withdraw', reason: b.reason }),
    }),
  ];
}
