import type { Actor, ProjectDetails, Stage } from './project';
import { readersOf } from './access';
import type { ConstructionType, InvestmentToDate } from './onboarding';
import type { ReportObligation } from './monthly-reports';
import type { ChangeRequest, Revision } from './revisions';
import type { FundingSource } from './funding';
import type { ExpertRef, KeyProjectDecision, SpecialistReview } from './stages/review-outputs';

export type TaskKind =
  'REVIEW' | 'APPROVAL_MATTER' | 'STEP' | 'REPORT' | 'GATE' | 'BLOCKER' | 'CHANGE_REQUEST';
export type TaskStatus = 'OPEN' | 'DONE' | 'CANCELLED';
export type ReviewDecision = 'PASS' | 'REJECT' | 'RETURN';

/** A deadline as absolute instants (computed by an activity from the work calendar). */
export interface TaskDeadline {
  dueAt: number; // epoch ms, end of the due day in Asia/Shanghai
  dueDay: string; // YYYY-MM-DD
  provisional: boolean; // the calendar did not cover the due day's year: flagged, never silently Mon–Fri
  escalationsProvisional?: boolean; // the due day is certain, but an escalation step falls in a year without data
  escalationsRefused?: boolean; // under 'refuse': the ladder stops before its first step in a year without data
  basis: string; // e.g. "20 working days", for explaining the deadline later
  calendarVersion: string;
}

/** When a task's reminders and escalations fall due; recomputed (new version) on extension or resumption. */
export interface TaskSchedule {
  version: number;
  reminders: number[]; // epoch ms, ascending
  escalations: { level: number; at: number; label: string; recipients: string[] }[];
  nextReminder: number; // index of the first reminder not yet sent
}

/** The clock of one task: extensions and pauses shift its deadline; the activity turns it into instants. */
export interface TaskClock {
  extensions: { units: number; reason: string; at: number; actor: Actor }[];
  pauses: { from: number; to?: number | undefined; reason: string }[];
  /** Set when the deadline must be (re)computed by the scheduling activity. */
  needsSchedule: boolean;
  refused?: string | undefined; // the calendar refused to compute a deadline (uncovered year)
}

export interface Task {
  id: string; // `<projectId>~<key>`; unique for the project's life
  key: string; // policy key of the review/matter/step/gate, plus the round
  kind: TaskKind;
  title: string; // Chinese label
  stage: Stage;
  tier?: 1 | 2 | 3 | undefined;
  round: number;
  assigneeOrg: string;
  status: TaskStatus;
  decision?: ReviewDecision | undefined;
  opinion?: string | undefined;
  result?: Record<string, unknown> | undefined;
  actor?: Actor | undefined;
  openedAt: number;
  closedAt?: number | undefined;
  deadline?: TaskDeadline | undefined;
  clock?: TaskClock | undefined;
  schedule?: TaskSchedule | undefined;
  escalationLevel: number;
  remindersSent: number;
  onMonthlyBulletin?: boolean | undefined;
}

export interface ProjectEvent {
  seq: number;
  type: string;
  at: number;
  actor?: Actor | undefined;
  stageBefore: Stage;
  stageAfter: Stage;
  requestId?: string | undefined;
  data?: Record<string, unknown> | undefined;
}

export interface ProgressReport {
  period: string; // YYYY-MM
  monthInvestmentYuan: number;
  ytdInvestmentYuan: number;
  cumulativeInvestmentYuan: number;
  fundsReceivedYuan: number;
  physicalProgress: string;
  nextMonthPlan?: string | undefined;
  problems?: string | undefined;
  investmentCompletionBp: number; // ytd / annual plan, basis points (computed)
  cumulativeShareBp: number; // cumulative / total investment, basis points (computed)
  exceedsTotalInvestment: boolean;
  recordedAt: number;
  actor: Actor;
  /** Filed after its report task's deadline (accepted, and counted in the rankings). */
  late?: boolean | undefined;
  /** The deadline of its report task, when one was open. */
  dueAt?: number | undefined;
}

export interface Payment {
  amountYuan: number;
  date: string;
  basis: string;
  cumulativePaidYuan: number;
  recordedAt: number;
  actor: Actor;
}

/** Everything the workflow knows; carried whole across continue-as-new. */
/**
 * What the clock functions (domain/time.ts) work on: a holder of tasks that records events and queues
 * read-model writes. A project is one; so is a blocker, whose single open task runs the same ladder.
 */
export interface TaskLedger {
  projectId: string;
  details: ProjectDetails;
  stage: Stage;
  tasks: Task[];
  seq: number;
  flags: { overdue: boolean };
  outbox: { events: ProjectEvent[]; taskIds: string[]; notifications?: NotificationIntent[] | undefined };
}

export type BlockerStatus = 'OPEN' | 'RESOLVED' | 'CLOSED';

/** The project's own record of a blocker raised on it; its child workflow owns the details and the clock. */
export interface BlockerSummary {
  id: string; // `<projectId>-B<n>`; the child workflow is `blocker-<id>`
  number: number;
  category: string;
  level: string;
  responsibleOrg: string;
  description: string;
  raisedBy: Actor;
  raisedAt: number;
  status: BlockerStatus;
  round: number;
  escalationLevel: number;
  /** False until the project workflow has started the blocker's child workflow. */
  started: boolean;
  closedAt?: number | undefined;
}

