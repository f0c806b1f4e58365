import { Context } from '@temporalio/activity';
import { loadWorkCalendar } from './deadlines';
import type { CalendarModels } from '../db/calendar-models';
import type { Models, ProjectDoc } from '../db/models';
import { backfillReportFacts } from '../db/read-model-setup';
import {
  snapshotStages,
  writeSnapshotStages,
  type SupervisionKind,
  type SupervisionModels,
} from '../db/supervision-models';
import { parseReportFacts, REPORT_FACTS_VERSION, type ReportFacts } from '../domain/supervision';
import type { Policy } from '../policy/schema';
import { shanghaiDayOf } from '../calendar';
import { monthlyDispatch } from '../reports/dispatch';
import { overdueList } from '../reports/overdue';
import { rankings } from '../reports/rankings';
import { dataQuality } from '../reports/quality';
import { portfolioTargets } from '../reports/targets';
import type { Period } from '../reports/format';

export interface SupervisionDeps {
  models: Models;
  calendarModels: CalendarModels;
  supervisionModels: SupervisionModels;
  policy: Policy;
}

const TITLES: Record<SupervisionKind, string> = {
  MONTHLY_DISPATCH: '月底专题调度会报告',
  QUARTERLY_ADJUSTMENT: '季度动态调整',
  QUARTERLY_BULLETIN: '季度通报',
  ANNUAL_ASSESSMENT: '年度考核',
};

export function parsePeriod(period: string): Period {
  const m = /^(\d{4})(?:-(\d{2})|-Q([1-4]))?$/.exec(period);
  if (!m) throw new Error(`invalid period ${period}`);
  const year = Number(m[1]);
  if (m[2]) return { year, month: Number(m[2]) };
  if (m[3]) return { year, quarter: Number(m[3]) };
  return { year };
}

function previousQuarter(day: string): string {
  const y = Number(day.slice(0, 4));
  const q = Math.floor((Number(day.slice(5, 7)) - 1) / 3) + 1;
  return q === 1 ? `${y - 1}-Q4` : `${y}-Q${q - 1}`;
}

/** What a supervision run acts on: the periods to report, oldest first (`period` is the first). */
export type SupervisionPlan =
  { run: true; period: string; periods: string[] } | { run: false; period: string; reason: string };

/**
 * The months whose dispatch meeting falls on `day`: each of `months` (the day's own month, unless a
 * postponement moved its meeting) on its last working day, and every month postponed to `day`.
 */
export function dispatchPeriodsDue(
  day: string,
  months: readonly string[],
  postponements: readonly { _id: string; postponedTo: string }[],
  lastWorkingDay: (month: string) => string,
): string[] {
  const moved = new Map(postponements.map((p) => [p._id, p.postponedTo]));
  const due = new Set(postponements.filter((p) => p.postponedTo === day).map((p) => p._id));
  for (const month of months) if (!moved.has(month) && lastWorkingDay(month) === day) due.add(month);
  return [...due].sort();
}

