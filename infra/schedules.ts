import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
import type { SupervisionKind } from '../db/supervision-models';

const TZ = 'Asia/Shanghai';

/**
 * The supervision calendar. A schedule cannot name "the last working day", so the monthly dispatch fires
 * on the last eight days of each month at 16:00 and its workflow runs only on the last working day (or the
 * postponed day) — the work calendar decides, not a guessed Mon–Fri.
 */
export function supervisionSchedules(
  taskQueue: string,
): { id: string; kind: SupervisionKind; spec: ScheduleOptions['spec'] }[] {
  const quarterMonths = ['JANUARY', 'APRIL', 'JULY', 'OCTOBER'] as const;
  return [
    {
      id: 'supervision-monthly-dispatch',
      kind: 'MONTHLY_DISPATCH',
      spec: {
        timezone: TZ,
        calendars: [
          {
            dayOfMonth: { start: 21, end: 31 },
            hour: 16,
            minute: 0,
            comment: '月底专题调度会（最后一个工作日）',
          },
        ],
      },
    },
    {
      id: 'supervision-quarterly-adjustment',
      kind: 'QUARTERLY_ADJUSTMENT',
      spec: {
        timezone: TZ,
        calendars: [
          { month: [...quarterMonths], dayOfMonth: 5, hour: 9, minute: 0, comment: '季度动态调整' },
        ],
      },
    },
    {
      id: 'supervision-quarterly-bulletin',
      kind: 'QUARTERLY_BULLETIN',
      spec: {
        timezone: TZ,
        calendars: [{ month: [...quarterMonths], dayOfMonth: 10, hour: 9, minute: 0, comment: '季度通报' }],
      },
    },
    {
      id: 'supervision-annual-assessment',
      kind: 'ANNUAL_ASSESSMENT',
      spec: {
        timezone: TZ,
        calendars: [{ month: 'JANUARY', dayOfMonth: 15, hour: 9, minute: 0, comment: '年度考核' }],
      },
    },
  ].map((s) => ({ ...s, taskQueue })) as {
    id: string;
    kind: SupervisionKind;
    spec: ScheduleOptions['spec'];
  }[];
}

/** Creates the supervision schedules, or brings existing ones up to date (idempotent, run at start-up). */
export async function ensureSupervisionSchedules(client: Client, taskQueue: string): Promise<string[]> {
  const ids: string[] = [];
  for (const s of supervisionSchedules(taskQueue)) {
    const action = {
      type: 'startWorkflow' as const,
      workflowType: 'supervisionRun',
      args: [{ kind: s.kind }],
      taskQueue,
      workflowId: s.id,
    };
    const policies = {
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: '2 days' as const,
      pauseOnFailure: false,
    };
    try {
      await client.schedule.create({ scheduleId: s.id, spec: s.spec, action, policies });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await client.schedule.getHandle(s.id).update((prev) => ({ ...prev, spec: s.spec, action, policies }));
    }
    ids.push(s.id);
  }
  return ids;
}
