import { libraryOf, STAGES, type ProjectDetails, type Stage } from '../domain/project';
import { detailsAt } from '../domain/revisions';
import type { ProjectSnapshot, Task } from '../domain/state';
import type { Organisation } from '../policy/schema';
import { parseMonth, periodRange, toMs, type Period, type PeriodRange } from './format';

/**
 * What the reports read: a `projects` read-model document (db/models.ts ProjectDoc satisfies it as-is, e.g.
 * the result of `Project.find().lean()`). The read model writes `details` = ProjectDetails and `state` = the
 * workflow's ProjectSnapshot, so the reports read them through those types.
 */
export interface ProjectRecord {
  _id: string;
  stage: string;
  createdAt: Date | number | string;
  details: object;
  state: object;
  openTasks?: object[];
}

/** One stage change of a project's audit trail (db/queries.ts AuditEvent satisfies it). */
export interface StageChange {
  at: Date | number | string;
  stageBefore: string;
  stageAfter: string;
}

/**
 * Where "stage at the start of the period" comes from. The project document holds only the current stage;
 * its audit trail lives in the `eventLogs` collection. Pass either the audit trail (exact: the stage at any
 * instant), or the stages of a snapshot taken at the start of the period (e.g. last month's dispatch run);
 * with neither, conversion counts are null.
 */
export interface StageHistory {
  /** Project id → its audit events (only those with stageBefore ≠ stageAfter matter). Preferred. */
  stageChanges?: Record<string, readonly StageChange[]>;
  /** Project id → stage at the start of the period; projects created during the period may be absent. */
  stagesAtPeriodStart?: Record<string, string>;
}

/** Everything a report needs: the projects, the policy's organisations, the period and the as-of instant. */
export interface ReportContext {
  organisations: readonly Organisation[];
  period: Period;
  asOf: Date | number;
}

export type StateView = Partial<
  Pick<
    ProjectSnapshot,
    | 'projectCode'
    | 'reports'
    | 'payments'
    | 'cumulativePaidYuan'
    | 'funding'
    | 'start'
    | 'completion'
    | 'reportObligation'
    | 'fundingSources'
    | 'revisions'
  >
>;

export interface ProjectView {
  id: string;
  stage: Stage;
  createdAt: number;
  details: ProjectDetails;
  state: StateView;
  openTasks: Task[];
}

const STAGE_SET = new Set<string>(STAGES);
function asStage(s: string, id: string): Stage {
  if (!STAGE_SET.has(s)) throw new RangeError(`project ${id}: unknown stage ${s}`);
  return s as Stage;
}

export function viewOf(doc: ProjectRecord): ProjectView {
  const state = doc.state as StateView & { openTasks?: Task[] };
  return {
    id: doc._id,
    stage: asStage(doc.stage, doc._id),
    createdAt: toMs(doc.createdAt),
    details: doc.details as ProjectDetails,
    state,
    openTasks: (doc.openTasks as Task[] | undefined) ?? state.openTasks ?? [],
  };
}

export const LIBRARIES = ['谋划', '储备', '前期', '实施'] as const;
export type LibraryName = (typeof LIBRARIES)[number];

/** 谋划 0, 储备 1, 前期 2, 实施 3, completed 4; -1 for projects out of the pipeline (rejected, removed, withdrawn). */
export function libraryRank(stage: Stage): number {
  const order = ['谋划', '储备', '前期', '实施', '已竣工'];
  return order.indexOf(libraryOf(stage));
}

/** In one of the four libraries (谋划/储备/前期/实施). */
export function isLive(stage: Stage): boolean {
  const r = libraryRank(stage);
  return r >= 0 && r <= 3;
}

/** Stage of a project at the start and the end of a period; `start` null when the history cannot tell. */
export interface StageWindow {
  start: Stage | null;
  end: Stage;
}

