import { z } from 'zod';
import { ONBOARDING_STAGES } from '../domain/onboarding';

const yuan = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const date = z.iso.date();
const orgId = z
  .string()
  .regex(/^[a-z][a-z0-9-]*$/)
  .max(100);

/** A person of the people directory (`PUT /people/{personId}`): lower-case letters, digits and hyphens. */
export const personId = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'a person id of the people directory (GET /people), e.g. vm-zhang')
  .max(64);

export const ProjectIdParams = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'invalid project id'),
});

export const CreateProjectBody = z.strictObject({
  name: z.string().trim().min(2).max(200),
  county: orgId,
  specialActivity: z.union([
    z.literal(1),
    z.literal(2),
    z.literal(3),
    z.literal(4),
    z.literal(5),
    z.literal(6),
  ]),
  portfolio: orgId,
  industry: z
    .string()
    .regex(/^[a-z]+$/)
    .max(40),
  responsibleDept: orgId,
  /** 包联领导: a person id of the people directory; escalations reach that person's channels. */
  assignedLeader: personId.optional(),
  ownerName: z.string().trim().min(2).max(200),
  ownerCreditCode: z
    .string()
    .regex(/^[0-9A-HJ-NPQRTUWXY]{18}$/, '18-character unified social credit code')
    .optional(),
  investorType: z.enum(['GOVERNMENT', 'SOE', 'PRIVATE', 'FOREIGN']),
  approvalRegime: z.enum(['APPROVAL', 'VERIFICATION', 'FILING']),
  flags: z
    .strictObject({
      provincialKey: z.boolean().default(false),
      cityKey: z.boolean().default(false),
      major: z.boolean().default(false),
      emergency: z.boolean().default(false),
      governmentInvested: z.boolean().default(false),
      privatePromotion: z.boolean().default(false),
    })
    .default({
      provincialKey: false,
      cityKey: false,
      major: false,
      emergency: false,
      governmentInvested: false,
      privatePromotion: false,
    }),
  landInvolved: z.boolean(),
  /** 采购类: needs no construction permit and starts on its signed procurement contract (with funds in place). */
  procurementOnly: z.boolean().optional(),
  annualEnergyUseTce: z.number().int().min(0).max(100_000_000),
  totalInvestmentYuan: yuan.min(1),
  annualPlanYuan: yuan,
  plannedStart: date.optional(),
  plannedCompletion: date.optional(),
  contactPerson: z.string().trim().min(1).max(50).optional(),
  contactPhone: z
    .string()
    .regex(/^[0-9+\- ]{5,20}$/, 'a phone number')
    .optional(),
  description: z.string().trim().min(1).max(2000).optional(),
  /** The applying unit of an onboarded project (an owner creating a DRAFT is its own unit, from the token). */
  ownerOrg: orgId.optional(),
  onboarding: z.lazy(() => OnboardingBody).optional(),
});
export type CreateProjectBody = z.infer<typeof CreateProjectBody>;

const docText = z.string().trim().min(1).max(100);

/** Facts of a project entered where it stands (存量项目入库); domain/onboarding.ts checks them against each other. */
export const OnboardingBody = z.strictObject({
  targetStage: z.enum(ONBOARDING_STAGES),
  constructionType: z.enum(['NEW', 'CONTINUING']).default('NEW'),
  planInclusion: z.strictObject({
    planName: z.string().trim().min(1).max(200),
    documentNumber: docText,
    date,
  }),
  approvals: z
    .array(
      z.strictObject({
        matter: z
          .string()
          .regex(/^[A-Z][A-Z0-9_]*$/, 'a matter or step key of the policy')
          .max(60),
        documentNumber: docText,
        date,
        approvingOrg: z.string().trim().min(1).max(200),
      }),
    )
    .max(40)
    .default([]),
  projectCode: z
    .string()
    .regex(/^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$/, 'YYMM-RRRRRR-DD-TT-NNNNNN')
    .optional(),
  approvedEstimateYuan: yuan.min(1).optional(),
  funding: z.strictObject({ amountYuan: yuan.min(1), documentNumber: docText, date }).optional(),
  start: z
    .strictObject({
      date,
      basis: z.enum(['CONSTRUCTION_PERMIT', 'PROCUREMENT_CONTRACT']),
      documentNumber: docText,
    })
    .optional(),
  investmentToDate: z
    .strictObject({
      asOf: date,
      ytdInvestmentYuan: yuan,
      cumulativeInvestmentYuan: yuan,
      ytdPaidYuan: yuan,
      cumulativePaidYuan: yuan,
    })
    .optional(),
});
export type OnboardingBody = z.infer<typeof OnboardingBody>;

