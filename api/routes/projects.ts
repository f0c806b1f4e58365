import { createHash, randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { z } from 'zod';
import type { ProjectDetails } from '../../domain/project';
import { auditTrailOf, inboxOf } from '../../db/queries';
import { projectWorkflowId } from '../../domain/project';
import type { ApiDeps } from '../app';
import { ApiError } from '../problem';
import { canRead, etagOf, loadProjectView } from '../project-view';
import { detailsVersionOf } from '../../domain/revisions';
import { route, type AnyRouteSpec } from '../registry';
import { awaitReadModel, projectAt } from '../read-your-writes';
import { rawHistory, timeline } from '../history';
import { listProjects } from '../project-list';
import { assertKnownLeader, creationRefusal, ownerProblems, referenceProblems } from '../project-input';
import { onboardingProblems } from '../../domain/onboarding';
import { CalendarNotCoveredError, shanghaiDayOf, type WorkCalendar } from '../../calendar';
import { loadWorkCalendar } from '../../activities/deadlines';
import type { Actor } from '../../domain/project';
import * as S from '../schemas';
import { ROLES } from '../auth';
import { policyRules } from '../../policy/sources';

const READERS = ROLES;

/** With an Idempotency-Key the project id derives from it, so a retried create finds the same project. */
function newProjectId(key: string | undefined, org: string): string {
  if (key) return 'P' + createHash('sha256').update(`${org}\n${key}`).digest('hex').slice(0, 20);
  return 'P' + randomUUID().replace(/-/g, '').slice(0, 20);
}

function badField(path: string, message: string): ApiError {
  return new ApiError(400, 'validation', 'Validation failed', `the request body is invalid`, {
    errors: [{ in: 'body', path, message }],
  });
}

/** An owner creates a DRAFT of its own organisation; the policy's organisations onboard (api/project-input.ts). */
function authoriseCreation(actor: Actor, onboarding: boolean, onboardingOrgs: readonly string[]): void {
  const refusal = creationRefusal(actor, onboarding ? 'ONBOARDED' : 'DRAFT', onboardingOrgs);
  if (refusal) throw new ApiError(403, refusal.slug, refusal.title, refusal.detail);
}

export async function readable(deps: ApiDeps, actor: Parameters<typeof canRead>[0], id: string) {
  const view = await loadProjectView(deps, id);
  // Not readable and not existing answer alike, so ids of other organisations' projects do not leak.
  if (!view || !canRead(actor, view, deps.projects.policy.leadingGroup))
    throw new ApiError(404, 'not-found', 'Not found', `no project ${id}`);
  return view;
}

export function projectRoutes(deps: ApiDeps): AnyRouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/projects',
      summary:
        '创建项目：an owner creates a DRAFT; the pipeline office or 市发改委 onboards a project at RESERVE, PRE_CONSTRUCTION or UNDER_CONSTRUCTION with its facts',
      tag: 'Projects',
      roles: ['applicant', 'reviewer', 'supervisor'],
      body: S.CreateProjectBody,
      bodyExamples: S.CREATE_PROJECT_EXAMPLES,
      success: { status: 201, description: 'Created; Location names the project' },
      problems: [409, 422],
      idempotent: true,
      handler: async ({ req, res, actor, body: input }) => {
        const { onboarding, ownerOrg, ...declared } = input;
        const policy = deps.projects.policy;
        authoriseCreation(actor, onboarding !== undefined, policy.onboarding.organisations);
        const [problem] = referenceProblems(input, policy, deps.orgIndex);
        if (problem) throw badField(problem.field, problem.message);
        await assertKnownLeader(input, deps.models.People);
        const [ownerProblem] = ownerProblems(input, actor.org, deps.orgIndex);
        if (ownerProblem) throw badField(ownerProblem.field, ownerProblem.message);
        // Key status (市级重点) is the outcome of tiers 2–3 and 省级重点 is set by 市发改委: an owner declares neither.
        if (!onboarding) {
          const declared = (['cityKey', 'provincialKey'] as const).filter((f) => input.flags[f]);
          if (declared.length > 0)
            throw new ApiError(
              422,
              'invalid-data',
              'Invalid data',
              'key status is not declared by the applicant',
              {
                errors: declared.map((f) => ({
                  in: 'body',
                  path: `flags.${f}`,
                  message:
                    f === 'cityKey'
                      ? '市级重点 is the outcome of 专业评审 and 综合评审'
                      : '省级重点 is set by 市发改委 (POST /projects/{id}/provincial-key)',
                })),
              },
            );
        }
        const owner = ownerOrg ?? actor.org;
        const details: ProjectDetails = { ...declared, ownerOrg: owner };
        if (onboarding) {
          const problems = onboardingProblems(details, onboarding, policy, shanghaiDayOf(Date.now()));
          if (problems.length > 0)
            throw new ApiError(
              422,
              'invalid-data',
              'Invalid data',
              `the facts contradict the stage ${onboarding.targetStage}; nothing was created`,
              { errors: problems.map((p) => ({ in: 'body', path: p.field, message: p.message })) },
            );
        }
        const key = req.get('Idempotency-Key');
        const projectId = newProjectId(key, actor.org);
        try {
          await deps.projects.start(projectId, details, actor, onboarding ? { onboarding } : {});
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError && key)) throw err;
        }
        res.location(`/api/v1/projects/${projectId}`);
        // Read your writes: the project's first record (it exists from its first transition on) before the answer.
        await awaitReadModel(deps, res, [projectAt(deps, projectId, 1)]);
        return (
          (await loadProjectView(deps, projectId)) ?? {
            projectId,
            stage: onboarding?.targetStage ?? 'DRAFT',
            details,
          }
        );
      },
    }),
    route({
      method: 'get',
      path: '/projects',
      summary: '项目列表：list projects with filters, sorting and cursor pagination',
      tag: 'Projects',
      roles: READERS,
      query: S.ListProjectsQuery,
      success: { status: 200, description: 'A page of projects and the cursor of the next page' },
      handler: ({ actor, query }) => listProjects(deps, actor, query),
    }),
    route({
      method: 'get',
      path: '/projects/:id',
      summary: '项目详情：one project, its stage, facts and open tasks',
      tag: 'Projects',
      roles: READERS,
      params: S.ProjectIdParams,
      success: { status: 200, description: 'The project; the ETag header names its details version' },
      problems: [404],
      handler: async ({ actor, params, res }) => {
        const view = await readable(deps, actor, params.id);
        res.setHeader('ETag', etagOf(detailsVersionOf(view.state)));
        return view;
      },
    }),
    route({
      method: 'get',
      path: '/projects/:id/events',
      summary: '审计记录：the project’s audit trail (who, what, when, stage before and after, request id)',
      tag: 'Projects',
      roles: READERS,
      params: S.ProjectIdParams,
      success: { status: 200, description: 'Audit events in order' },
      problems: [404],
      handler: async ({ actor, params }) => {
        await readable(deps, actor, params.id);
        return { projectId: params.id, events: await auditTrailOf(deps.models, params.id) };
      },
    }),
    route({
      method: 'get',
      path: '/projects/:id/history',
      summary:
        '全过程记录：the project’s whole life across runs — Temporal history merged with the audit trail',
      tag: 'Supervision',
      roles: ['supervisor', 'admin', 'leader'],
      params: S.ProjectIdParams,
      query: S.HistoryQuery,
      success: {
        status: 200,
        description: 'A readable timeline (or raw Temporal history with format=temporal)',
      },
      problems: [404],
      handler: async ({ actor, params, query }) => {
        await readable(deps, actor, params.id);
        const wf = projectWorkflowId(params.id);
        const link = (runId: string) =>
          `${deps.temporalUiUrl}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/${encodeURIComponent(wf)}/${runId}/history`;
        if (query.format === 'temporal') {
          const runs = await rawHistory(deps, params.id);
          return {
            projectId: params.id,
            workflowId: wf,
            runs: runs.map((r) => ({ ...r, temporalUi: link(r.runId) })),
          };
        }
        const { entries, runs } = await timeline(deps, params.id);
        return {
          projectId: params.id,
          workflowId: wf,
          temporalUi: runs.map((r) => ({ runId: r, url: link(r) })),
          entries,
        };
      },
    }),
    route({
      method: 'get',
      path: '/tasks',
      summary: '待办：the caller’s organisation’s open tasks, earliest deadline first',
      tag: 'Tasks',
      roles: ['reviewer', 'leader', 'applicant'],
      success: {
        status: 200,
        description:
          'Open tasks with project, kind, deadline and escalation level; `workingDaysLeft` counts the official ' +
          'working days from today (Asia/Shanghai) to the due day — 0 on the due day, negative once overdue, null ' +
          'where the calendar does not cover the years between',
      },
      handler: async ({ actor }) => {
        const [tasks, { calendar }] = await Promise.all([
          inboxOf(deps.models, actor.org),
          loadWorkCalendar(deps.calendarModels),
        ]);
        const now = Date.now();
        // Deadlines fall at the end of a day, so many entries share one: count each distinct instant once.
        const counted = new Map<number, number | null>();
        const left = (dueAt: Date | null | undefined): number | null => {
          if (!dueAt) return null;
          const key = new Date(dueAt).getTime();
          if (!counted.has(key)) counted.set(key, workingDaysLeft(calendar, now, dueAt));
          return counted.get(key)!;
        };
        return { org: actor.org, tasks: tasks.map((t) => ({ ...t, workingDaysLeft: left(t.dueAt) })) };
      },
    }),
    route({
      method: 'get',
      path: '/policy',
      summary:
        '策略：the policy in force for new projects, with the source of each rule (seed / law / default)',
      tag: 'Reference',
      roles: READERS,
      success: {
        status: 200,
        description:
          'The policy document with its `sources`, and `rules`: every number, duration and report formula ' +
          'with its path, value and source',
      },
      handler: () => Promise.resolve({ ...deps.projects.policy, rules: policyRules(deps.projects.policy) }),
    }),
    route({
      method: 'get',
      path: '/orgs',
      summary: '组织：id and name of every organisation',
      tag: 'Reference',
      roles: READERS,
      success: {
        status: 200,
        description: 'Organisations',
        schema: z.object({ orgs: z.array(z.object({ id: z.string(), name: z.string(), kind: z.string() })) }),
      },
      handler: () =>
        Promise.resolve({
          orgs: deps.projects.policy.organisations.map((o) => ({ id: o.id, name: o.name, kind: o.kind })),
        }),
    }),
  ];
}

/** Working days left to a task's due day (negative once overdue); null without a deadline or calendar data. */
function workingDaysLeft(
  calendar: WorkCalendar,
  now: number,
  dueAt: Date | string | null | undefined,
): number | null {
  if (!dueAt) return null;
  const due = new Date(dueAt).getTime();
  try {
    // Counted as a person counts: 0 on the due day itself, -n n working days after it.
    return due >= now ? calendar.workingDaysBetween(now, due) : -calendar.workingDaysBetween(due, now);
  } catch (err) {
    if (err instanceof CalendarNotCoveredError || err instanceof RangeError) return null;
    throw err;
  }
}