function changesOf(history: StageHistory, p: ProjectView) {
  return history.stageChanges?.[p.id]
    ?.filter((c) => c.stageBefore !== c.stageAfter)
    .map((c) => ({ at: toMs(c.at), before: asStage(c.stageBefore, p.id) }))
    .sort((a, b) => a.at - b.at);
}

export function stageWindow(p: ProjectView, range: PeriodRange, history: StageHistory): StageWindow {
  const changes = changesOf(history, p);
  if (changes) {
    // The stage at instant t is the stageBefore of the first change at or after t, else the current stage.
    const at = (t: number) => changes.find((c) => c.at >= t)?.before ?? p.stage;
    return { start: p.createdAt >= range.endMs ? null : at(range.startMs), end: at(range.endMs) };
  }
  const previous = history.stagesAtPeriodStart?.[p.id];
  const start = previous
    ? asStage(previous, p.id)
    : history.stagesAtPeriodStart && p.createdAt >= range.startMs
      ? 'DRAFT'
      : null;
  return { start, end: p.stage };
}

export function hasHistory(history: StageHistory): boolean {
  return Boolean(history.stageChanges ?? history.stagesAtPeriodStart);
}

/** Could convert (谋划/储备/前期 at the start) and did (a later library at the end). */
export function conversionOf(w: StageWindow): { eligible: boolean; converted: boolean } | null {
  if (!w.start) return null;
  const [from, to] = [libraryRank(w.start), libraryRank(w.end)];
  const eligible = from >= 0 && from <= 2;
  return { eligible, converted: eligible && to > from };
}

/** Year-to-date investment: the latest report of the year up to the period's last month. */
export function ytdYuan(p: ProjectView, range: PeriodRange): number {
  let best: { month: number; ytd: number } | undefined;
  for (const r of p.state.reports ?? []) {
    const [y, m] = parseMonth(r.period);
    if (y === range.year && m <= range.lastMonth && (!best || m > best.month))
      best = { month: m, ytd: r.ytdInvestmentYuan };
  }
  return best?.ytd ?? 0;
}

/** Investment reported for the months of the period. */
export function periodInvestmentYuan(p: ProjectView, range: PeriodRange): number {
  let sum = 0;
  for (const r of p.state.reports ?? []) {
    const [y, m] = parseMonth(r.period);
    if (y === range.year && m >= range.firstMonth && m <= range.lastMonth) sum += r.monthInvestmentYuan;
  }
  return sum;
}

/** Counts against the annual plan: in 前期 or 实施 at period end, or completed in the period's year. */
export function inInvestmentScope(p: ProjectView, endStage: Stage, range: PeriodRange): boolean {
  const r = libraryRank(endStage);
  if (r === 2 || r === 3) return true;
  return r === 4 && p.state.completion?.date.slice(0, 4) === String(range.year);
}

/** Open at the as-of instant, past its deadline, and its clock not paused. */
export function isOverdue(t: Task, asOf: number): boolean {
  if (t.status !== 'OPEN' || !t.deadline || t.deadline.dueAt >= asOf) return false;
  return !t.clock?.pauses.some((x) => x.from <= asOf && (x.to === undefined || x.to > asOf));
}

export function orgNameOf(orgs: readonly Organisation[], id: string, p?: ProjectView): string {
  const org = orgs.find((o) => o.id === id);
  if (org) return org.name;
  return p && id === p.details.ownerOrg ? p.details.ownerName : id;
}

/** The common preamble: views, the period and the as-of instant in ms. */
export function prepare(docs: readonly ProjectRecord[], ctx: ReportContext) {
  const range = periodRange(ctx.period);
  const asOf = toMs(ctx.asOf);
  // Each project with the facts in force at the period's end: a plan raised later does not rewrite this period.
  const projects = docs
    .map(viewOf)
    .map((p) => ({ ...p, details: detailsAt(p.details, p.state.revisions, range.endMs) }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { range, asOf, projects };
}