export const CREATE_PROJECT_EXAMPLE: z.input<typeof CreateProjectBody> = {
  name: '临汾市城区供热管网改造工程',
  county: 'yaodu',
  specialActivity: 3,
  portfolio: 'sg-urban',
  industry: 'housing',
  responsibleDept: 'housing',
  assignedLeader: 'vm-zhang',
  ownerName: '临汾市热力有限公司',
  ownerCreditCode: '91141000MA0K123456',
  investorType: 'SOE',
  approvalRegime: 'APPROVAL',
  flags: {
    provincialKey: false,
    cityKey: false,
    major: false,
    emergency: false,
    governmentInvested: true,
    privatePromotion: false,
  },
  landInvolved: true,
  annualEnergyUseTce: 1200,
  totalInvestmentYuan: 350_000_000,
  annualPlanYuan: 120_000_000,
  plannedStart: '2026-03-01',
  plannedCompletion: '2027-10-31',
};

const ONBOARDED_DETAILS = {
  ...CREATE_PROJECT_EXAMPLE,
  ownerOrg: 'yaodu',
  approvalRegime: 'APPROVAL',
  flags: { ...CREATE_PROJECT_EXAMPLE.flags, cityKey: false },
  landInvolved: true,
  annualEnergyUseTce: 1200,
} as const;
const ONBOARDED_PLAN = {
  planName: '临汾市2025年重点项目年度计划',
  documentNumber: '临发改〔2025〕12号',
  date: '2025-03-20',
};
/** Every reserve matter the example project needs under the default policy, done. */
const ONBOARDED_MATTERS = [
  {
    matter: 'PROJECT_PROPOSAL',
    documentNumber: '临发改审批〔2025〕31号',
    date: '2025-04-10',
    approvingOrg: '市发改委',
  },
  {
    matter: 'FEASIBILITY_APPROVAL',
    documentNumber: '临发改审批〔2025〕58号',
    date: '2025-05-16',
    approvingOrg: '市发改委',
  },
  {
    matter: 'LAND_PRE_REVIEW',
    documentNumber: '临自然资预〔2025〕9号',
    date: '2025-04-28',
    approvingOrg: '市规划和自然资源局',
  },
  { matter: 'EIA', documentNumber: '临环审〔2025〕22号', date: '2025-05-30', approvingOrg: '市生态环境局' },
  {
    matter: 'ENERGY_COMMITMENT',
    documentNumber: '临能源备〔2025〕14号',
    date: '2025-05-08',
    approvingOrg: '市能源局',
  },
  {
    matter: 'FUNDING_SOURCE',
    documentNumber: '临财建〔2025〕3号',
    date: '2025-06-03',
    approvingOrg: '市财政局',
  },
];

/** Named request examples of `POST /projects`, one per stage a project may enter at; each is valid as it stands. */
export const CREATE_PROJECT_EXAMPLES = {
  draft: { summary: '谋划：项目单位申报（DRAFT）', value: CREATE_PROJECT_EXAMPLE },
  reserve: {
    summary: '储备库：纳入年度计划、部分审批已办结的存量项目（RESERVE）',
    value: {
      ...ONBOARDED_DETAILS,
      name: '临汾市汾河东岸防洪提升工程',
      onboarding: {
        targetStage: 'RESERVE',
        constructionType: 'NEW',
        planInclusion: ONBOARDED_PLAN,
        approvals: ONBOARDED_MATTERS.slice(0, 2),
      },
    },
  },
  preConstruction: {
    summary: '前期库：审批办结、已赋项目代码的存量项目（PRE_CONSTRUCTION）',
    value: {
      ...ONBOARDED_DETAILS,
      name: '临汾市城区供热管网改造工程（二期）',
      onboarding: {
        targetStage: 'PRE_CONSTRUCTION',
        constructionType: 'NEW',
        planInclusion: ONBOARDED_PLAN,
        approvals: [
          ...ONBOARDED_MATTERS,
          {
            matter: 'PRELIMINARY_DESIGN',
            documentNumber: '临发改设计〔2025〕7号',
            date: '2025-07-02',
            approvingOrg: '市发改委',
          },
        ],
        projectCode: '2504-141002-04-01-000321',
        approvedEstimateYuan: 340_000_000,
      },
    },
  },
  underConstruction: {
    summary: '实施库：2024年开工的续建项目，含至今完成投资与支付（UNDER_CONSTRUCTION）',
    value: {
      ...ONBOARDED_DETAILS,
      name: '临汾市滨河西路快速化改造工程',
      plannedStart: '2024-04-01',
      onboarding: {
        targetStage: 'UNDER_CONSTRUCTION',
        constructionType: 'CONTINUING',
        planInclusion: { ...ONBOARDED_PLAN, planName: '临汾市2024年重点项目年度计划', date: '2024-02-26' },
        approvals: [
          ...ONBOARDED_MATTERS.map((m) => ({
            ...m,
            documentNumber: m.documentNumber.replace('2025', '2023'),
            date: m.date.replace('2025', '2023'),
          })),
          {
            matter: 'CONSTRUCTION_PERMIT',
            documentNumber: '141002202403150101',
            date: '2024-03-15',
            approvingOrg: '市行政审批服务管理局',
          },
        ],
        projectCode: '2310-141002-04-01-000088',
        approvedEstimateYuan: 340_000_000,
        funding: { amountYuan: 200_000_000, documentNumber: '临财建〔2024〕11号', date: '2024-03-01' },
        start: { date: '2024-04-01', basis: 'CONSTRUCTION_PERMIT', documentNumber: '141002202403150101' },
        investmentToDate: {
          asOf: '2025-10-31',
          ytdInvestmentYuan: 80_000_000,
          cumulativeInvestmentYuan: 190_000_000,
          ytdPaidYuan: 70_000_000,
          cumulativePaidYuan: 170_000_000,
        },
      },
    },
  },
} as const;

