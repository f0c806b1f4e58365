import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { shanghaiDayOf } from '../../calendar';
import { createReviewModels, type KeyProjectApprovalDoc } from '../../db/review-models';
import { seesEveryProject } from '../../domain/access';
import type { Actor } from '../../domain/project';
import type { ExpertRef } from '../../domain/stages/review-outputs';
import { createExpertPool, expertRefOf, expertView, ExpertPoolError } from '../../reviews/experts';
import { recommendationsXlsx, keyProjectsXlsx } from '../../reviews/export';
import { createJointMeetings, MeetingError } from '../../reviews/joint-meetings';
import {
  decisionsOfMeeting,
  fingerprintOf,
  keyProjectsOf,
  listIds,
  noteListMember,
  recommendationsOf,
  type KeyProjectList,
  type ListContext,
} from '../../reviews/lists';
import type { PublishNoticeInput } from '../../workflows/notices';
import type { ApiDeps } from '../app';
import { ApiError, toApiError } from '../problem';
import { FILE_TYPES, route, type AnyRouteSpec } from '../registry';
import * as R from '../review-schemas';
import { TaskIdParams } from '../schemas';
import { ActionResultSchema, requestIdOf, sendAction } from './actions';
import { awaitReadModel, projectShows, type ReadModelCheck } from '../read-your-writes';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const SEED_FIELDS = ['经济', '规划', '工程', '环保'] as const;

const projectOf = (taskId: string) => taskId.slice(0, taskId.indexOf('~'));
const today = () => shanghaiDayOf(Date.now());

function notAssignee(detail: string): ApiError {
  return new ApiError(403, 'not-assignee', 'Not the assignee', detail, { errorType: 'NOT_ASSIGNEE' });
}

function invalid(detail: string, errors: { path: string; message: string }[]): ApiError {
  return new ApiError(422, 'invalid-data', 'Invalid data', detail, {
    errorType: 'INVALID_DATA',
    errors: errors.map((e) => ({ in: 'body', ...e })),
  });
}

/** The pool's and the meetings' refusals as problems. */
function problemOf(err: unknown): unknown {
  if (err instanceof ExpertPoolError) {
    if (err.code === 'NOT_FOUND') return new ApiError(404, 'not-found', 'Not found', err.message);
    if (err.code === 'EXITED')
      return new ApiError(409, 'expert-exited', 'Expert exited', err.message, {
        errorType: 'ALREADY_DECIDED',
      });
    return invalid(err.message, [{ path: err.field ?? '', message: err.message }]);
  }
  if (err instanceof MeetingError) {
    if (err.code === 'NOT_FOUND') return new ApiError(404, 'not-found', 'Not found', err.message);
    if (err.code === 'EXISTS') return new ApiError(409, 'already-exists', 'Already exists', err.message);
    if (err.code === 'HELD')
      return new ApiError(409, 'meeting-held', 'Meeting already held', err.message, {
        errorType: 'WRONG_STAGE',
      });
    return invalid(err.message, [{ path: err.field ?? '', message: err.message }]);
  }
  return err;
}
const mapped = <T>(p: Promise<T>): Promise<T> =>
  p.catch((err: unknown) => {
    throw problemOf(err);
  });

function approvalSummary(a: KeyProjectApprovalDoc) {
  return {
    version: a.version,
    documentNumber: a.documentNumber,
    note: a.note,
    approvedBy: a.approvedBy,
    approvedAt: new Date(a.approvedAt).toISOString(),
    publishedAt: a.publishedAt ? new Date(a.publishedAt).toISOString() : null,
  };
}

/**
 * Tiers 2 and 3 (seed annex 1 二(一), 二(二)2–3): the expert pool, the special group's invitation and decision,
 * the leading group's monthly joint meeting and its decisions, the 重点项目建议清单 and the annual 重点项目库.
 * Decisions go to the project workflow (which checks the caller's organisation); the pool, the meetings and the
 * lists live here, so the leading group's organisation is checked here.
 */
