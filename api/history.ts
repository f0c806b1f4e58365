import { temporal } from '@temporalio/proto';
import { defaultPayloadConverter } from '@temporalio/common';
import { projectWorkflowId } from '../domain/project';
import { auditTrailOf } from '../db/queries';
import type { ApiDeps } from './app';
import type { Revision } from '../domain/revisions';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

export interface TimelineEntry {
  at: string;
  /** temporal: the workflow's history; audit: the trail; revision: a change of details; blocker: a blocker's life. */
  source: 'temporal' | 'audit' | 'revision' | 'blocker';
  what: string;
  actor?: { userId?: string; org?: string; name?: string } | undefined;
  runId?: string;
  eventId?: number;
  details?: Record<string, unknown>;
}

function time(e: HistoryEvent): string {
  const t = e.eventTime;
  const ms = Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
  return new Date(ms).toISOString();
}

function decode(payloads: temporal.api.common.v1.IPayloads | null | undefined): unknown[] {
  return (payloads?.payloads ?? []).map((p) => {
    try {
      return defaultPayloadConverter.fromPayload(p);
    } catch {
      return undefined;
    }
  });
}

/** Turns one Temporal history event into a readable entry, or nothing for bookkeeping events. */
function describeEvent(
  e: HistoryEvent,
  runId: string,
  activityTypes: Map<number, string>,
): TimelineEntry | undefined {
  const base = { at: time(e), source: 'temporal' as const, runId, eventId: Number(e.eventId ?? 0) };
  switch (e.eventType) {
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
      const a = e.workflowExecutionStartedEventAttributes;
      return {
        ...base,
        what: a?.continuedExecutionRunId ? '工作流续跑（continue-as-new），状态完整带入' : '项目工作流启动',
      };
    }
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: {
      const a = e.workflowExecutionUpdateAcceptedEventAttributes;
      const [req] = decode(a?.acceptedRequest?.input?.args) as [
        { requestId?: string; actor?: TimelineEntry['actor']; action?: Record<string, unknown> }?,
      ];
      return {
        ...base,
        what: `受理操作 ${a?.acceptedRequest?.input?.name ?? ''}`,
        actor: req?.actor
          ? { userId: req.actor.userId, org: req.actor.org, name: req.actor.name }
          : undefined,
        details: { requestId: req?.requestId, action: req?.action },
      };
    }
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: {
      const o = e.workflowExecutionUpdateCompletedEventAttributes?.outcome;
      const [result] = decode(o?.success) as [{ message?: string }?];
      return {
        ...base,
        what: o?.failure ? `操作失败：${o.failure.message ?? ''}` : `操作完成：${result?.message ?? ''}`,
      };
    }
    case EventType.EVENT_TYPE_TIMER_STARTED: {
      const a = e.timerStartedEventAttributes;
      const secs = Number(a?.startToFireTimeout?.seconds ?? 0);
      return {
        ...base,
        what: `计时器启动（下次提醒/督办/期限检查，${secs} 秒后）`,
        details: { timerId: a?.timerId },
      };
    }
    case EventType.EVENT_TYPE_TIMER_FIRED:
      return {
        ...base,
        what: '计时器到点（检查提醒与督办）',
        details: { timerId: e.timerFiredEventAttributes?.timerId },
      };
    case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
      const type = e.activityTaskScheduledEventAttributes?.activityType?.name ?? '';
      activityTypes.set(Number(e.eventId ?? 0), type);
      return { ...base, what: `调度活动 ${type}` };
    }
    case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
      const type =
        activityTypes.get(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? 0)) ?? '';
      return { ...base, what: `活动完成 ${type}` };
    }
    case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
      return { ...base, what: `活动失败：${e.activityTaskFailedEventAttributes?.failure?.message ?? ''}` };
    case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
      return { ...base, what: '更新检索属性（阶段/逾期/下一期限）' };
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
      return {
        ...base,
        what: '本次运行结束，续跑为新运行',
        details: { newRunId: e.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId },
      };
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
      return { ...base, what: '项目工作流结束' };
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
      return {
        ...base,
        what: `项目工作流失败：${e.workflowExecutionFailedEventAttributes?.failure?.message ?? ''}`,
      };
    default:
      return undefined;
  }
}

/** Every run of the project's workflow, oldest first (continue-as-new chains them under one workflow id). */
async function runsOf(deps: ApiDeps, projectId: string): Promise<string[]> {
  const runs: { runId: string; start: number }[] = [];
  for await (const w of deps.projects.client.workflow.list({
    query: `WorkflowId = '${projectWorkflowId(projectId)}'`,
  })) {
    runs.push({ runId: w.runId, start: w.startTime.getTime() });
  }
  if (runs.length === 0) {
    // Visibility is eventually consistent; the latest run is always reachable directly.
    const d = await deps.projects.handle(projectId).describe();
    runs.push({ runId: d.runId, start: d.startTime.getTime() });
  }
  return runs.sort((a, b) => a.start - b.start).map((r) => r.runId);
}

