/** Shapes of the API's answers the console reads (the OpenAPI document at /api/v1/openapi.json is the reference). */

export interface InboxTask {
  _id?: string;
  taskId: string;
  org: string;
  projectId: string;
  projectName: string;
  kind: string;
  title: string;
  stage: string;
  tier: number | null;
  dueAt: string | null;
  escalationLevel: number;
  openedAt: string;
  blockerId?: string;
}

export interface TaskDeadline {
  dueAt: number;
  dueDay: string;
  provisional: boolean;
  basis: string;
  /** The due day is certain; an escalation step past it falls in a year whose holidays are not published. */
  escalationsProvisional?: boolean;
  /** The due day is certain; the escalation steps in a year without holiday data were not computed. */
  escalationsRefused?: boolean;
}

export interface OpenTask {
  id: string;
  key: string;
  kind: string;
  title: string;
  stage: string;
  tier?: number;
  round?: number;
  assigneeOrg: string;
  status: string;
  openedAt: number;
  escalationLevel: number;
  deadline?: TaskDeadline;
  clock?: { pauses?: { from: number; to?: number; reason?: string }[]; extensions?: unknown[] };
  [k: string]: unknown;
}

export interface ProjectDetails {
  name: string;
  county: string;
  specialActivity: number;
  portfolio: string;
  industry: string;
  responsibleDept: string;
  assignedLeader: string;
  ownerOrg: string;
  ownerName: string;
  investorType: string;
  approvalRegime: string;
  flags: Record<string, boolean>;
  landInvolved: boolean;
  annualEnergyUseTce: number;
  totalInvestmentYuan: number;
  annualPlanYuan: number;
  [k: string]: unknown;
}

export interface ProjectView {
  projectId: string;
  stage: string;
  library: string;
  policyVersion: string;
  details: ProjectDetails;
  state: Record<string, unknown> & {
    round?: number;
    reports?: ProgressReport[];
    payments?: { amountYuan: number; date?: string; at?: number }[];
    cumulativePaidYuan?: number;
    approvedEstimateYuan?: number;
    decisions?: unknown[];
    seq: number;
  };
  openTasks: OpenTask[];
  updatedAt?: string;
  version?: number;
  [k: string]: unknown;
}

export interface ProgressReport {
  period: string;
  ytdInvestmentYuan: number;
  cumulativeInvestmentYuan: number;
  fundsReceivedYuan: number;
  physicalProgress: string;
  nextMonthPlan?: string;
  problems?: string;
  [k: string]: unknown;
}

export interface TrailEvent {
  projectId: string;
  seq: number;
  type: string;
  at: string;
  actor: { userId: string; org: string; roles: string[]; name?: string };
  stageBefore: string;
  stageAfter: string;
  data: Record<string, unknown>;
}

export interface HistoryEntry {
  at: string;
  source: string;
  what: string;
  runId?: string;
  eventId?: number;
  actor?: { userId: string; org: string; name?: string };
  details?: Record<string, unknown>;
}
