/** Request schemas of tiers 2 and 3 (expert pool, joint meetings, key-project lists): one per route. */
import { z } from 'zod';

const date = z.iso.date();
const text = (max: number) => z.string().trim().min(1).max(max);
const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM');
const orgId = z
  .string()
  .regex(/^[a-z][a-z0-9-]*$/)
  .max(100);
export const expertId = z.string().regex(/^EX[0-9a-f]{16}$/, 'an expert id of the pool (GET /experts)');

export const ExpertIdParams = z.strictObject({ expertId });
export const MonthParams = z.strictObject({ month });
export const YearParams = z.strictObject({ year: z.coerce.number().int().min(2000).max(2100) });
export const SpecialGroupParams = z.strictObject({ orgId });

/** 准入: the field is one of the policy's (`experts.fields`), so the schema is built from the policy. */
export const admitExpertBody = (fields: readonly [string, ...string[]]) =>
  z.strictObject({
    name: text(100).describe('the expert, or the third-party institution'),
    kind: z.enum(['EXPERT', 'THIRD_PARTY']).default('EXPERT'),
    field: z.enum(fields),
    institution: text(200).optional().describe('the expert’s employer (高校, 智库, 设计院…)'),
    title: text(100).optional().describe('职称 or 资质'),
    termNumber: z.number().int().min(1).max(99).describe('the 届 the expert is admitted for'),
    termStartsOn: date.describe('first day of the term; it ends termYears later, the day before'),
  });

export const ExpertsQuery = z.strictObject({
  field: text(40).optional(),
  kind: z.enum(['EXPERT', 'THIRD_PARTY']).optional(),
  status: z.enum(['ACTIVE', 'EXITED']).optional(),
  invitable: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
});

export const ExitExpertBody = z.strictObject({ reason: text(2000) });

export const RenewExpertBody = z.strictObject({
  termNumber: z.number().int().min(1).max(99).optional().describe('default: the next 届'),
  termStartsOn: date.optional().describe('default: the day after the current term ends'),
});

export const InviteExpertsBody = z.strictObject({
  expertIds: z
    .array(expertId)
    .min(1)
    .max(30)
    .refine((ids) => new Set(ids).size === ids.length, 'each expert once'),
});

export const SpecialistReviewBody = z.strictObject({
  outcome: z.enum(['RECOMMENDED', 'NOT_RECOMMENDED', 'RETURNED']),
  assessments: z.strictObject({
    technical: text(2000).describe('技术方案'),
    investmentBenefit: text(2000).describe('投资效益'),
    riskControl: text(2000).describe('风险防控'),
  }),
  expertOpinions: z
    .array(z.strictObject({ expertId, opinion: text(2000) }))
    .max(30)
    .optional(),
});

export const CreateMeetingBody = z.strictObject({
  month,
  /** The day it is convened, in that month; by default the month's last working day (月底). */
  date: date.optional(),
});

export const PostponeMeetingBody = z.strictObject({ to: date, reason: text(500) });

export const ComprehensiveReviewBody = z
  .strictObject({
    meetingMonth: month.describe('the joint meeting that decided (it must have been held)'),
    included: z.boolean().optional().describe('in the year’s 重点项目库 or not; required unless returned'),
    returned: z.boolean().optional().describe('returned to the applicant for revision (with an opinion)'),
    opinion: text(2000).optional(),
    fundAllocation: z
      .strictObject({
        amountYuan: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
        sourceType: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'a funding source type of the policy'),
        year: z.number().int().min(2000).max(2100),
      })
      .optional()
      .describe('资金分配方案: required for a government-invested project included'),
  })
  .refine((b) => b.returned === true || b.included !== undefined, {
    path: ['included'],
    message: 'required unless returned',
  });

const format = z.enum(['json', 'xlsx']).default('json');
export const ListFormatQuery = z.strictObject({ format });
export const KeyProjectsQuery = z.strictObject({
  year: z.coerce.number().int().min(2000).max(2100).optional().describe('default: this year'),
  version: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .describe('an approved version; default the working list'),
  format,
});

export const ApproveKeyProjectsBody = z.strictObject({
  documentNumber: text(100).describe('the leading group’s decision (审定文号)'),
  note: text(2000).optional(),
});

export const REVIEW_EXAMPLES = {
  admitExpert: {
    name: '李明',
    kind: 'EXPERT',
    field: '工程',
    institution: '太原理工大学',
    title: '教授级高级工程师',
    termNumber: 1,
    termStartsOn: '2025-03-01',
  },
  exitExpert: { reason: '本人申请退出专家库' },
  renewExpert: { termNumber: 2 },
  inviteExperts: { expertIds: ['EX0123456789abcdef'] },
  specialistReview: {
    outcome: 'RECOMMENDED',
    assessments: {
      technical: '管网改造技术方案成熟可行',
      investmentBenefit: '投资估算合理，社会效益显著',
      riskControl: '已制定施工期间保供预案，风险可控',
    },
    expertOpinions: [{ expertId: 'EX0123456789abcdef', opinion: '建议加快前期工作' }],
  },
  createMeeting: { month: '2025-10' },
  postponeMeeting: { to: '2025-11-04', reason: '市长出席省级会议，联席会议顺延' },
  comprehensiveReview: {
    meetingMonth: '2025-10',
    included: true,
    opinion: '纳入2025年度重点项目库',
    fundAllocation: { amountYuan: 50_000_000, sourceType: 'SPECIAL_BONDS', year: 2025 },
  },
  approveKeyProjects: { documentNumber: '临重项组〔2025〕1号', note: '2025年度重点项目库经领导小组审定' },
} as const;