// ------------------------------------------------------------------------------------------ revisions

const declared = CreateProjectBody.shape;
const removable = <T extends z.ZodType>(t: T) => t.nullable().optional();

/**
 * A JSON merge patch of the details (RFC 7396): a member sets a field, `null` removes an optional one; `reason`
 * says why. Which fields may change at which stage is the domain's rule (domain/revisions.ts).
 */
export const DetailsPatchBody = z.strictObject({
  name: declared.name.optional(),
  county: declared.county.optional(),
  specialActivity: declared.specialActivity.optional(),
  portfolio: declared.portfolio.optional(),
  industry: declared.industry.optional(),
  responsibleDept: declared.responsibleDept.optional(),
  assignedLeader: removable(personId),
  ownerName: declared.ownerName.optional(),
  ownerCreditCode: removable(
    z.string().regex(/^[0-9A-HJ-NPQRTUWXY]{18}$/, '18-character unified social credit code'),
  ),
  investorType: declared.investorType.optional(),
  approvalRegime: declared.approvalRegime.optional(),
  flags: z
    .strictObject({
      provincialKey: z.boolean(),
      cityKey: z.boolean(),
      major: z.boolean(),
      emergency: z.boolean(),
      governmentInvested: z.boolean(),
      privatePromotion: z.boolean(),
    })
    .optional(),
  landInvolved: declared.landInvolved.optional(),
  annualEnergyUseTce: declared.annualEnergyUseTce.optional(),
  totalInvestmentYuan: declared.totalInvestmentYuan.optional(),
  annualPlanYuan: declared.annualPlanYuan.optional(),
  plannedStart: removable(date),
  plannedCompletion: removable(date),
  contactPerson: removable(z.string().trim().min(1).max(50)),
  contactPhone: removable(z.string().regex(/^[0-9+\- ]{5,20}$/, 'a phone number')),
  description: removable(z.string().trim().min(1).max(2000)),
  reason: z.string().trim().min(1).max(2000).optional(),
});

export const ChangeRequestBody = z.strictObject({
  changes: z
    .strictObject({
      name: declared.name.optional(),
      totalInvestmentYuan: declared.totalInvestmentYuan.optional(),
      annualPlanYuan: declared.annualPlanYuan.optional(),
      plannedStart: removable(date),
      plannedCompletion: removable(date),
      assignedLeader: removable(personId),
      responsibleDept: declared.responsibleDept.optional(),
    })
    .refine((c) => Object.keys(c).length > 0, 'name at least one change'),
  reason: z.string().trim().min(1).max(2000),
});

export const ChangeDecisionBody = z.strictObject({
  decision: z.enum(['APPROVE', 'REFUSE']),
  opinion: z.string().trim().max(2000).default(''),
});

// ------------------------------------------------------------------------------------------ actions

const docNumber = z.string().trim().min(1).max(100);
const text = (max: number) => z.string().trim().min(1).max(max);

export const TaskIdParams = z.strictObject({
  taskId: z.string().regex(/^[A-Za-z0-9_-]{1,64}~[A-Za-z0-9_-]{1,80}$/, 'invalid task id'),
});