export function reviewRoutes(deps: ApiDeps): AnyRouteSpec[] {
  const policy = deps.projects.policy;
  const leadingGroup = policy.leadingGroup;
  const rm = createReviewModels(deps.models.Project.db);
  const fields = (policy.experts?.fields ?? [...SEED_FIELDS]) as [string, ...string[]];
  const pool = createExpertPool(rm, policy.experts?.termYears ?? 2);
  const meetings = createJointMeetings({
    calendarModels: deps.calendarModels,
    models: deps.models,
    leadingGroup,
  });
  const lists: ListContext = {
    models: deps.models,
    reviewModels: rm,
    orgName: (id) => deps.orgIndex.get(id)?.name ?? id,
    sourceLabel: (t) => policy.funding?.sourceTypes[t]?.label ?? t,
  };

  const kindOf = (org: string) => deps.orgIndex.get(org)?.kind;
  /** The pool is kept by the leading group's and the special groups' leaders (who run the reviews), and admins. */
  const poolManager = (actor: Actor) => {
    if (actor.roles.includes('admin')) return;
    const kind = kindOf(actor.org);
    if (kind !== 'LEADING_GROUP' && kind !== 'SPECIAL_GROUP')
      throw notAssignee('the expert pool is kept by the leading group and the special groups');
  };
  const leadingGroupOnly = (actor: Actor, what = 'the joint meeting') => {
    if (actor.org !== leadingGroup) throw notAssignee(`${what} is the leading group’s`);
  };
  const expertOut = (e: Parameters<typeof expertView>[0]) => expertView(e, today());

  return [
    // ------------------------------------------------------------------------------------ expert pool
    route({
      method: 'post',
      path: '/experts',
      summary:
        '专家库准入：admit an expert or a third-party institution for a term (届) in a field of the policy; the term ends termYears later, the day before',
      tag: 'Expert pool',
      roles: ['leader', 'admin'],
      body: R.admitExpertBody(fields),
      bodyExample: R.REVIEW_EXAMPLES.admitExpert,
      success: { status: 201, description: 'Admitted; Location names the expert' },
      handler: async (ctx) => {
        poolManager(ctx.actor);
        const key = ctx.req.get('Idempotency-Key');
        if (key !== undefined) requestIdOf(ctx); // validates the key's form
        const e = await pool.admit(ctx.body, ctx.actor, key);
        ctx.res.setHeader('Location', `/api/v1/experts/${e._id}`);
        return expertOut(e);
      },
    }),
    route({
      method: 'get',
      path: '/experts',
      summary: '专家库：the pool, filtered by field, kind, status and whether one may be invited today',
      tag: 'Expert pool',
      roles: ['reviewer', 'leader', 'supervisor', 'admin'],
      query: R.ExpertsQuery,
      success: {
        status: 200,
        description: 'Experts and institutions by field and name, each with its terms',
      },
      handler: async ({ query }) => {
        const experts = (await pool.list(query)).map(expertOut);
        return {
          fields,
          termYears: policy.experts?.termYears ?? 2,
          experts:
            query.invitable === undefined ? experts : experts.filter((e) => e.invitable === query.invitable),
        };
      },
    }),
    route({
      method: 'get',
      path: '/experts/:expertId',
      summary: '专家：one expert with every term and, if exited, why',
      tag: 'Expert pool',
      roles: ['reviewer', 'leader', 'supervisor', 'admin'],
      params: R.ExpertIdParams,
      success: { status: 200, description: 'The expert' },
      problems: [404],
      handler: async ({ params }) => expertOut(await mapped(pool.get(params.expertId))),
    }),
    route({
      method: 'post',
      path: '/experts/:expertId/exit',
      summary:
        '专家退出：an expert leaves the pool with a reason (kept on record); it can no longer be invited',
      tag: 'Expert pool',
      roles: ['leader', 'admin'],
      params: R.ExpertIdParams,
      body: R.ExitExpertBody,
      bodyExample: R.REVIEW_EXAMPLES.exitExpert,
      success: { status: 200, description: 'The expert, EXITED' },
      problems: [404, 409],
      handler: async ({ params, body, actor }) => {
        poolManager(actor);
        return expertOut(await mapped(pool.exit(params.expertId, body.reason, actor.userId)));
      },
    }),
    route({
      method: 'post',
      path: '/experts/:expertId/renewal',
      summary: '专家续聘：a new term (the next 届 by default, from the day after the current term ends)',
      tag: 'Expert pool',
      roles: ['leader', 'admin'],
      params: R.ExpertIdParams,
      body: R.RenewExpertBody,
      bodyExample: R.REVIEW_EXAMPLES.renewExpert,
      success: { status: 200, description: 'The expert with its new term' },
      problems: [404, 409, 422],
      handler: async ({ params, body, actor }) => {
        poolManager(actor);
        return expertOut(await mapped(pool.renew(params.expertId, body, actor.userId)));
      },
    }),

    // ------------------------------------------------------------------------------------ tier 2
    route({
      method: 'post',
      path: '/tasks/:taskId/experts',
      summary:
        '邀请专家：the special group invites experts or institutions of the pool to its review (exited or out-of-term ones are refused)',
      tag: 'Tasks',
      roles: ['reviewer', 'leader'],
      params: TaskIdParams,
      body: R.InviteExpertsBody,
      bodyExample: R.REVIEW_EXAMPLES.inviteExperts,
      success: { status: 200, description: 'Invited', schema: ActionResultSchema },
      problems: [404, 409, 422, 429, 504],
      idempotent: true,
      handler: async (ctx) => {
        const { taskId } = ctx.params;
        const day = today();
        const refs: ExpertRef[] = [];
        const errors: { path: string; message: string }[] = [];
        for (const [i, id] of ctx.body.expertIds.entries()) {
          const e = await rm.Expert.findById(id).lean();
          const ref = e && expertRefOf(e, day);
          if (!e) errors.push({ path: `expertIds.${i}`, message: `no expert ${id} in the pool` });
          else if (!ref)
            errors.push({
              path: `expertIds.${i}`,
              message: `the term of ${e.name} starts on ${e.terms[0]?.startsOn}`,
            });
          else refs.push(ref);
        }
        if (errors.length > 0) throw invalid(errors.map((e) => e.message).join('; '), errors);
        return sendAction(deps, ctx, projectOf(taskId), { type: 'inviteExperts', taskId, experts: refs });
      },
    }),
    route({
      method: 'post',
      path: '/tasks/:taskId/specialist-review',
      summary:
        '专业评审：the special group decides — RECOMMENDED (joins its 重点项目建议清单), NOT_RECOMMENDED (goes on as a non-key project) or RETURNED — with its 技术方案, 投资效益 and 风险防控 opinions and the invited experts’ opinions',
      tag: 'Tasks',
      roles: ['reviewer', 'leader'],
      params: TaskIdParams,
      body: R.SpecialistReviewBody,
      bodyExample: R.REVIEW_EXAMPLES.specialistReview,
      success: { status: 200, description: 'Decided', schema: ActionResultSchema },
      problems: [404, 409, 422, 429, 504],
      idempotent: true,
      handler: async (ctx) => {
        const { taskId } = ctx.params;
        const projectId = projectOf(taskId);
        await noteListMember(rm, listIds.group(ctx.actor.org), projectId);
        return sendAction(deps, ctx, projectId, {
          type: 'decideSpecialistReview',
          taskId,
          outcome: ctx.body.outcome,
          assessments: ctx.body.assessments,
          expertOpinions: ctx.body.expertOpinions,
        });
      },
    }),

    // ------------------------------------------------------------------------------------ tier 3
    route({
      method: 'post',
      path: '/joint-meetings',
      summary:
        '月度联席会议：the leading group schedules a month’s joint meeting, on its last working day unless it names another day of the month',
      tag: 'Joint meetings',
      roles: ['leader'],
      body: R.CreateMeetingBody,
      bodyExample: R.REVIEW_EXAMPLES.createMeeting,
      success: { status: 201, description: 'Scheduled; Location names the meeting' },
      problems: [409, 422],
      handler: async ({ body, actor, res }) => {
        leadingGroupOnly(actor);
        const { _id, ...m } = await mapped(meetings.create(body.month, actor.userId, body.date));
        res.setHeader('Location', `/api/v1/joint-meetings/${_id}`);
        return { month: _id, ...m };
      },
    }),
    route({
      method: 'get',
      path: '/joint-meetings/:month',
      summary:
        '联席会议：a meeting (scheduled and actual day, postponements), the tier-3 reviews put to it and not yet decided, and the decisions it took',
      tag: 'Joint meetings',
      roles: ['leader', 'supervisor', 'admin'],
      params: R.MonthParams,
      success: { status: 200, description: 'The meeting with its waiting reviews and decisions' },
      problems: [404],
      handler: async ({ params, actor }) => {
        if (!seesEveryProject(actor, leadingGroup)) leadingGroupOnly(actor);
        const m = await mapped(meetings.get(params.month));
        const waiting = (await meetings.waitingReviews()).filter(
          (w) => w.dueDay === null || w.dueDay <= m.date,
        );
        const { _id, ...meeting } = m;
        return {
          month: _id,
          ...meeting,
          held: m.date <= today(),
          waiting,
          decisions: await decisionsOfMeeting(lists, params.month),
        };
      },
    }),
    route({
      method: 'post',
      path: '/joint-meetings/:month/postponement',
      summary:
        '联席会议顺延：postpone a meeting to a later day (at most to the end of the next month); the tier-3 reviews waiting for it are told and their deadline follows',
      tag: 'Joint meetings',
      roles: ['leader'],
      params: R.MonthParams,
      body: R.PostponeMeetingBody,
      bodyExample: R.REVIEW_EXAMPLES.postponeMeeting,
      success: { status: 200, description: 'Postponed; each waiting project rescheduled or why not' },
      problems: [404, 409, 422],
      handler: async ({ params, body, actor, res }) => {
        leadingGroupOnly(actor);
        const { meeting, postponement, index } = await mapped(
          meetings.postpone(params.month, body.to, body.reason, actor.userId, today()),
        );
        const projects = [
          ...new Set((await meetings.reviewsWaitingFrom(postponement.from)).map((w) => w.projectId)),
        ];
        const rescheduled: { projectId: string; message: string }[] = [];
        const failed: { projectId: string; status: number; type: string; detail: string }[] = [];
        const shown: ReadModelCheck[] = [];
        // A few at a time: each is one Update of one project workflow.
        for (let i = 0; i < projects.length; i += 8) {
          await Promise.all(
            projects.slice(i, i + 8).map(async (projectId) => {
              try {
                const r = await deps.projects.act(
                  projectId,
                  `${actor.userId}:joint-meeting:${params.month}:${index}:${projectId}`,
                  actor,
                  { type: 'rescheduleMeetingTasks', meetingMonth: params.month, date: body.to },
                  { timeoutMs: deps.updateTimeoutMs },
                );
                rescheduled.push({ projectId, message: r.message });
                shown.push(projectShows(deps, r));
              } catch (err) {
                const p = toApiError(err);
                failed.push({ projectId, status: p.status, type: p.slug, detail: p.message });
              }
            }),
          );
        }
        // Read your writes: each rescheduled review's new deadline is in its inbox before the answer.
        await awaitReadModel(deps, res, shown);
        const { _id, ...rest } = meeting;
        return { month: _id, ...rest, rescheduled, failed };
      },
    }),
    route({
      method: 'post',
      path: '/tasks/:taskId/comprehensive-review',
      summary:
        '综合评审：the leading group records its joint meeting’s decision — in the year’s 重点项目库 or not (a government-invested project included with its 资金分配方案), or returned',
      tag: 'Tasks',
      roles: ['leader'],
      params: TaskIdParams,
      body: R.ComprehensiveReviewBody,
      bodyExample: R.REVIEW_EXAMPLES.comprehensiveReview,
      success: { status: 200, description: 'Decided', schema: ActionResultSchema },
      problems: [404, 409, 422, 429, 504],
      idempotent: true,
      handler: async (ctx) => {
        const { taskId } = ctx.params;
        const { meetingMonth, ...decision } = ctx.body;
        const m = await mapped(meetings.get(meetingMonth));
        if (m.date > today())
          throw new ApiError(
            409,
            'meeting-not-held',
            'Meeting not held',
            `the joint meeting of ${meetingMonth} is on ${m.date}: its decisions are recorded once it is held`,
            { errorType: 'WRONG_STAGE' },
          );
        const projectId = projectOf(taskId);
        await noteListMember(rm, listIds.meeting(meetingMonth), taskId);
        await noteListMember(rm, listIds.year(Number(meetingMonth.slice(0, 4))), projectId);
        return sendAction(deps, ctx, projectId, {
          type: 'decideComprehensiveReview',
          taskId,
          meeting: { month: meetingMonth, date: m.date },
          ...decision,
        });
      },
    }),

    // ------------------------------------------------------------------------------------ lists
    route({
      method: 'get',
      path: '/special-groups/:orgId/recommendations',
      summary:
        '重点项目建议清单：a special group’s recommended projects still live, with the three assessments and the experts’ opinions (JSON or .xlsx)',
      tag: 'Review lists',
      roles: ['reviewer', 'leader', 'supervisor', 'admin'],
      params: R.SpecialGroupParams,
      query: R.ListFormatQuery,
      success: { status: 200, description: 'The list, or a download', files: [FILE_TYPES.xlsx] },
      problems: [404],
      handler: async ({ params, query, actor, res }) => {
        if (kindOf(params.orgId) !== 'SPECIAL_GROUP')
          throw new ApiError(404, 'not-found', 'Not found', `no special group ${params.orgId}`);
        if (!seesEveryProject(actor, leadingGroup) && actor.org !== params.orgId)
          throw notAssignee('a special group reads its own list');
        const list = await recommendationsOf(lists, params.orgId);
        if (query.format === 'json') return list;
        res
          .type(XLSX)
          .attachment(`${params.orgId}_recommendations.xlsx`)
          .send(await recommendationsXlsx(list));
        return undefined;
      },
    }),
    route({
      method: 'get',
      path: '/key-projects',
      summary:
        '年度重点项目库：the year’s key projects with their fund allocations — the working list, or a version the leading group approved (JSON or .xlsx)',
      tag: 'Review lists',
      roles: ['leader', 'supervisor', 'admin'],
      query: R.KeyProjectsQuery,
      success: {
        status: 200,
        description: 'The list with its approvals, or a download',
        files: [FILE_TYPES.xlsx],
      },
      problems: [404],
      handler: async ({ query, res }) => {
        const year = query.year ?? Number(today().slice(0, 4));
        const approvals = (await rm.KeyProjectApproval.find({ year }).lean()).sort(
          (a, b) => a.version - b.version,
        );
        const approved = query.version ? approvals.find((a) => a.version === query.version) : undefined;
        if (query.version && !approved)
          throw new ApiError(
            404,
            'not-found',
            'Not found',
            `no approved version ${query.version} of ${year}`,
          );
        const list = approved
          ? (approved.list as unknown as KeyProjectList)
          : await keyProjectsOf(lists, year);
        const latest = approvals.at(-1);
        if (query.format === 'xlsx') {
          const name = `key-projects_${year}${approved ? `_v${approved.version}` : ''}.xlsx`;
          const a = approved && approvalSummary(approved);
          res
            .type(XLSX)
            .attachment(name)
            .send(await keyProjectsXlsx(list, a ? { ...a } : null));
          return undefined;
        }
        return {
          ...list,
          status: approved ? 'APPROVED' : 'WORKING',
          approval: approved ? approvalSummary(approved) : null,
          approvals: approvals.map(approvalSummary),
          changedSinceApproval: approved || !latest ? null : latest.fingerprint !== fingerprintOf(list),
        };
      },
    }),
    route({
      method: 'post',
      path: '/key-projects/:year/approval',
      summary:
        '审定年度重点项目库：the leading group approves the year’s list as it stands (an immutable version, kept for audit) and publishes it to departments, counties and special groups',
      tag: 'Review lists',
      roles: ['leader'],
      params: R.YearParams,
      body: R.ApproveKeyProjectsBody,
      bodyExample: R.REVIEW_EXAMPLES.approveKeyProjects,
      success: { status: 201, description: 'Approved and published; Location names the approved version' },
      problems: [409],
      handler: async ({ params, body, actor, res }) => {
        leadingGroupOnly(actor, 'approving the annual project list (审定年度项目清单)');
        const { year } = params;
        const list = await keyProjectsOf(lists, year);
        if (list.count === 0)
          throw new ApiError(
            409,
            'nothing-to-approve',
            'Nothing to approve',
            `no project is in the ${year} 重点项目库`,
          );
        const fingerprint = fingerprintOf(list);
        const approvals = (await rm.KeyProjectApproval.find({ year }).lean()).sort(
          (a, b) => a.version - b.version,
        );
        const latest = approvals.at(-1);
        let doc: KeyProjectApprovalDoc;
        if (latest?.fingerprint === fingerprint) {
          if (latest.publishedAt)
            throw new ApiError(
              409,
              'already-decided',
              'Already decided',
              `the ${year} list was approved as version ${latest.version} and has not changed since`,
              { errorType: 'ALREADY_DECIDED' },
            );
          doc = latest; // approved, but its publication never started: start it now
        } else {
          const version = (latest?.version ?? 0) + 1;
          doc = {
            _id: `${year}:v${version}`,
            year,
            version,
            documentNumber: body.documentNumber,
            ...(body.note ? { note: body.note } : {}),
            approvedBy: { userId: actor.userId, name: actor.name, org: actor.org, roles: actor.roles },
            approvedAt: new Date(),
            list: list as unknown as Record<string, unknown>,
            fingerprint,
            publishedAt: null,
            noticeWorkflowId: null,
          };
          try {
            await rm.KeyProjectApproval.create(doc);
          } catch (err) {
            throw (err as { code?: number }).code === 11000
              ? new ApiError(
                  409,
                  'already-decided',
                  'Already decided',
                  `version ${version} was approved meanwhile`,
                )
              : err;
          }
        }
        const link = `/api/v1/key-projects?year=${year}&version=${doc.version}`;
        const notice: PublishNoticeInput = {
          notificationKey: `key-projects:${year}:v${doc.version}`,
          orgs: policy.organisations
            .filter((o) => ['DEPARTMENT', 'COUNTY', 'SPECIAL_GROUP'].includes(o.kind))
            .map((o) => o.id),
          subject: `${year}年度重点项目库已经领导小组审定`,
          text:
            `经${lists.orgName(leadingGroup)}审定（${doc.documentNumber}），${year}年度重点项目库共 ${list.count} 个项目，` +
            `总投资 ${list.totalInvestmentWan} 万元，安排资金 ${list.fundAllocationWan} 万元。`,
          link,
        };
        const workflowId = `key-projects-${year}-v${doc.version}`;
        try {
          await deps.projects.client.workflow.start('publishNotice', {
            taskQueue: deps.taskQueue,
            workflowId,
            args: [notice],
          });
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
        const publishedAt = new Date();
        await rm.KeyProjectApproval.updateOne(
          { _id: doc._id },
          { $set: { publishedAt, noticeWorkflowId: workflowId } },
        );
        res.setHeader('Location', link);
        return { ...approvalSummary({ ...doc, publishedAt }), year, noticeWorkflowId: workflowId, list };
      },
    }),
  ];
}
