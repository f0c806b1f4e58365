/** Answers of the supervision endpoints (api/routes/dashboard.ts; the OpenAPI document is the reference). */

export interface Money {
  yuan: number;
  wan: string;
}

export interface Rate {
  numerator: number;
  denominator: number;
  percent: string;
  bp: number;
}

export type ReportKind =
  'MONTHLY_DISPATCH' | 'QUARTERLY_ADJUSTMENT' | 'QUARTERLY_BULLETIN' | 'ANNUAL_ASSESSMENT';

export interface ReportSummary {
  id: string;
  kind: ReportKind;
  kindLabel: string;
  period: string;
  createdAt: string;
  dataAsOf: string | null;
  projectCount: number;
  policyVersion: string | null;
  approval: { status: 'AWAITING' | 'APPROVED'; approvedAt: string | null } | null;
}

export interface ReportList {
  reports: ReportSummary[];
  total: number;
  page: number;
  pageSize: number;
}

export type ColumnType = 'text' | 'int' | 'decimal' | 'points';
export type Cell = string | number | null;

export interface Sheet {
  name: string;
  columns: { header: string; type: ColumnType }[];
  rows: Cell[][];
}

export interface SnapshotTables {
  summary: ReportSummary;
  tables: { key: string; title: string; exportable: boolean; sheets: Sheet[] }[];
}

export interface OrgCount {
  orgId: string;
  name: string;
  count: number;
}

export interface LevelCount {
  level: number;
  count: number;
}

export interface RankingRow {
  orgId: string;
  name: string;
  projects: number;
  conversion: Rate | null;
  fundsSecured: Money;
  paymentRate: Rate | null;
  investmentCompletion: Rate | null;
  aheadBehindPoints: string | null;
  composite: string;
  rank: number;
  meetsTarget: boolean | null;
  list: 'RED' | 'BLACK' | null;
}

export interface ListEntry {
  series: 'DEPARTMENT' | 'COUNTY';
  orgId: string;
  name: string;
  rank: number;
  composite: string;
}

export interface MonthInvestment {
  month: string;
  monthInvestment: Money;
  ytdInvestment: Money;
  annualPlan: Money;
  target: Money;
  completion: Rate | null;
  timeElapsed: Rate;
  aheadBehindPoints: string | null;
}

export interface Dashboard {
  asOf: string;
  year: number;
  libraries: { library: string; projects: number; investment: Money }[];
  ended: { completed: number; out: number };
  planningPool: {
    scope: string;
    projects: number;
    investment: Money;
    minProjects: number;
    minInvestment: Money;
    projectsMet: boolean;
    investmentMet: boolean;
  };
  investmentByMonth: MonthInvestment[];
  overdue: { total: number; byResponsibleOrg: OrgCount[]; byCounty: OrgCount[]; byLevel: LevelCount[] };
  blockers: {
    open: number;
    overdue: number;
    byEscalation: LevelCount[];
    byLevel: { level: string; label: string; count: number }[];
  };
  rankings: {
    snapshotId: string;
    kind: ReportKind;
    period: string;
    createdAt: string;
    title: string;
    asOf: string;
    timeElapsed: Rate;
    departments: RankingRow[];
    counties: RankingRow[];
    redList: ListEntry[];
    blackList: ListEntry[];
  } | null;
}

export interface OverdueRow {
  taskId: string;
  task: string;
  projectId: string;
  projectName: string;
  projectCode: string | null;
  county: string;
  countyId: string;
  responsibleOrg: string;
  responsibleOrgId: string;
  assignedLeader: string | null;
  deadline: string;
  dueAt: string;
  provisional: boolean;
  workingDaysOverdue: number;
  escalationLevel: number;
  remindersSent: number;
  onMonthlyBulletin: boolean;
}

export interface OverduePage {
  asOf: string;
  total: number;
  page: number;
  pageSize: number;
  rows: OverdueRow[];
  facets: { departments: OrgCount[]; counties: OrgCount[]; levels: LevelCount[] };
}

export interface QualityProjectRow {
  projectId: string;
  projectName: string;
  county: string;
  portfolio: string;
  stage: string;
}

export interface QualityTaskRow extends QualityProjectRow {
  taskId: string;
  task: string;
  responsibleOrg: string;
  reason: string;
}

export interface Filing {
  projectId: string;
  projectName: string;
  county: string;
  countyName: string;
  responsibleDept: string;
  responsibleDeptName: string;
  stage: string;
  period: string;
  dueAt: string;
  status: 'ON_TIME' | 'LATE' | 'MISSING';
}

export interface MissingReports {
  asOf?: string;
  period: string;
  owed: number;
  missing: Filing[];
  byCounty: { orgId: string; name: string; missing: number }[];
  byDepartment: { orgId: string; name: string; missing: number }[];
}

export interface DataQuality {
  asOf: string;
  counties: { orgId: string; name: string }[];
  missingLeader: QualityProjectRow[];
  missingDepartment: QualityProjectRow[];
  tasksWithoutDeadline: QualityTaskRow[];
  missingMonthlyReports: MissingReports;
}