export const EmptyBody = z.strictObject({});

export const DecisionBody = z.strictObject({
  decision: z.enum(['PASS', 'REJECT', 'RETURN']),
  opinion: z.string().trim().max(2000).default(''),
});

export const CompleteTaskBody = z.strictObject({
  documentNumber: docNumber,
  date,
  approvedEstimateYuan: yuan.min(1).optional(),
  note: text(2000).optional(),
});

export const PlanInclusionBody = z.strictObject({ planName: text(200), documentNumber: docNumber, date });
export const ProjectCodeBody = z.strictObject({
  code: z.string().regex(/^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$/, 'YYMM-RRRRRR-DD-TT-NNNNNN'),
});
export const FundingBody = z.strictObject({ amountYuan: yuan.min(1), documentNumber: docNumber, date });
export const StartBody = z.strictObject({ date });
export const StartCheckBody = z.strictObject({
  decision: z.enum(['CONFIRM', 'REFUSE']),
  opinion: z.string().trim().max(2000).optional(),
});
export const ProgressBody = z.strictObject({
  period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM'),
  ytdInvestmentYuan: yuan,
  cumulativeInvestmentYuan: yuan,
  fundsReceivedYuan: yuan,
  physicalProgress: text(2000),
  nextMonthPlan: text(2000).optional(),
  problems: text(2000).optional(),
});
export const FundingSourceBody = z.strictObject({
  sourceId: z
    .string()
    .regex(/^F\d{1,3}$/)
    .optional(),
  sourceType: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]*$/)
    .max(40)
    .optional(),
  state: z.enum(['APPLIED', 'ISSUED', 'IN_PLACE']),
  amountYuan: yuan.min(1),
  date,
  documentNumber: docNumber.optional(),
  securedBy: orgId.optional(),
});
export const ProvincialKeyBody = z.strictObject({ provincialKey: z.boolean(), documentNumber: docNumber });
export const PaymentBody = z.strictObject({ amountYuan: yuan.min(1), date, basis: text(500) });
export const CompletionBody = z.strictObject({ documentNumber: docNumber, date });
export const ReasonBody = z.strictObject({ reason: text(2000) });
export const RemoveBody = z.strictObject({
  reason: z.enum(['POLICY_CHANGE', 'FORCE_MAJEURE', 'OTHER']),
  explanation: text(2000),
  approver: text(200),
});
export const ExtensionBody = z.strictObject({ units: z.number().int().min(1).max(366), reason: text(2000) });
export const PauseBody = z.strictObject({
  reason: z.enum(['SUPPLEMENT', 'EXPERT_REVIEW', 'HEARING']),
  note: text(2000).optional(),
});
export const ResumeClockBody = z.strictObject({ note: text(2000).optional() });

// ------------------------------------------------------------------------------------------ queries

const LIBRARIES = ['谋划', '储备', '前期', '实施', '已竣工', '已出库'] as const;
const bool = z.enum(['true', 'false']).transform((v) => v === 'true');

