import type { PersonDoc } from '../../db/people';
import type { Actor, ProjectDetails } from '../../domain/project';

/**
 * The people the API's examples and these fixtures name (the 包联领导 `vm-zhang`), as a city's directory holds
 * them; every test system starts with them (harness.ts). No channels: escalations to them record NO_CHANNEL.
 */
export const EXAMPLE_PEOPLE: Omit<PersonDoc, 'updatedAt' | 'updatedBy'>[] = [
  {
    _id: 'vm-zhang',
    name: '张伟',
    post: '副市长',
    org: 'sg-urban',
    headOf: [],
    channels: { emails: [], webhooks: [] },
  },
];

export function projectDetails(over: Partial<ProjectDetails> = {}): ProjectDetails {
  return {
    name: '临汾市城区供热管网改造工程',
    county: 'yaodu',
    specialActivity: 3,
    portfolio: 'sg-urban',
    industry: 'housing',
    responsibleDept: 'housing',
    assignedLeader: 'vm-zhang',
    ownerOrg: 'yaodu',
    ownerName: '临汾市热力有限公司',
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
    ...over,
    ...(over.flags ? { flags: over.flags } : {}),
  };
}

export function actor(org: string, role = 'reviewer', userId = `${org}-user`): Actor {
  return { userId, org, roles: [role] };
}