export interface ProjectState {
  projectId: string;
  policyVersion: string;
  details: ProjectDetails;
  stage: Stage;
  stageBeforeSuspension?: Stage | undefined;
  round: number; // review round; RETURN + resubmission starts the next one
  createdAt: number;
  createdBy: Actor;
  tasks: Task[];
  projectCode?: string | undefined;
  planInclusion?: { planName: string; documentNumber: string; date: string } | undefined;
  funding?: { confirmedYuan: number; documentNumber: string; date: string; actor: Actor } | undefined;
  approvedEstimateYuan?: number | undefined;
  start?:
    | {
        at: number;
        date: string;
        basis: 'PERMIT_AND_FUNDING' | 'PROCUREMENT_CONTRACT' | 'EMERGENCY_OVERRIDE';
        override?: { reason: string; approver: string } | undefined;
        /** The permit or contract number, for a start entered at onboarding. */
        documentNumber?: string | undefined;
        onboarded?: boolean | undefined;
        /** Who applied (the owner) and who made the 开工条件核查. */
        appliedBy?: Actor | undefined;
        checkedBy?: Actor | undefined;
        exception?: { reason: string; approvedBy: Actor; at: number } | undefined;
      }
    | undefined;
  /** The owner's 开工申请, waiting for the 开工条件核查. */
  startApplication?:
    { date: string; basis: string; at: number; actor: Actor; checkTaskId: string } | undefined;
  /** An emergency project's exception from the start gate, approved by the organisation the policy names. */
  startException?: { reason: string; approvedBy: Actor; at: number } | undefined;
  /** 新建 or 续建; set for onboarded projects. */
  constructionType?: ConstructionType | undefined;
  /** Present when the project entered beyond DRAFT (domain/onboarding.ts): where, and who entered it. */
  onboarded?: { targetStage: Stage; constructionType: ConstructionType; at: number; by: Actor } | undefined;
  /** Investment completed and paid to date when onboarded under construction; later reports build on it. */
  investmentToDate?: InvestmentToDate | undefined;
  /** The version of `details` (the ETag); absent means 1, the version the project was created with. */
  detailsVersion?: number | undefined;
  /** Every change of `details` after creation (domain/revisions.ts). */
  revisions?: Revision[] | undefined;
  /** Change requests of facts others rely on, decided by 市发改委. */
  changeRequests?: ChangeRequest[] | undefined;
  /** Experts invited to each tier-2 review, as the pool knew them then. */
  expertInvitations?: { taskId: string; experts: ExpertRef[] }[] | undefined;
  /** Every tier-2 decision with its three assessments and the experts' opinions, oldest first. */
  specialistReviews?: SpecialistReview[] | undefined;
  /** Every tier-3 decision of a joint meeting: in the year's 重点项目库 or not, and the fund allocation. */
  keyProjectDecisions?: KeyProjectDecision[] | undefined;
  /** Funding sources (资金来源) with their states 申报/下达/到位 (domain/funding.ts). */
  fundingSources?: FundingSource[] | undefined;
  /** The monthly report owed from 前期 on (domain/monthly-reports.ts). */
  reportObligation?: ReportObligation | undefined;
  reports: ProgressReport[];
  payments: Payment[];
  cumulativePaidYuan: number;
  completion?: { documentNumber: string; date: string } | undefined;
  removal?: { reason: RemovalReason; explanation: string; approver: string } | undefined;
  lastProgressAt: number; // last approval progress, for reserve staleness
  flags: { stale: boolean; overdue: boolean };
  staleRound?: number | undefined; // how many times the reserve went stale (names the staleness task)
  /** Blockers (堵点) raised on the project; absent in runs recorded before blockers existed. */
  blockers?: BlockerSummary[] | undefined;
  seq: number; // transition counter; event `seq` and Mongo transition ids derive from it
  /** Results of processed request ids, newest last; bounded, carried across continue-as-new. */
  processed: { requestId: string; result: ActionResult }[];
  /** Transitions not yet written to the read model (events, and ids of tasks that changed). */
  outbox: { events: ProjectEvent[]; taskIds: string[]; notifications?: NotificationIntent[] | undefined };
}

/** A notification the workflow wants delivered; the outbox activity makes it durable, keyed by `key`. */
export interface NotificationIntent {
  key: string;
  template: 'REMINDER' | 'ESCALATION' | 'GENERIC';
  /**
   * An organisation, a person (`person.id` of the people directory; a bare `name` is a pre-directory free-text
   * leader) or the head of an organisation (`headOf`), resolved to channels when the outbox takes it.
   */
  recipients: { org?: string; person?: { id?: string; name?: string; email?: string }; headOf?: string }[];
  payload: Record<string, unknown>;
}

export type RemovalReason = 'POLICY_CHANGE' | 'FORCE_MAJEURE' | 'OTHER';

export interface ActionResult {
  projectId: string;
  stage: Stage;
  seq: number;
  message: string;
  taskId?: string | undefined;
  blockerId?: string | undefined;
  /** The version of the project's details after the action (the new ETag). */
  detailsVersion?: number | undefined;
  /**
   * The workflow answered once the read model showed the action (its record, trail, inbox and any deadline it
   * moved): the caller reads its write without checking. Never stored: a repeat is answered the same way.
   */
  recorded?: boolean | undefined;
}

/** What the read model receives after transitions: the new record plus what changed since the last sync. */
export interface ReadModelSync {
  projectId: string;
  seq: number;
  snapshot: ProjectSnapshot;
  events: ProjectEvent[];
  tasks: Task[];
}

export type ProjectSnapshot = Omit<ProjectState, 'processed' | 'tasks' | 'outbox'> & {
  openTasks: Task[];
  /** The organisations that may read the project besides those that read every project (domain/access.ts). */
  readers?: string[] | undefined;
};

export function snapshotOf(s: ProjectState): ProjectSnapshot {
  const { processed: _p, outbox: _o, tasks, ...rest } = s;
  return { ...rest, openTasks: tasks.filter((t) => t.status === 'OPEN'), readers: readersOf(s) };
}
