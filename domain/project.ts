/** The project record and lifecycle vocabulary, shared by workflows, activities, API and client. */

export const STAGES = [
  'DRAFT',
  'DEPT_SCREENING',
  'SPECIALIST_REVIEW',
  'COMPREHENSIVE_REVIEW',
  'RESERVE',
  'PRE_CONSTRUCTION',
  'UNDER_CONSTRUCTION',
  'COMPLETED',
  'REJECTED',
  'REMOVED',
  'WITHDRAWN',
  'SUSPENDED',
] as const;
export type Stage = (typeof STAGES)[number];

export const TERMINAL_STAGES: readonly Stage[] = ['COMPLETED', 'REJECTED', 'REMOVED', 'WITHDRAWN'];

/** The seed's four libraries are views over stage. */
export type Library = '谋划' | '储备' | '前期' | '实施' | '已竣工' | '已出库';
export function libraryOf(stage: Stage): Library {
  switch (stage) {
    case 'DRAFT':
    case 'DEPT_SCREENING':
    case 'SPECIALIST_REVIEW':
    case 'COMPREHENSIVE_REVIEW':
      return '谋划';
    case 'RESERVE':
      return '储备';
    case 'PRE_CONSTRUCTION':
      return '前期';
    case 'UNDER_CONSTRUCTION':
    case 'SUSPENDED':
      return '实施';
    case 'COMPLETED':
      return '已竣工';
    default:
      return '已出库';
  }
}

export const STAGE_LABELS: Record<Stage, string> = {
  DRAFT: '谋划申报',
  DEPT_SCREENING: '部门初审',
  SPECIALIST_REVIEW: '专业评审',
  COMPREHENSIVE_REVIEW: '综合评审',
  RESERVE: '储备库',
  PRE_CONSTRUCTION: '前期库',
  UNDER_CONSTRUCTION: '实施库',
  COMPLETED: '已竣工',
  REJECTED: '已淘汰',
  REMOVED: '已调出',
  WITHDRAWN: '已撤回',
  SUSPENDED: '停缓建',
};

export type ApprovalRegime = 'APPROVAL' | 'VERIFICATION' | 'FILING'; // 审批 / 核准 / 备案
export type InvestorType = 'GOVERNMENT' | 'SOE' | 'PRIVATE' | 'FOREIGN';

export interface ProjectFlags {
  provincialKey: boolean; // 省级重点
  cityKey: boolean; // 市级重点
  major: boolean; // 重大项目 → green channel 绿色通道
  emergency: boolean; // 应急类
  governmentInvested: boolean; // 政府投资
  privatePromotion: boolean; // 向民间资本推介
}

/** What an applicant declares; money is integer 元 (never floating point). */
export interface ProjectDetails {
  name: string;
  county: string; // org id of the county / development zone
  specialActivity: 1 | 2 | 3 | 4 | 5 | 6;
  portfolio: string; // special group org id
  industry: string; // policy industry key, picks the tier-1 industry department
  responsibleDept: string; // org id
  assignedLeader?: string | undefined; // 包联领导
  ownerOrg: string; // org id of the applying unit
  ownerName: string; // 建设单位
  ownerCreditCode?: string | undefined; // 统一社会信用代码
  investorType: InvestorType;
  approvalRegime: ApprovalRegime;
  flags: ProjectFlags;
  landInvolved: boolean;
  annualEnergyUseTce: number; // tonnes of standard coal equivalent, integer
  totalInvestmentYuan: number;
  annualPlanYuan: number;
  plannedStart?: string | undefined; // YYYY-MM-DD
  plannedCompletion?: string | undefined;
  /** A procurement-type project (采购类): needs no construction permit and starts on its signed contract. */
  procurementOnly?: boolean | undefined;
  contactPerson?: string | undefined; // 联系人
  contactPhone?: string | undefined;
  description?: string | undefined; // 建设内容及规模
}

export interface Actor {
  userId: string;
  name?: string | undefined;
  org: string;
  roles: string[];
}

export function projectWorkflowId(projectId: string): string {
  return `project-${projectId}`;
}
