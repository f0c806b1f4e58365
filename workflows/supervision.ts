import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createSupervisionActivities } from '../activities/supervision';
import type { NotificationActivities } from '../activities/notifications';
import type { SupervisionKind } from '../domain/supervision';

const REPORT_RETRY = {
  initialInterval: '5 seconds',
  backoffCoefficient: 2,
  maximumInterval: '5 minutes',
  maximumAttempts: 20,
} as const;

const { planSupervisionRun } = proxyActivities<ReturnType<typeof createSupervisionActivities>>({
  startToCloseTimeout: '10 minutes',
  retry: REPORT_RETRY,
});

// The report heartbeats (activities/supervision.ts): a worker killed mid-report costs 30 s, not 10 minutes. Only
// the timeouts differ from the plan's, and timeouts are not part of what a replay compares.
const { computeSupervisionReport } = proxyActivities<ReturnType<typeof createSupervisionActivities>>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: REPORT_RETRY,
});
const { enqueueNotifications } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export interface SupervisionRunInput {
  kind: SupervisionKind;
  /** Set by a manual run; scheduled runs derive the period from the day they run. */
  period?: string;
  /** Run even when today is not the dispatch day (manual runs by an authorised leader). */
  force?: boolean;
  /** The instant the run acts for; default the time its schedule named, else the start of the run. */
  at?: number;
}

export interface SupervisionRunResult {
  ran: boolean;
  reason?: string;
  /** The report of the newest period; `snapshotIds` lists every report of the run, oldest first. */
  snapshotId?: string;
  snapshotIds?: string[];
  proposals?: number;
}

// Set by Temporal on runs a schedule starts: a run caught up after an outage still acts for its own day.
const ScheduledStartTime = defineSearchAttributeKey(
  'TemporalScheduledStartTime',
  SearchAttributeType.DATETIME,
);

/**
 * One scheduled supervision job: compute its reports from the read model, keep them, tell their recipients.
 * A dispatch check may report two months at once (one postponed to the day of the next month's meeting).
 */
export async function supervisionRun(input: SupervisionRunInput): Promise<SupervisionRunResult> {
  const plan = await planSupervisionRun({
    kind: input.kind,
    at: input.at ?? workflowInfo().typedSearchAttributes.get(ScheduledStartTime)?.getTime() ?? Date.now(),
    period: input.period,
    force: input.force ?? false,
  });
  if (!plan.run) return { ran: false, reason: plan.reason };
  const snapshotIds: string[] = [];
  let proposals = 0;
  // Plans recorded before `periods` existed name one period.
  for (const period of plan.periods ?? [plan.period]) {
    const out = await computeSupervisionReport({ kind: input.kind, period });
    const payload = {
      reportId: out.snapshotId,
      kind: input.kind,
      period,
      title: out.title,
      reportTitle: out.title, // the name the REPORT_READY template shows
      link: `/api/v1/reports/${out.snapshotId}`,
    };
    // One notice to every recipient under the report's key: a delivery per recipient and channel follows.
    if (out.recipients.length > 0)
      await enqueueNotifications({
        notificationKey: `report:${out.snapshotId}`,
        recipients: out.recipients.map((org) => ({ org })),
        template: 'REPORT_READY',
        payload,
      });
    snapshotIds.push(out.snapshotId);
    proposals += out.proposals;
  }
  return { ran: true, snapshotId: snapshotIds.at(-1), snapshotIds, proposals };
}
