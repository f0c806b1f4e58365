import { proxyActivities } from '@temporalio/workflow';
import type { createSupervisionActivities } from '../activities/supervision';
import type { NotificationActivities } from '../activities/notifications';
import type { SupervisionKind } from '../domain/supervision';

const { planSupervisionRun, computeSupervisionReport } = proxyActivities<
  ReturnType<typeof createSupervisionActivities>
>({
  startToCloseTimeout: '10 minutes',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: 20,
  },
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
}

export interface SupervisionRunResult {
  ran: boolean;
  reason?: string;
  snapshotId?: string;
  proposals?: number;
}

/** One scheduled supervision job: compute its report from the read model, keep it, tell its recipients. */
export async function supervisionRun(input: SupervisionRunInput): Promise<SupervisionRunResult> {
  const plan = await planSupervisionRun({
    kind: input.kind,
    at: Date.now(),
    period: input.period,
    force: input.force ?? false,
  });
  if (!plan.run) return { ran: false, reason: plan.reason };
  const out = await computeSupervisionReport({ kind: input.kind, period: plan.period });
  for (const org of out.recipients) {
    await enqueueNotifications({
      notificationKey: `report:${out.snapshotId}`,
      recipients: [{ org }],
      template: 'REPORT_READY',
      payload: {
        reportId: out.snapshotId,
        kind: input.kind,
        period: plan.period,
        title: out.title,
        link: `/api/v1/reports/${out.snapshotId}`,
      },
    });
  }
  return { ran: true, snapshotId: out.snapshotId, proposals: out.proposals };
}
