import type { Actor, ProjectDetails } from '../../domain/project';

export function projectDetails(over: Partial<ProjectDetails> = {}): ProjectDetails {
  return {
    name: '临汾市城区供热管网改造工程',
    county: 'yaodu',
    specialActivity: 3,
    portfolio: 'sg-urban',
    industry: 'housing',
    responsibleDept: 'housing',
    assignedLeader: '张副市长',
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
