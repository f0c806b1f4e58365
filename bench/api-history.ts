/**
 * Where the time between "decision accepted" and "read model written" goes, read back from the projects'
 * Temporal histories after bench/api-approvals.ts has run (event times are the server's own clock):
 * workflow tasks and activities (queue wait: scheduled → started; execution: started → completed), and for
 * each decideReview update the time from its completion to the end of the first syncReadModel activity
 * scheduled after it (the write that makes the decision visible in GET /projects/:id).
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { projectWorkflowId } from '../domain/project';
import { summarize, type LatencySummary } from './api-stats';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

function ms(e: HistoryEvent | undefined): number {
  const t = e?.eventTime;
  return Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
}

export interface HistoryBreakdown {
  projects: number;
  workflowTask: { queue: LatencySummary | undefined; run: LatencySummary | undefined };
  activities: Record<
    string,
    {
      queue: LatencySummary | undefined;
      run: LatencySummary | undefined;
      /** Completions that needed more than one attempt (an earlier attempt failed or hit its timeout). */
      retried: number;
      maxAttempt: number;
    }
  >;
  /** decideReview update completed → end of the next syncReadModel. */
  decisionToReadModel: LatencySummary | undefined;
}

/** Reads the histories (at most `concurrency` at once) and keeps events inside [fromMs, toMs]. */
export async function historyBreakdown(
  client: Client,
  projectIds: readonly string[],
  fromMs: number,
  toMs: number,
  concurrency = 4,
): Promise<HistoryBreakdown> {
  const wftQueue: number[] = [];
  const wftRun: number[] = [];
  const actQueue = new Map<string, number[]>();
  const actRun = new Map<string, number[]>();
  const toReadModel: number[] = [];
  const retried = new Map<string, number>();
  const maxAttempt = new Map<string, number>();
  const push = (m: Map<string, number[]>, k: string, v: number) => m.set(k, [...(m.get(k) ?? []), v]);
  const inWindow = (e: HistoryEvent | undefined) => e !== undefined && ms(e) >= fromMs && ms(e) <= toMs;

  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, projectIds.length) }, async () => {
    while (next < projectIds.length) {
      const id = projectIds[next++]!;
      const history = await client.workflow.getHandle(projectWorkflowId(id)).fetchHistory();
      const events = history.events ?? [];
      const byId = new Map(events.map((e) => [Number(e.eventId ?? 0), e]));
      const activityType = new Map<number, string>();
      const updateName = new Map<number, string>();
      for (const e of events) {
        const eid = Number(e.eventId ?? 0);
        switch (e.eventType) {
          case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            activityType.set(eid, e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?');
            break;
          case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            updateName.set(
              eid,
              e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name ?? '?',
            );
            break;
          case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
            const a = e.workflowTaskCompletedEventAttributes;
            const scheduled = byId.get(Number(a?.scheduledEventId ?? 0));
            const started = byId.get(Number(a?.startedEventId ?? 0));
            if (inWindow(scheduled) && started) {
              wftQueue.push(ms(started) - ms(scheduled));
              wftRun.push(ms(e) - ms(started));
            }
            break;
          }
          case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
            const a = e.activityTaskCompletedEventAttributes;
            const sid = Number(a?.scheduledEventId ?? 0);
            const scheduled = byId.get(sid);
            const started = byId.get(Number(a?.startedEventId ?? 0));
            const name = activityType.get(sid) ?? '?';
            if (inWindow(scheduled) && started) {
              // Queue time of the attempt that completed; with retries it includes the earlier attempts.
              push(actQueue, name, ms(started) - ms(scheduled));
              push(actRun, name, ms(e) - ms(started));
              const attempt = started.activityTaskStartedEventAttributes?.attempt ?? 1;
              if (attempt > 1) retried.set(name, (retried.get(name) ?? 0) + 1);
              maxAttempt.set(name, Math.max(maxAttempt.get(name) ?? 1, attempt));
            }
            break;
          }
          case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: {
            const acceptedId = Number(
              e.workflowExecutionUpdateCompletedEventAttributes?.acceptedEventId ?? 0,
            );
            if (updateName.get(acceptedId) !== 'decideReview' || !inWindow(e)) break;
            // The first read-model write scheduled after this update carries its change.
            const sync = events.find(
              (x) =>
                Number(x.eventId ?? 0) > eid &&
                x.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED &&
                x.activityTaskScheduledEventAttributes?.activityType?.name === 'syncReadModel',
            );
            const done = sync
              ? events.find(
                  (x) =>
                    x.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED &&
                    Number(x.activityTaskCompletedEventAttributes?.scheduledEventId ?? 0) ===
                      Number(sync.eventId),
                )
              : undefined;
            if (done) toReadModel.push(ms(done) - ms(e));
            break;
          }
        }
      }
    }
  });
  await Promise.all(lanes);
  const activities: HistoryBreakdown['activities'] = {};
  for (const [name, q] of [...actQueue.entries()].sort(([a], [b]) => a.localeCompare(b)))
    activities[name] = {
      queue: summarize(q),
      run: summarize(actRun.get(name) ?? []),
      retried: retried.get(name) ?? 0,
      maxAttempt: maxAttempt.get(name) ?? 1,
    };
  return {
    projects: projectIds.length,
    workflowTask: { queue: summarize(wftQueue), run: summarize(wftRun) },
    activities,
    decisionToReadModel: summarize(toReadModel),
  };
}
