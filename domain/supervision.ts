import type { ProjectRecord } from '../reports/source';
import type { Payment, ProgressReport, Task } from './state';

/** The supervision jobs of the 督办推进机制, each a scheduled workflow run with an immutable report. */
export type SupervisionKind =
  'MONTHLY_DISPATCH' | 'QUARTERLY_ADJUSTMENT' | 'QUARTERLY_BULLETIN' | 'ANNUAL_ASSESSMENT';

/** The shape `reportFactsOf` writes; facts of another version are derived again from the project's record. */
export const REPORT_FACTS_VERSION = 1;

/** A `projects` record (activities/read-model.ts `projectRecordOf`, or a stored one) with its id. */
export interface ProjectRecordInput {
  _id: string;
  stage: string;
  createdAt: Date | number | string;
  details: object;
  state: object;
  openTasks?: object[] | undefined;
  flags?: object | undefined;
}

/** What the supervision reports read of one project: a ProjectRecord (reports/source.ts) and its flags. */
export type ReportFacts = ProjectRecord & { flags: object };

/**
 * The slice of a project's record the supervision reports read (reports/source.ts `viewOf` and the quarterly
 * adjustment's staleness): stage, creation, details, the state the reports look at (`StateView`, with the
 * revisions `detailsAt` undoes), the open tasks and the flags. Left out: the rest of the workflow's state, the
 * tasks' schedules, and the free text and actors of progress reports and payments — about half of a record.
 */
export function reportFactsOf(record: ProjectRecordInput): ReportFacts {
  const state = record.state as Record<string, unknown> & {
    reports?: ProgressReport[];
    payments?: Payment[];
    openTasks?: Task[];
  };
  const slim: Record<string, unknown> = {};
  for (const key of [
    'projectCode',
    'cumulativePaidYuan',
    'funding',
    'start',
    'completion',
    'reportObligation',
    'fundingSources',
    'revisions',
  ])
    if (state[key] !== undefined) slim[key] = state[key];
  if (state.reports)
    slim.reports = state.reports.map((r) => ({
      period: r.period,
      monthInvestmentYuan: r.monthInvestmentYuan,
      ytdInvestmentYuan: r.ytdInvestmentYuan,
      recordedAt: r.recordedAt,
      late: r.late,
      dueAt: r.dueAt,
    }));
  if (state.payments) slim.payments = state.payments.map((p) => ({ amountYuan: p.amountYuan, date: p.date }));
  const openTasks = ((record.openTasks as Task[] | undefined) ?? state.openTasks ?? []).map(
    ({ schedule: _schedule, ...t }) => t,
  );
  return {
    _id: record._id,
    stage: record.stage,
    createdAt: record.createdAt,
    details: record.details,
    state: slim,
    openTasks,
    flags: record.flags ?? {},
  };
}

/**
 * The `projectFacts` document of a record: its facts as one JSON string, written with the record at its seq.
 * One string because FerretDB decodes a stored document field by field in Go: a string of the same facts reads
 * about ten times faster than the nested document, and the reports read every project.
 */
export function projectFactsOf(record: ProjectRecordInput & { seq: number }) {
  return { seq: record.seq, v: REPORT_FACTS_VERSION, facts: JSON.stringify(reportFactsOf(record)) };
}

/** The facts of a `projectFacts` document, as the report functions take them. */
export function parseReportFacts(doc: { facts: string }): ReportFacts {
  return JSON.parse(doc.facts) as ReportFacts;
}
