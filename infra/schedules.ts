import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
import type { SupervisionKind } from '../db/supervision-models';
import type { SupervisionPolicy } from '../policy/schema';

const TZ = 'Asia/Shanghai';
const QUARTER_START_MONTHS = ['JANUARY', 'APRIL', 'JULY', 'OCTOBER'] as const;
const MONTHS = [
  'JANUARY',
  'FEBRUARY',
  'MARCH',
  'APRIL',
  'MAY',
  'JUNE',
  'JULY',
  'AUGUST',
  'SEPTEMBER',
  'OCTOBER',
  'NOVEMBER',
  'DECEMBER',
] as const;

/**
 * The supervision calendar, from the policy's `supervision` dates. A schedule cannot name "the last working
 * day", nor a day a leader postponed a meeting to (顺延, possibly into the next month), so the dispatch check
 * runs every day and its workflow acts only on a dispatch day — the work calendar and the postponements
 * decide, not a guessed Mon–Fri.
 */
export function supervisionSchedules(
  taskQueue: string,
  dates: SupervisionPolicy,
): { id: string; kind: SupervisionKind; spec: ScheduleOptions['spec']; taskQueue: string }[] {
  const { dispatch, adjustment, bulletin, assessment } = dates;
  const spec = (calendar: NonNullable<ScheduleOptions['spec']['calendars']>[number]) => ({
    timezone: TZ,
    calendars: [calendar],
  });
  return [
    {
      id: 'supervision-monthly-dispatch',
      kind: 'MONTHLY_DISPATCH' as const,
      spec: spec({ hour: dispatch.hour, minute: 0, comment: '月底专题调度会（最后一个工作日或顺延日）' }),
    },
    {
      id: 'supervision-quarterly-adjustment',
      kind: 'QUARTERLY_ADJUSTMENT' as const,
      spec: spec({
        month: [...QUARTER_START_MONTHS],
        dayOfMonth: adjustment.dayOfMonth,
        hour: adjustment.hour,
        minute: 0,
        comment: '季度动态调整',
      }),
    },
    {
      id: 'supervision-quarterly-bulletin',
      kind: 'QUARTERLY_BULLETIN' as const,
      spec: spec({
        month: [...QUARTER_START_MONTHS],
        dayOfMonth: bulletin.dayOfMonth,
        hour: bulletin.hour,
        minute: 0,
        comment: '季度通报',
      }),
    },
    {
      id: 'supervision-annual-assessment',
      kind: 'ANNUAL_ASSESSMENT' as const,
      spec: spec({
        month: MONTHS[assessment.month - 1]!,
        dayOfMonth: assessment.dayOfMonth,
        hour: assessment.hour,
        minute: 0,
        comment: '年度考核',
      }),
    },
  ].map((s) => ({ ...s, taskQueue }));
}

/** Creates the supervision schedules, or brings existing ones up to date (idempotent, run at start-up). */
export async function ensureSupervisionSchedules(
  client: Client,
  taskQueue: string,
  dates: SupervisionPolicy,
): Promise<string[]> {
  const ids: string[] = [];
  for (const s of supervisionSchedules(taskQueue, dates)) {
    const action = {
      type: 'startWorkflow' as const,
      workflowType: 'supervisionRun',
      args: [{ kind: s.kind }],
      taskQueue,
      workflowId: s.id,
    };
    // Each run acts for the day it was scheduled for and is idempotent per period, so runs caught up after an
    // outage queue behind each other instead of being skipped (a skipped dispatch day would be lost).
    const policies = {
      overlap: ScheduleOverlapPolicy.BUFFER_ALL,
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
