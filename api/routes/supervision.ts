import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ApiDeps } from '../app';
import { ApiError } from '../problem';
import { FILE_TYPES, route, type AnyRouteSpec } from '../registry';
import { awaitReadModel, projectShows } from '../read-your-writes';
import { toCsv, toXlsx, type AnyReport } from '../../reports/export';
import { withStages } from '../../db/supervision-models';

const KINDS = [
  'MONTHLY_DISPATCH',
  'QUARTERLY_ADJUSTMENT',
  'QUARTERLY_BULLETIN',
  'ANNUAL_ASSESSMENT',
] as const;
const period = z.string().regex(/^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$/, 'YYYY, YYYY-MM or YYYY-Qn');
const ReportParams = z.strictObject({
  id: z.string().regex(/^[A-Z_]+:\d{4}(-\d{2}|-Q[1-4])?$/, 'KIND:period'),
});
const ReportQuery = z.strictObject({
  format: z.enum(['json', 'xlsx', 'csv']).default('json'),
  table: z.enum(['dispatch', 'overdue', 'rankings', 'dataQuality', 'targets']).optional(),
});
const RunBody = z.strictObject({ kind: z.enum(KINDS), period });
const ProposalParams = z.strictObject({ id: z.string().regex(/^\d{4}-Q[1-4]:[A-Za-z0-9_-]{1,64}$/) });
const ProposalDecision = z.strictObject({
  decision: z.enum(['APPROVE', 'REJECT']),
  reason: z.enum(['POLICY_CHANGE', 'FORCE_MAJEURE', 'OTHER']).optional(),
  explanation: z.string().trim().min(1).max(2000),
});
const PostponeBody = z.strictObject({
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/),
  postponedTo: z.iso.date(),
  reason: z.string().trim().min(1).max(500),
});