export async function rawHistory(deps: ApiDeps, projectId: string) {
  const runs = await runsOf(deps, projectId);
  const out: { runId: string; history: unknown }[] = [];
  for (const runId of runs) {
    const h = await deps.projects.client.workflow
      .getHandle(projectWorkflowId(projectId), runId)
      .fetchHistory();
    out.push({
      runId,
      history: temporal.api.history.v1.History.toObject(temporal.api.history.v1.History.fromObject(h), {
        longs: String,
        enums: String,
        bytes: String,
      }),
    });
  }
  return out;
}

/** One readable timeline: Temporal's history across runs merged with the audit trail, by time. */
export async function timeline(
  deps: ApiDeps,
  projectId: string,
): Promise<{ entries: TimelineEntry[]; runs: string[] }> {
  const runs = await runsOf(deps, projectId);
  const entries: TimelineEntry[] = [];
  for (const runId of runs) {
    const h = await deps.projects.client.workflow
      .getHandle(projectWorkflowId(projectId), runId)
      .fetchHistory();
    const activityTypes = new Map<number, string>();
    for (const e of h.events ?? []) {
      const entry = describeEvent(e, runId, activityTypes);
      if (entry) entries.push(entry);
    }
  }
  for (const e of await auditTrailOf(deps.models, projectId)) {
    entries.push({
      at: new Date(e.at).toISOString(),
      source: 'audit',
      what: e.type,
      actor: e.actor,
      details: {
        seq: e.seq,
        stageBefore: e.stageBefore,
        stageAfter: e.stageAfter,
        requestId: e.requestId,
        ...e.data,
      },
    });
  }
  entries.push(...(await revisionEntries(deps, projectId)), ...(await blockerEntries(deps, projectId)));
  const rank = { temporal: 0, audit: 1, revision: 2, blocker: 3 } as const;
  entries.sort((a, b) => a.at.localeCompare(b.at) || rank[a.source] - rank[b.source]);
  return { entries, runs };
}

/** Each version of the details: who, when, why, and each field's old and new value. */
async function revisionEntries(deps: ApiDeps, projectId: string): Promise<TimelineEntry[]> {
  const doc = await deps.models.Project.findById(projectId, { 'state.revisions': 1 }).lean();
  const revisions = (doc?.state as { revisions?: Revision[] } | undefined)?.revisions ?? [];
  return revisions.map((r) => ({
    at: new Date(r.at).toISOString(),
    source: 'revision' as const,
    what: `${r.via === 'CHANGE_REQUEST' ? '调整申请获批，' : ''}项目信息修改为第 ${r.version} 版：${r.changes
      .map((c) => c.field)
      .join('、')}`,
    actor: { userId: r.actor.userId, org: r.actor.org, name: r.actor.name },
    details: { version: r.version, reason: r.reason, changes: r.changes },
  }));
}

/** Each blocker's life on this project: raised, resolved, reopened, closed. */
async function blockerEntries(deps: ApiDeps, projectId: string): Promise<TimelineEntry[]> {
  const out: TimelineEntry[] = [];
  for (const b of await deps.models.Blocker.find({ projectId }).lean()) {
    const who = (a: Record<string, unknown> | null | undefined) =>
      a
        ? { userId: a.userId as string, org: a.org as string, name: a.name as string | undefined }
        : undefined;
    const base = {
      source: 'blocker' as const,
      details: { blockerId: b._id, level: b.level, category: b.category },
    };
    out.push({
      ...base,
      at: new Date(b.raisedAt).toISOString(),
      what: `提报堵点 ${b._id}：${b.description}`,
      actor: who(b.raisedBy),
    });
    for (const r of b.resolutions as {
      round: number;
      note: string;
      actor: Record<string, unknown>;
      at: number;
    }[])
      out.push({
        ...base,
        at: new Date(r.at).toISOString(),
        what: `堵点 ${b._id} 第 ${r.round} 轮办结：${r.note}`,
        actor: who(r.actor),
      });
    for (const r of b.reopenings as {
      round: number;
      reason: string;
      actor: Record<string, unknown>;
      at: number;
    }[])
      out.push({
        ...base,
        at: new Date(r.at).toISOString(),
        what: `堵点 ${b._id} 重新打开：${r.reason}`,
        actor: who(r.actor),
      });
    if (b.closedAt)
      out.push({
        ...base,
        at: new Date(b.closedAt).toISOString(),
        what: `堵点 ${b._id} 确认解决并关闭`,
        actor: who(b.closedBy),
      });
  }
  return out;
}
