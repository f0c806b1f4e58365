/** 实施: monthly progress, payments capped by the approved estimate, suspension and completion. */
import {
  basisPoints,
  cancelOpenTasks,
  closeTask,
  event,
  requireDate,
  requireOrg,
  requireStage,
  requireText,
  requireYuan,
  setStage,
  touch,
  type Handlers,
} from '../task-ops';
import { DomainError } from '../errors';
import { holds } from '../conditions';
import { REPORTING_STAGES, latestReportablePeriod, periodOfTaskKey, reportTaskKey } from '../monthly-reports';

export const implementationHandlers: Pick<
  Handlers,
  'recordProgress' | 'recordPayment' | 'acceptCompletion' | 'suspend' | 'resume'
> = {
  recordProgress(ctx, a) {
    const { s, policy } = ctx;
    requireStage(s, REPORTING_STAGES);
    requireOrg(ctx, s.details.ownerOrg, 'progress is reported by the owner');
    if (typeof a.period !== 'string' || !/^\d{4}-(0[1-9]|1[0-2])$/.test(a.period)) {
      throw new DomainError('INVALID_DATA', 'period must be YYYY-MM', { field: 'period' });
    }
    requireYuan(a.ytdInvestmentYuan, 'ytdInvestmentYuan');
    requireYuan(a.cumulativeInvestmentYuan, 'cumulativeInvestmentYuan');
    requireYuan(a.fundsReceivedYuan, 'fundsReceivedYuan');
    requireText(a.physicalProgress, 'physicalProgress', 2000);
    if (a.nextMonthPlan !== undefined) requireText(a.nextMonthPlan, 'nextMonthPlan', 2000);
    if (a.problems !== undefined) requireText(a.problems, 'problems', 2000);
    const latest = latestReportablePeriod(s, policy, ctx.now);
    if (a.period > latest)
      throw new DomainError(
        'INVALID_DATA',
        `${a.period} has not begun: the latest month to report is ${latest}`,
        {
          field: 'period',
          latestPeriod: latest,
        },
      );
    const last = s.reports[s.reports.length - 1];
    if (last && a.period <= last.period) {
      throw new DomainError(
        last.period === a.period ? 'ALREADY_DECIDED' : 'INVALID_DATA',
        `a report for ${a.period} cannot follow the report for ${last.period}`,
        { field: 'period', lastPeriod: last.period },
      );
    }
    // The figures this report builds on: the last report, or those entered at onboarding.
    const base = last
      ? { period: last.period, ytd: last.ytdInvestmentYuan, cumulative: last.cumulativeInvestmentYuan }
      : s.investmentToDate
        ? {
            period: s.investmentToDate.asOf.slice(0, 7),
            ytd: s.investmentToDate.ytdInvestmentYuan,
            cumulative: s.investmentToDate.cumulativeInvestmentYuan,
          }
        : undefined;
    const sameYear = base && base.period.slice(0, 4) === a.period.slice(0, 4) ? base : undefined;
    if (sameYear && a.ytdInvestmentYuan < sameYear.ytd) {
      throw new DomainError(
        'INVALID_DATA',
        `year-to-date investment cannot decrease within a year (was ${sameYear.ytd} 元 in ${sameYear.period})`,
        { field: 'ytdInvestmentYuan' },
      );
    }
    if (a.cumulativeInvestmentYuan < a.ytdInvestmentYuan) {
      throw new DomainError(
        'INVALID_DATA',
        'cumulative investment cannot be less than year-to-date investment',
        { field: 'cumulativeInvestmentYuan' },
      );
    }
    if (base && a.cumulativeInvestmentYuan < base.cumulative) {
      throw new DomainError(
        'INVALID_DATA',
        `cumulative investment cannot decrease (was ${base.cumulative} 元 in ${base.period})`,
        { field: 'cumulativeInvestmentYuan' },
      );
    }
    const owed = s.tasks.find(
      (t) => t.kind === 'REPORT' && t.status === 'OPEN' && t.key === reportTaskKey(a.period),
    );
    const dueAt = owed?.deadline?.dueAt;
    const late = dueAt !== undefined && ctx.now > dueAt;
    const d = s.details;
    const report = {
      period: a.period,
      monthInvestmentYuan: a.ytdInvestmentYuan - (sameYear?.ytd ?? 0),
      ytdInvestmentYuan: a.ytdInvestmentYuan,
      cumulativeInvestmentYuan: a.cumulativeInvestmentYuan,
      fundsReceivedYuan: a.fundsReceivedYuan,
      physicalProgress: a.physicalProgress,
      nextMonthPlan: a.nextMonthPlan,
      problems: a.problems,
      investmentCompletionBp: basisPoints(a.ytdInvestmentYuan, d.annualPlanYuan),
      cumulativeShareBp: basisPoints(a.cumulativeInvestmentYuan, d.totalInvestmentYuan),
      exceedsTotalInvestment: a.cumulativeInvestmentYuan > d.totalInvestmentYuan,
      recordedAt: ctx.now,
      actor: ctx.req.actor,
      ...(owed ? { late, dueAt } : {}),
    };
    s.reports.push(report);
    // This month's task is filed; an earlier month still open can no longer be (reports go in order): missed.
    if (owed) closeTask(ctx, owed, { result: { period: a.period, late } });
    for (const t of s.tasks) {
      const period = t.kind === 'REPORT' && t.status === 'OPEN' ? periodOfTaskKey(t.key) : undefined;
      if (period === undefined || period >= a.period) continue;
      Object.assign(t, {
        status: 'CANCELLED',
        closedAt: ctx.now,
        result: { cancelledBecause: `the report for ${a.period} was filed first`, missed: true, period },
      });
      touch(s, t.id);
    }
    const { actor: _a, ...data } = report;
    event(ctx, 'PROGRESS_REPORTED', data);
    const filed = late ? `progress for ${a.period} recorded (late)` : `progress for ${a.period} recorded`;
    return report.exceedsTotalInvestment
      ? `${filed}; warning: cumulative investment exceeds the total investment`
      : filed;
  },

  recordPayment(ctx, a) {
    const { s } = ctx;
    requireStage(s, ['UNDER_CONSTRUCTION']);
    requireOrg(ctx, s.details.ownerOrg, 'payments are recorded by the owner');
    requireYuan(a.amountYuan, 'amountYuan', true);
    requireDate(a.date, 'date');
    requireText(a.basis, 'basis', 500);
    // The approved estimate caps payments; a project the policy exempts from the 概算批复 (民间投资项目参照管理)
    // is capped by the budget figure it has, its total investment.
    const withoutEstimate = ctx.policy.implementation.capWithoutEstimate;
    const cap =
      s.approvedEstimateYuan ??
      (withoutEstimate && holds(withoutEstimate, s.details) ? s.details.totalInvestmentYuan : undefined);
    const capName = s.approvedEstimateYuan !== undefined ? 'the approved estimate' : 'the total investment';
    if (cap === undefined) {
      throw new DomainError(
        'GATE_NOT_MET',
        'no approved estimate (批复概算) is recorded, so no payment can be checked against it',
      );
    }
    const cumulative = s.cumulativePaidYuan + a.amountYuan;
    if (cumulative > cap) {
      throw new DomainError(
        'OVER_ESTIMATE',
        `payment refused: cumulative payments ${cumulative} 元 would exceed ${capName} ${cap} 元 (严禁超概算支付)`,
        {
          cumulativePaidYuan: s.cumulativePaidYuan,
          amountYuan: a.amountYuan,
          ...(s.approvedEstimateYuan !== undefined
            ? { approvedEstimateYuan: s.approvedEstimateYuan }
            : { totalInvestmentYuan: cap }),
        },
      );
    }
    s.cumulativePaidYuan = cumulative;
    s.payments.push({
      amountYuan: a.amountYuan,
      date: a.date,
      basis: a.basis,
      cumulativePaidYuan: cumulative,
      recordedAt: ctx.now,
      actor: ctx.req.actor,
    });
    event(ctx, 'PAYMENT_RECORDED', {
      amountYuan: a.amountYuan,
      date: a.date,
      basis: a.basis,
      cumulativePaidYuan: cumulative,
    });
    return `payment recorded; cumulative ${cumulative} of ${cap} 元`;
  },

  acceptCompletion(ctx, a) {
    const { s } = ctx;
    requireStage(s, ['UNDER_CONSTRUCTION']);
    const gate = s.tasks.find((t) => t.key === 'G-COMPLETION' && t.status === 'OPEN');
    if (!gate) throw new DomainError('WRONG_STAGE', 'no completion acceptance is open');
    requireOrg(ctx, gate.assigneeOrg, 'completion is accepted by the responsible department');
    requireText(a.documentNumber, 'documentNumber', 100);
    requireDate(a.date, 'date');
    s.completion = { documentNumber: a.documentNumber, date: a.date };
    closeTask(ctx, gate, { result: { ...s.completion } });
    cancelOpenTasks(ctx, 'completed');
    setStage(s, 'COMPLETED');
    event(ctx, 'COMPLETION_ACCEPTED', { ...s.completion });
    return 'completion accepted';
  },

  suspend(ctx, a) {
    const { s } = ctx;
    requireStage(s, ['UNDER_CONSTRUCTION']);
    requireOrg(
      ctx,
      [s.details.ownerOrg, s.details.responsibleDept],
      'suspension is recorded by the owner or the responsible department',
    );
    requireText(a.reason, 'reason', 2000);
    s.stageBeforeSuspension = s.stage;
    setStage(s, 'SUSPENDED');
    event(ctx, 'SUSPENDED', { reason: a.reason });
    return 'construction suspended';
  },

  resume(ctx, a) {
    const { s } = ctx;
    requireStage(s, ['SUSPENDED']);
    requireOrg(
      ctx,
      [s.details.ownerOrg, s.details.responsibleDept],
      'resumption is recorded by the owner or the responsible department',
    );
    requireText(a.reason, 'reason', 2000);
    setStage(s, s.stageBeforeSuspension ?? 'UNDER_CONSTRUCTION');
    s.stageBeforeSuspension = undefined;
    event(ctx, 'RESUMED', { reason: a.reason });
    return 'construction resumed';
  },
};