/** Supervision: report snapshots (JSON, .xlsx, .csv), manual runs, removal proposals, dispatch postponement. */
export function supervisionRoutes(deps: ApiDeps): AnyRouteSpec[] {
  const sm = deps.supervisionModels;
  const leadingGroupLeader = (actor: { org: string }) => {
    if (actor.org !== deps.projects.policy.leadingGroup) {
      throw new ApiError(403, 'not-assignee', 'Not the assignee', 'decided by the leading group', {
        errorType: 'NOT_ASSIGNEE',
      });
    }
  };
  return [
    route({
      method: 'get',
      path: '/reports/:id',
      summary:
        '报告：a stored report snapshot (e.g. MONTHLY_DISPATCH:2025-10) as JSON, or one table as .xlsx/.csv',
      tag: 'Supervision',
      roles: ['supervisor', 'leader', 'reviewer', 'admin'],
      params: ReportParams,
      query: ReportQuery,
      success: {
        status: 200,
        description: 'The snapshot, or a download',
        files: [FILE_TYPES.xlsx, FILE_TYPES.csv],
      },
      problems: [404],
      handler: async ({ params, query, res, actor }) => {
        const snap = await sm.ReportSnapshot.findById(params.id).lean();
        // Assessment results not yet approved are for the leading group, supervisors and administrators only.
        const unpublished =
          snap?.approval?.status === 'AWAITING' &&
          !actor.roles.some((r) => r === 'supervisor' || r === 'admin') &&
          actor.org !== deps.projects.policy.leadingGroup;
        if (!snap || unpublished) throw new ApiError(404, 'not-found', 'Not found', `no report ${params.id}`);
        if (query.format === 'json') return withStages(sm, snap);
        const table = query.table ?? (snap.kind === 'MONTHLY_DISPATCH' ? 'dispatch' : 'rankings');
        const report = snap.report[table] as AnyReport | undefined;
        if (!report)
          throw new ApiError(404, 'not-found', 'Not found', `report ${params.id} has no table ${table}`);
        const name = `${params.id.replace(':', '_')}_${table}`;
        if (query.format === 'csv') {
          res.type('text/csv; charset=utf-8').attachment(`${name}.csv`).send(toCsv(report));
        } else {
          res
            .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
            .attachment(`${name}.xlsx`)
            .send(await toXlsx(report));
        }
        return undefined;
      },
    }),
    route({
      method: 'post',
      path: '/reports/:id/approval',
      summary:
        '审定考核结果：the leading group approves the annual assessment results, which are then published to departments and counties',
      tag: 'Supervision',
      roles: ['leader'],
      params: ReportParams,
      success: { status: 200, description: 'Approved and published' },
      problems: [404, 409],
      handler: async ({ params, actor }) => {
        leadingGroupLeader(actor);
        const snap = await sm.ReportSnapshot.findById(params.id).lean();
        if (!snap) throw new ApiError(404, 'not-found', 'Not found', `no report ${params.id}`);
        if (snap.approval?.status !== 'AWAITING')
          throw new ApiError(
            409,
            'already-decided',
            'Already decided',
            `report ${params.id} awaits no approval`,
            {
              errorType: 'ALREADY_DECIDED',
            },
          );
        const approvedAt = new Date();
        const changed = await sm.ReportSnapshot.updateOne(
          { _id: params.id, 'approval.status': 'AWAITING' },
          { $set: { approval: { status: 'APPROVED', approvedBy: actor, approvedAt } } },
        );
        if (changed.modifiedCount === 0)
          throw new ApiError(
            409,
            'already-decided',
            'Already decided',
            `report ${params.id} is already approved`,
            {
              errorType: 'ALREADY_DECIDED',
            },
          );
        const orgs = deps.projects.policy.organisations
          .filter((o) => o.kind === 'DEPARTMENT' || o.kind === 'COUNTY')
          .map((o) => o.id);
        try {
          await deps.projects.client.workflow.start('publishNotice', {
            taskQueue: deps.taskQueue,
            workflowId: `report-published-${params.id.replace(':', '-')}`,
            args: [
              {
                notificationKey: `report-published:${params.id}`,
                orgs,
                subject: `【考核结果】${snap.period}年度考核结果已审定`,
                text: `市重大项目建设领导小组已审定${snap.period}年度考核结果，现予发布。`,
                link: `/api/v1/reports/${params.id}`,
              },
            ],
          });
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
        return {
          reportId: params.id,
          status: 'APPROVED',
          approvedAt: approvedAt.toISOString(),
          publishedTo: orgs.length,
        };
      },
    }),
    route({
      method: 'post',
      path: '/reports/run',
      summary: '手动生成报告：run a supervision job now for a period (leading group leaders, administrators)',
      tag: 'Supervision',
      roles: ['leader', 'admin'],
      body: RunBody,
      bodyExample: { kind: 'MONTHLY_DISPATCH', period: '2025-10' },
      success: { status: 202, description: 'Started; the snapshot id is KIND:period' },
      problems: [409],
      handler: async ({ body, actor }) => {
        if (!actor.roles.includes('admin')) leadingGroupLeader(actor);
        const workflowId = `supervision-manual-${body.kind}-${body.period}-${randomUUID().slice(0, 8)}`;
        await deps.projects.client.workflow.start('supervisionRun', {
          taskQueue: deps.taskQueue,
          workflowId,
          args: [{ kind: body.kind, period: body.period, force: true }],
        });
        return { workflowId, snapshotId: `${body.kind}:${body.period}` };
      },
    }),
    route({
      method: 'post',
      path: '/reports/dispatch-postponement',
      summary: '调度会顺延：postpone one month’s dispatch meeting to a later day (leading group)',
      tag: 'Supervision',
      roles: ['leader'],
      body: PostponeBody,
      bodyExample: { month: '2025-10', postponedTo: '2025-11-04', reason: '市长出席省级会议，调度会顺延' },
      success: { status: 200, description: 'Recorded' },
      handler: async ({ body, actor }) => {
        leadingGroupLeader(actor);
        if (body.postponedTo.slice(0, 7) < body.month)
          throw new ApiError(
            422,
            'invalid-data',
            'Invalid data',
            'a postponement cannot move the meeting earlier',
            { errorType: 'INVALID_DATA' },
          );
        const doc = { postponedTo: body.postponedTo, reason: body.reason, by: actor.userId, at: new Date() };
        await sm.DispatchPostponement.updateOne({ _id: body.month }, { $set: doc }, { upsert: true });
        return { month: body.month, ...doc };
      },
    }),
    route({
      method: 'get',
      path: '/proposals',
      summary: '调出库建议：removal proposals of the quarterly adjustment',
      tag: 'Supervision',
      roles: ['supervisor', 'leader', 'admin'],
      success: { status: 200, description: 'Proposals, newest first' },
      handler: async () => ({
        proposals: (await sm.RemovalProposal.find({}).lean()).sort((a, b) => b._id.localeCompare(a._id)),
      }),
    }),
    route({
      method: 'post',
      path: '/proposals/:id/decision',
      summary: '审定调出库建议：the leading group approves (the project is removed) or rejects a proposal',
      tag: 'Supervision',
      roles: ['leader'],
      params: ProposalParams,
      body: ProposalDecision,
      bodyExample: { decision: 'APPROVE', reason: 'OTHER', explanation: '长期未取得审批进展，按程序调出库' },
      success: { status: 200, description: 'The decided proposal' },
      problems: [404, 409],
      handler: async ({ params, body, actor, res }) => {
        leadingGroupLeader(actor);
        const p = await sm.RemovalProposal.findById(params.id).lean();
        if (!p) throw new ApiError(404, 'not-found', 'Not found', `no proposal ${params.id}`);
        if (p.status !== 'PROPOSED')
          throw new ApiError(409, 'already-decided', 'Already decided', `proposal is ${p.status}`, {
            errorType: 'ALREADY_DECIDED',
          });
        if (body.decision === 'APPROVE') {
          if (!body.reason) {
            throw new ApiError(400, 'validation', 'Validation failed', 'a removal needs a reason', {
              errors: [{ in: 'body', path: 'reason', message: 'required to approve' }],
            });
          }
          const removed = await deps.projects.act(
            p.projectId,
            `proposal:${params.id}`,
            actor,
            {
              type: 'remove',
              reason: body.reason,
              explanation: body.explanation,
              approver: actor.name ?? actor.userId,
            },
            { timeoutMs: deps.updateTimeoutMs },
          );
          await awaitReadModel(deps, res, [projectShows(deps, removed)]);
        }
        const decided = {
          status: body.decision === 'APPROVE' ? 'APPROVED' : 'REJECTED',
          decidedBy: actor.userId,
          decidedAt: new Date(),
          reason: body.reason,
          explanation: body.explanation,
        };
        await sm.RemovalProposal.updateOne({ _id: params.id, status: 'PROPOSED' }, { $set: decided });
        return { ...p, ...decided };
      },
    }),
  ];
}
