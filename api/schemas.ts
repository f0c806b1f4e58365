import { z } from 'zod';

const yuan = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const date = z.iso.date();
const orgId = z
  .string()
  .regex(/^[a-z][a-z0-9-]*$/)
  .max(100);

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
  assignedLeader: z.string().trim().min(1).max(100).optional(),
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
  annualEnergyUseTce: z.number().int().min(0).max(100_000_000),
  totalInvestmentYuan: yuan.min(1),
  annualPlanYuan: yuan,
  plannedStart: date.optional(),
  plannedCompletion: date.optional(),
});
export type CreateProjectBody = z.infer<typeof CreateProjectBody>;

export const CREATE_PROJECT_EXAMPLE: z.input<typeof CreateProjectBody> = {
  name: '临汾市城区供热管网改造工程',
  county: 'yaodu',
  specialActivity: 3,
  portfolio: 'sg-urban',
  industry: 'housing',
  responsibleDept: 'housing',
  assignedLeader: '张副市长',
  ownerName: '临汾市热力有限公司',
  ownerCreditCode: '91141000MA0K123456',
  investorType: 'SOE',
  approvalRegime: 'APPROVAL',
  flags: {
    provincialKey: false,
    cityKey: true,
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