export function createSupervisionActivities(deps: SupervisionDeps) {
  const { models, supervisionModels: sm, policy } = deps;

  /**
   * Decides whether a run acts on the day of `at` (Asia/Shanghai) and for which periods. A scheduled dispatch
   * check acts for this month on its last working day (unless postponed) and for every month whose meeting
   * was postponed to this day — also from an earlier month (顺延 into the next month), oldest first, so a
   * month's snapshot exists before the next month's conversion figures read it. Periods already reported are
   * left out: each runs exactly once.
   */
  async function planSupervisionRun(input: {
    kind: SupervisionKind;
    at: number;
    period?: string | undefined;
    force: boolean;
  }): Promise<SupervisionPlan> {
    const day = shanghaiDayOf(input.at);
    const reported = async (period: string) =>
      (await sm.ReportSnapshot.exists({ _id: `${input.kind}:${period}` })) !== null;
    const alreadyReported = (period: string) => ({
      run: false as const,
      period,
      reason: `the ${input.kind} report for ${period} already exists (snapshots are immutable)`,
    });

    if (input.kind === 'MONTHLY_DISPATCH' && !input.force) {
      const { calendar } = await loadWorkCalendar(deps.calendarModels);
      const lastWorkingDay = (month: string) =>
        calendar.lastWorkingDayOfMonth(Number(month.slice(0, 4)), Number(month.slice(5, 7)));
      if (input.period && !('month' in parsePeriod(input.period)))
        throw new Error(`a dispatch period is a month, not ${input.period}`);
      const months = [input.period ?? day.slice(0, 7)];
      const postponements = await sm.DispatchPostponement.find({
        $or: [{ _id: { $in: months } }, { postponedTo: day }],
      }).lean();
      const due = dispatchPeriodsDue(day, months, postponements, lastWorkingDay);
      const todo: string[] = [];
      for (const period of due) if (!(await reported(period))) todo.push(period);
      if (todo.length > 0) return { run: true, period: todo[0]!, periods: todo };
      if (due.length > 0) return alreadyReported(due[0]!);
      const month = months[0]!;
      const meetingDay = postponements.find((p) => p._id === month)?.postponedTo ?? lastWorkingDay(month);
      return { run: false, period: month, reason: `the dispatch meeting of ${month} is on ${meetingDay}` };
    }

    const period =
      input.period ??
      (input.kind === 'MONTHLY_DISPATCH'
        ? day.slice(0, 7)
        : input.kind === 'ANNUAL_ASSESSMENT'
          ? String(Number(day.slice(0, 4)) - 1)
          : previousQuarter(day));
    parsePeriod(period);
    if (await reported(period)) return alreadyReported(period);
    return { run: true, period, periods: [period] };
  }

  /** When each blocker was open (raised → 销号), for the dispatch report's open blockers. */
  async function blockerSpans() {
    const docs = await models.Blocker.find({}, { projectId: 1, raisedAt: 1, closedAt: 1 }).lean();
    return docs.map((b) => ({
      projectId: b.projectId,
      openedAt: b.raisedAt,
      closedAt: b.closedAt ?? undefined,
    }));
  }

  /**
   * What the reports read of every project: the slim `projectFacts` (one string each), not the full records,
   * which FerretDB decodes at ~1 MB/s. Facts of an older shape (a worker of an earlier release wrote them) are
   * derived again from the records first; missing ones are the start-up backfill's (db/read-model-setup.ts).
   */
  async function reportFacts(): Promise<ReportFacts[]> {
    let docs = await models.ProjectFacts.find({}).lean();
    if (docs.some((d) => d.v !== REPORT_FACTS_VERSION)) {
      await backfillReportFacts(models);
      docs = await models.ProjectFacts.find({}).lean();
    }
    return docs.map(parseReportFacts);
  }

  /** Computes the report from the read model, stores it once as an immutable snapshot, opens removal proposals. */
  async function computeSupervisionReport(input: { kind: SupervisionKind; period: string }) {
    const snapshotId = `${input.kind}:${input.period}`;
    const asOf = new Date();
    const docs = (await reportFacts()) as (ReportFacts & Pick<ProjectDoc, 'details' | 'flags'>)[];
    const ctx = { organisations: policy.organisations, period: parsePeriod(input.period), asOf };
    const { calendar } = await loadWorkCalendar(deps.calendarModels);
    const workingDaysBetween = (from: number, to: number) => {
      try {
        return calendar.workingDaysBetween(from, to);
      } catch {
        return Math.max(0, Math.floor((to - from) / 86_400_000)); // uncovered year: calendar days, flagged below
      }
    };
    const stages = Object.fromEntries(docs.map((d) => [d._id, d.stage]));
    let report: Record<string, unknown>;
    let proposals = 0;
    // Stages at the start of the period, from the monthly snapshot of the month before it (conversion rates).
    const previous = await snapshotStages(sm, `MONTHLY_DISPATCH:${monthBefore(input.period)}`);
    const history = previous ? { stagesAtPeriodStart: previous } : {};
    const reporting = { reporting: policy.reporting };
    const monthlyReportDueDay = policy.implementation.monthlyReportDueDay;
    if (input.kind === 'MONTHLY_DISPATCH') {
      report = {
        dispatch: monthlyDispatch(docs, ctx, { ...history, blockers: await blockerSpans() }),
        overdue: overdueList(docs, ctx, workingDaysBetween),
        rankings: rankings(docs, ctx, { ...history, ...reporting, monthlyReportDueDay }),
        dataQuality: dataQuality(docs, ctx),
        targets: portfolioTargets(docs, ctx, reporting),
      };
    } else if (input.kind === 'QUARTERLY_ADJUSTMENT') {
      const stale = docs.filter(
        (d) => (d.flags as { stale?: boolean }).stale === true && d.stage === 'RESERVE',
      );
      // Blocked: a live project with an open blocker that has climbed to the leading group (or beyond).
      const blockedIds = new Set(
        (
          await models.Blocker.find(
            { status: { $ne: 'CLOSED' } },
            { projectId: 1, escalationLevel: 1 },
          ).lean()
        )
          .filter((b) => b.escalationLevel >= leadingGroupLevel(policy))
          .map((b) => b.projectId),
      );
      const blocked = docs.filter(
        (d) =>
          blockedIds.has(d._id) &&
          !stale.includes(d) &&
          !['COMPLETED', 'REJECTED', 'REMOVED', 'WITHDRAWN'].includes(d.stage),
      );
      const candidates = [
        ...stale.map((d) => ({ d, why: '储备库项目长期未取得审批进展' })),
        ...blocked.map((d) => ({ d, why: '堵点逾期未解决，已升级至领导小组' })),
      ];
      for (const { d, why } of candidates) {
        const res = await sm.RemovalProposal.updateOne(
          { _id: `${input.period}:${d._id}` },
          {
            $setOnInsert: {
              period: input.period,
              projectId: d._id,
              projectName: String(d.details.name),
              portfolio: String(d.details.portfolio),
              why,
              status: 'PROPOSED',
              createdAt: asOf,
            },
          },
          { upsert: true },
        );
        proposals += res.upsertedCount;
      }
      report = {
        proposals: candidates.map(({ d, why }) => ({
          projectId: d._id,
          name: d.details.name,
          portfolio: d.details.portfolio,
          why,
        })),
        targets: portfolioTargets(docs, ctx, reporting),
      };
    } else {
      report = {
        rankings: rankings(docs, ctx, { ...history, ...reporting, monthlyReportDueDay }),
        targets: portfolioTargets(docs, ctx, reporting),
        overdue: overdueList(docs, ctx, workingDaysBetween),
      };
    }
    // Written once: a retry of a run that stored its snapshot leaves it and its stage map as they are.
    const stored = (await sm.ReportSnapshot.exists({ _id: snapshotId })) !== null;
    if (!stored && input.kind === 'MONTHLY_DISPATCH') await writeSnapshotStages(sm, snapshotId, stages);
    if (!stored)
      await sm.ReportSnapshot.updateOne(
        { _id: snapshotId },
        {
          $setOnInsert: {
            kind: input.kind,
            period: input.period,
            policyVersion: policy.version,
            dataAsOf: asOf,
            createdAt: new Date(),
            projectCount: docs.length,
            report,
            // The leading group approves the annual assessment results before they reach departments and counties.
            ...(input.kind === 'ANNUAL_ASSESSMENT' ? { approval: { status: 'AWAITING' } } : {}),
          },
        },
        { upsert: true },
      );
    const recipients =
      input.kind === 'ANNUAL_ASSESSMENT'
        ? [policy.leadingGroup]
        : policy.organisations
            .filter((o) => ['LEADING_GROUP', 'SPECIAL_GROUP', 'DEPARTMENT'].includes(o.kind))
            .map((o) => o.id);
    return { snapshotId, title: `${TITLES[input.kind]}（${input.period}）`, recipients, proposals };
  }

  return {
    planSupervisionRun,
    computeSupervisionReport: (input: { kind: SupervisionKind; period: string }) =>
      whileHeartbeating(() => computeSupervisionReport(input)),
  };
}