export const ListProjectsQuery = z.strictObject({
  stage: z
    .string()
    .regex(/^[A-Z_]+(,[A-Z_]+)*$/)
    .optional(),
  library: z.enum(LIBRARIES).optional(),
  county: orgId.optional(),
  org: orgId.optional(),
  portfolio: orgId.optional(),
  overdue: bool.optional(),
  stale: bool.optional(),
  flag: z
    .enum(['provincialKey', 'cityKey', 'major', 'emergency', 'governmentInvested', 'privatePromotion'])
    .optional(),
  q: z.string().trim().min(1).max(100).optional(),
  sort: z.enum(['updatedAt', '-updatedAt', 'createdAt', '-createdAt', 'name', '-name']).default('-updatedAt'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
});

export const HistoryQuery = z.strictObject({ format: z.enum(['timeline', 'temporal']).default('timeline') });

export const CalendarYearParams = z.strictObject({ year: z.coerce.number().int().min(2000).max(2100) });
export const CalendarYearBody = z.strictObject({
  noticeNumber: text(100),
  holidays: z.array(date).max(60),
  makeupWorkdays: z.array(date).max(20),
});
export const CalendarOverrideBody = z.strictObject({
  date,
  kind: z.enum(['holiday', 'workday']),
  reason: text(500),
});

export const EXAMPLES = {
  decision: { decision: 'PASS', opinion: '符合规划和资金约束，同意进入专业评审' },
  completeTask: { documentNumber: '临发改审批〔2025〕88号', date: '2025-06-18' },
  planInclusion: {
    planName: '临汾市2025年重点项目年度计划',
    documentNumber: '临发改〔2025〕12号',
    date: '2025-03-20',
  },
  projectCode: { code: '2501-141002-04-01-123456' },
  funding: { amountYuan: 120_000_000, documentNumber: '临财建〔2025〕7号', date: '2025-07-01' },
  start: { date: '2025-08-01' },
  fundingSource: {
    sourceType: 'SPECIAL_BONDS',
    state: 'ISSUED',
    amountYuan: 80_000_000,
    date: '2025-06-20',
    documentNumber: '晋财债〔2025〕15号',
    securedBy: 'ndrc',
  },
  provincialKey: { provincialKey: true, documentNumber: '晋发改投资〔2025〕108号' },
  startCheck: { decision: 'CONFIRM', opinion: '施工许可已取得，建设资金已落实，同意开工' },
  startException: { reason: '汛期抢险工程，经领导小组批准先行开工' },
  progress: {
    period: '2025-08',
    ytdInvestmentYuan: 30_000_000,
    cumulativeInvestmentYuan: 30_000_000,
    fundsReceivedYuan: 50_000_000,
    physicalProgress: '管网开挖完成20%',
  },
  payment: { amountYuan: 25_000_000, date: '2025-08-31', basis: '按工程进度拨付' },
  completion: { documentNumber: '临住建验〔2026〕3号', date: '2026-10-20' },
  suspend: { reason: '汛期停工' },
  resume: { reason: '汛期结束，恢复施工' },
  remove: { reason: 'FORCE_MAJEURE', explanation: '地质灾害导致项目无法实施', approver: '市长' },
  withdraw: { reason: '建设单位调整投资计划' },
  extension: { units: 5, reason: '需补充专家论证' },
  pause: { reason: 'SUPPLEMENT', note: '等待申请人补正材料' },
  resumeClock: { note: '材料已补正' },
  calendarYear: { noticeNumber: '国办发明电〔2026〕X号', holidays: ['2027-01-01'], makeupWorkdays: [] },
  calendarOverride: { date: '2027-05-06', kind: 'workday', reason: '市政府通知调整' },
  detailsPatch: { totalInvestmentYuan: 380_000_000, contactPerson: '王工', reason: '按初审意见调整建设规模' },
  changeRequest: { changes: { annualPlanYuan: 150_000_000 }, reason: '年中调整：征地提前完成，加快建设进度' },
  changeDecision: { decision: 'APPROVE', opinion: '同意调整年度计划投资' },
} as const;

export const PersonIdParams = z.strictObject({ personId });

const webhookUrl = z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).max(2000);

/** One person of the directory, as an administrator writes it (replaces what was there). */
export const PersonBody = z.strictObject({
  name: z.string().trim().min(1).max(50),
  /** 职务, e.g. 副市长, 局长. */
  post: z.string().trim().min(1).max(50),
  org: orgId.describe('the organisation the person belongs to'),
  headOf: z
    .array(orgId)
    .max(20)
    .default([])
    .describe('the organisations whose head (负责人) the person is; an organisation has at most one head'),
  channels: z
    .strictObject({
      emails: z.array(z.email().max(200)).max(10).default([]),
      webhooks: z
        .array(
          z.strictObject({
            url: webhookUrl,
            secret: z
              .string()
              .min(16)
              .max(200)
              .optional()
              .describe('the HMAC signing secret; omit it to keep the one stored for this URL'),
          }),
        )
        .max(5)
        .default([]),
    })
    .prefault({}),
});
export type PersonBody = z.infer<typeof PersonBody>;

export const PeopleQuery = z.strictObject({ org: orgId.optional() });

/** What readers see of a person; administrators also see the channels, never a secret or a URL's query. */
export const PersonView = z.object({
  id: z.string(),
  name: z.string(),
  post: z.string(),
  org: z.string(),
  headOf: z.array(z.string()),
  channels: z
    .object({
      emails: z.array(z.string()),
      webhooks: z.array(z.object({ url: z.string().describe('origin and path only') })),
    })
    .optional()
    .describe('administrators only'),
  updatedAt: z.string().optional(),
});

export const PERSON_EXAMPLE: z.input<typeof PersonBody> = {
  name: '张伟',
  post: '副市长',
  org: 'sg-urban',
  headOf: ['sg-urban'],
  channels: {
    emails: ['zhangwei@linfen.gov.example'],
    webhooks: [{ url: 'https://im.linfen.gov.example/hook/vm-zhang', secret: 'replace-with-a-long-secret' }],
  },
};