/**
 * Runs `fn` heartbeating every few seconds, so a report whose worker dies is run again elsewhere within its
 * heartbeat timeout (workflows/supervision.ts), not after its whole start-to-close time.
 */
async function whileHeartbeating<T>(fn: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  ctx.heartbeat();
  const beating = setInterval(() => ctx.heartbeat(), 5_000);
  try {
    return await fn();
  } finally {
    clearInterval(beating);
  }
}

/** The month before a period (`2026-07` → `2026-06`, `2026-Q3` → `2026-06`, `2026` → `2025-12`). */
export function monthBefore(period: string): string {
  const p = parsePeriod(period);
  const firstMonth = 'month' in p ? p.month : 'quarter' in p ? (p.quarter - 1) * 3 + 1 : 1;
  return firstMonth === 1 ? `${p.year - 1}-12` : `${p.year}-${String(firstMonth - 1).padStart(2, '0')}`;
}

/** The escalation level that reaches the leading group (default L3); a blocker there marks its project blocked. */
export function leadingGroupLevel(policy: Policy): number {
  const levels = policy.time.escalation
    .filter((e) => e.recipients.includes('LEADING_GROUP'))
    .map((e) => e.level);
  return levels.length > 0 ? Math.min(...levels) : Number.MAX_SAFE_INTEGER;
}
