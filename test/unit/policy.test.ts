import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requiredItems, tier1Departments } from '../../domain/lifecycle';
import type { ApprovalRegime, ProjectDetails } from '../../domain/project';
import { loadPolicy, parsePolicy, PolicyError } from '../../policy/load';
import type { Policy } from '../../policy/schema';
import { projectDetails } from '../support/fixtures';

const DEFAULT_POLICY_PATH = path.join(__dirname, '..', '..', 'policy', 'default-policy.yaml');
const policy = loadPolicy();

const flags = (over: Partial<ProjectDetails['flags']> = {}): ProjectDetails['flags'] => ({
  provincialKey: false,
  cityKey: false,
  major: false,
  emergency: false,
  governmentInvested: false,
  privatePromotion: false,
  ...over,
});

const keysOf = (items: readonly { key: string }[]): string[] => items.map((i) => i.key);
const reserveMatters = (d: ProjectDetails): string[] => keysOf(requiredItems(policy.reserve.matters, d));
const preConstructionSteps = (d: ProjectDetails): string[] =>
  keysOf(requiredItems(policy.preConstruction.steps, d));

/** A deep copy of the default policy, to break in one place and re-validate. */
const policyDocument = (): Policy => structuredClone(policy);

/** What parsePolicy throws for a document, as a PolicyError. */
function refusalOf(doc: unknown, source = 'test-policy.yaml'): PolicyError {
  try {
    parsePolicy(JSON.stringify(doc), source);
  } catch (err) {
    if (err instanceof PolicyError) return err;
    throw err;
  }
  throw new Error('the policy was accepted');
}

describe('default policy', () => {
  it('loads from the repository and validates against the schema', () => {
    // Arrange / Act
    const loaded = loadPolicy();

    // Assert
    expect(loaded.version).toBe('2025.2');
    expect(loaded.leadingGroup).toBe('leading-group');
    expect(loaded.planInclusionOrg).toBe('ndrc');
    expect(loaded.startGate).toMatchObject({
      permitStep: 'CONSTRUCTION_PERMIT',
      contractStep: 'PROCUREMENT_CONTRACT',
      fundingConfirmer: 'finance',
    });
  });

  it('loads the same document from an explicit path as from the default location', () => {
    // Act
    const explicit = loadPolicy(DEFAULT_POLICY_PATH);

    // Assert
    expect(explicit).toEqual(policy);
  });

  it('parses the default YAML text with parsePolicy to the same policy', () => {
    // Arrange
    const text = readFileSync(DEFAULT_POLICY_PATH, 'utf8');

    // Act
    const parsed = parsePolicy(text);

    // Assert
    expect(parsed).toEqual(policy);
  });

  it('references only organisations it declares, each id once', () => {
    // Arrange
    const ids = policy.organisations.map((o) => o.id);
    const referenced = [
      policy.leadingGroup,
      policy.citySupervision,
      policy.planInclusionOrg,
      policy.startGate.fundingConfirmer,
      ...policy.review.tier1.always,
      ...policy.review.tier1.whenLandInvolved,
      ...Object.values(policy.review.tier1.byIndustry).flat(),
      ...[...policy.reserve.matters, ...policy.preConstruction.steps]
        .map((m) => m.assignee)
        .filter((a) => a !== 'OWNER' && a !== 'RESPONSIBLE_DEPT'),
    ];

    // Assert
    expect(new Set(ids).size).toBe(ids.length);
    expect(referenced.filter((r) => !ids.includes(r))).toEqual([]);
  });

  it('has every department the seed names for 初审 screen projects, and says why its lists narrow the seed’s', () => {
    // Arrange
    const t1 = policy.review.tier1;
    const screening = new Set([...t1.always, ...t1.whenLandInvolved, ...Object.values(t1.byIndustry).flat()]);

    // Assert
    expect([...(t1.seedScreeners ?? [])].sort()).toEqual(
      [
        'approval-bureau',
        'finance',
        'housing',
        'natural-resources',
        'ndrc',
        'transport',
        'urban-management',
        'water',
      ].sort(),
    );
    expect((t1.seedScreeners ?? []).filter((o) => !screening.has(o))).toEqual([]);
    expect(t1.always).toContain('approval-bureau');
    expect(t1.narrowing).toMatch(/ours/);
  });

  it('declares five special groups, each with a portfolio', () => {
    // Act
    const groups = policy.organisations.filter((o) => o.kind === 'SPECIAL_GROUP');

    // Assert
    expect(groups).toHaveLength(5);
    expect(groups.every((g) => typeof g.portfolio === 'string' && g.portfolio.length > 0)).toBe(true);
  });

  it('records the approved estimate only on the preliminary design step (defaulting the flag to false)', () => {
    // Act
    const recording = [...policy.reserve.matters, ...policy.preConstruction.steps].filter(
      (m) => m.recordsApprovedEstimate,
    );

    // Assert
    expect(keysOf(recording)).toEqual(['PRELIMINARY_DESIGN']);
    expect(policy.reserve.matters.every((m) => m.recordsApprovedEstimate === false)).toBe(true);
  });
});

describe('reporting and blockers in the policy document', () => {
  it('carries the ranking weights, red/black list sizes, targets and blocker deadlines of the default policy', () => {
    expect(policy.reporting.weights).toEqual({
      conversion: 25,
      fundsSecured: 25,
      paymentRate: 25,
      investmentCompletion: 25,
    });
    expect(policy.reporting.targets.planningPool).toEqual({
      minProjects: 2000,
      minInvestmentYi: 7000,
      scope: 'FOUR_LIBRARIES',
    });
    expect(policy.blockers?.deadline.CITY).toEqual({ workingDays: 15 });
  });

  it('fills the reporting defaults when a document has no reporting section', () => {
    const doc: Partial<Policy> = policyDocument();
    delete doc.reporting;
    expect(parsePolicy(JSON.stringify(doc), 'no-reporting.json').reporting.redBlackList).toEqual({
      topN: 3,
      bottomN: 3,
    });
  });

  it('refuses weights that are all zero and an unknown blocker level', () => {
    const zero = policyDocument();
    zero.reporting.weights = { conversion: 0, fundsSecured: 0, paymentRate: 0, investmentCompletion: 0 };
    expect(refusalOf(zero).message).toContain('at least one weight must be positive');
    const level = policyDocument() as unknown as { blockers: { deadline: Record<string, unknown> } };
    level.blockers.deadline.NATION = { workingDays: 5 };
    expect(refusalOf(level).message).toContain('NATION');
  });
});

describe('tier-1 department selection', () => {
  it('always includes the development and reform commission, the finance bureau and the approval bureau, first', () => {
    // Arrange
    const d = projectDetails({ industry: 'other', landInvolved: false });

    // Act
    const orgs = tier1Departments(policy, d);

    // Assert
    expect(orgs).toEqual(['ndrc', 'finance', 'approval-bureau']);
  });

  it('adds natural resources when land is involved', () => {
    // Arrange
    const withLand = projectDetails({ industry: 'other', landInvolved: true });
    const withoutLand = projectDetails({ industry: 'other', landInvolved: false });

    // Act / Assert
    expect(tier1Departments(policy, withLand)).toEqual([
      'ndrc',
      'finance',
      'approval-bureau',
      'natural-resources',
    ]);
    expect(tier1Departments(policy, withoutLand)).not.toContain('natural-resources');
  });

  it.each([
    ['transport', 'transport'],
    ['highway', 'highway'],
    ['water', 'water'],
    ['energy', 'energy'],
    ['housing', 'housing'],
    ['urban', 'urban-management'],
    ['agriculture', 'agriculture'],
    ['industry', 'industry-it'],
    ['commerce', 'commerce'],
    ['tourism', 'culture-tourism'],
    ['health', 'health'],
    ['education', 'education'],
    ['digital', 'data'],
  ])('adds the industry department for industry %s (%s)', (industry, department) => {
    // Arrange
    const d = projectDetails({ industry, landInvolved: true });

    // Act
    const orgs = tier1Departments(policy, d);

    // Assert
    expect(orgs).toEqual(['ndrc', 'finance', 'approval-bureau', 'natural-resources', department]);
  });

  it('adds no industry department for industry "other"', () => {
    // Act
    const orgs = tier1Departments(policy, projectDetails({ industry: 'other', landInvolved: true }));

    // Assert
    expect(orgs).toEqual(['ndrc', 'finance', 'approval-bureau', 'natural-resources']);
  });

  it('lists a department once even when several rules select it', () => {
    // Arrange: a policy where land and industry both point at departments that are already selected
    const p = policyDocument();
    p.review.tier1.whenLandInvolved = ['natural-resources', 'finance'];
    p.review.tier1.byIndustry.housing = ['housing', 'ndrc', 'natural-resources', 'housing'];
    const d = projectDetails({ industry: 'housing', landInvolved: true });

    // Act
    const orgs = tier1Departments(p, d);

    // Assert
    expect(orgs).toEqual(['ndrc', 'finance', 'approval-bureau', 'natural-resources', 'housing']);
    expect(new Set(orgs).size).toBe(orgs.length);
  });
});

describe('required reserve matters', () => {
  const base = (over: Partial<ProjectDetails>): ProjectDetails =>
    projectDetails({ landInvolved: false, annualEnergyUseTce: 100, flags: flags(), ...over });

  it.each<[ApprovalRegime, boolean, string[]]>([
    ['APPROVAL', true, ['PROJECT_PROPOSAL', 'FEASIBILITY_APPROVAL']],
    ['APPROVAL', false, ['FEASIBILITY_APPROVAL']],
    ['VERIFICATION', true, ['PROJECT_PROPOSAL', 'VERIFICATION']],
    ['VERIFICATION', false, ['VERIFICATION']],
    ['FILING', true, ['PROJECT_PROPOSAL', 'FILING']],
    ['FILING', false, ['FILING']],
  ])(
    'under regime %s (government-invested: %s) require the regime matters %j',
    (approvalRegime, governmentInvested, regimeMatters) => {
      // Arrange
      const d = base({ approvalRegime, flags: flags({ governmentInvested }) });

      // Act
      const keys = reserveMatters(d);

      // Assert
      expect(keys).toEqual([...regimeMatters, 'EIA', 'ENERGY_COMMITMENT', 'FUNDING_SOURCE']);
    },
  );

  it('requires exactly one of feasibility approval, verification and filing', () => {
    for (const approvalRegime of ['APPROVAL', 'VERIFICATION', 'FILING'] as const) {
      // Act
      const keys = reserveMatters(base({ approvalRegime }));

      // Assert
      const regimeKeys = keys.filter((k) => ['FEASIBILITY_APPROVAL', 'VERIFICATION', 'FILING'].includes(k));
      expect(regimeKeys).toHaveLength(1);
    }
  });

  it('requires the project proposal only for government-invested projects', () => {
    // Act / Assert
    expect(reserveMatters(base({ flags: flags({ governmentInvested: true }) }))).toContain(
      'PROJECT_PROPOSAL',
    );
    expect(reserveMatters(base({ flags: flags({ governmentInvested: false }) }))).not.toContain(
      'PROJECT_PROPOSAL',
    );
  });

  it('requires land pre-review and site selection only when land is involved', () => {
    // Act / Assert
    expect(reserveMatters(base({ landInvolved: true }))).toContain('LAND_PRE_REVIEW');
    expect(reserveMatters(base({ landInvolved: false }))).not.toContain('LAND_PRE_REVIEW');
  });

  it.each([
    [10_000, 'ENERGY_REVIEW', 'ENERGY_COMMITMENT'],
    [250_000, 'ENERGY_REVIEW', 'ENERGY_COMMITMENT'],
    [9_999, 'ENERGY_COMMITMENT', 'ENERGY_REVIEW'],
    [0, 'ENERGY_COMMITMENT', 'ENERGY_REVIEW'],
  ])('at %i tce annual energy use requires %s and not %s', (annualEnergyUseTce, required, absent) => {
    // Act
    const keys = reserveMatters(base({ annualEnergyUseTce }));

    // Assert
    expect(keys).toContain(required);
    expect(keys).not.toContain(absent);
  });

  it('always requires the EIA and the funding source', () => {
    for (const d of [
      base({}),
      base({ approvalRegime: 'FILING', landInvolved: true, annualEnergyUseTce: 50_000 }),
    ]) {
      expect(reserveMatters(d)).toEqual(expect.arrayContaining(['EIA', 'FUNDING_SOURCE']));
    }
  });

  it('requires every matter of the fixture project (government-invested, land, low energy, APPROVAL)', () => {
    // Act
    const keys = reserveMatters(projectDetails());

    // Assert
    expect(keys).toEqual([
      'PROJECT_PROPOSAL',
      'FEASIBILITY_APPROVAL',
      'LAND_PRE_REVIEW',
      'EIA',
      'ENERGY_COMMITMENT',
      'FUNDING_SOURCE',
    ]);
  });
});

describe('required pre-construction steps', () => {
  const ALWAYS = [
    'PRELIMINARY_DESIGN',
    'CONSTRUCTION_DRAWING_REVIEW',
    'ENGINEERING_PLANNING_PERMIT',
    'TENDERING',
    'PROCUREMENT_CONTRACT',
    'CONTRACTOR_IN_PLACE',
    'STABILITY_RISK_ASSESSMENT',
    'CONSTRUCTION_PERMIT',
  ];

  it.each(['APPROVAL', 'VERIFICATION', 'FILING'] as const)(
    'under regime %s require the same steps (the regime only changes reserve matters)',
    (approvalRegime) => {
      // Arrange
      const d = projectDetails({ approvalRegime, landInvolved: false, flags: flags() });

      // Act
      const keys = preConstructionSteps(d);

      // Assert
      expect(keys).toEqual(ALWAYS);
    },
  );

  it('adds the fiscal budget review for government-invested projects', () => {
    // Act
    const gov = preConstructionSteps(
      projectDetails({ landInvolved: false, flags: flags({ governmentInvested: true }) }),
    );
    const notGov = preConstructionSteps(projectDetails({ landInvolved: false, flags: flags() }));

    // Assert
    expect(gov).toContain('FISCAL_BUDGET_REVIEW');
    expect(notGov).not.toContain('FISCAL_BUDGET_REVIEW');
  });

  it('adds the land use permit when land is involved', () => {
    // Act
    const withLand = preConstructionSteps(projectDetails({ landInvolved: true, flags: flags() }));
    const withoutLand = preConstructionSteps(projectDetails({ landInvolved: false, flags: flags() }));

    // Assert
    expect(withLand).toContain('LAND_USE_PERMIT');
    expect(withoutLand).not.toContain('LAND_USE_PERMIT');
  });

  it('does not depend on annual energy use', () => {
    // Act / Assert
    expect(preConstructionSteps(projectDetails({ annualEnergyUseTce: 50_000 }))).toEqual(
      preConstructionSteps(projectDetails({ annualEnergyUseTce: 10 })),
    );
  });

  it('requires all ten steps for the fixture project, in policy order', () => {
    // Act
    const keys = preConstructionSteps(projectDetails());

    // Assert
    expect(keys).toEqual([
      'PRELIMINARY_DESIGN',
      'CONSTRUCTION_DRAWING_REVIEW',
      'LAND_USE_PERMIT',
      'ENGINEERING_PLANNING_PERMIT',
      'FISCAL_BUDGET_REVIEW',
      'TENDERING',
      'PROCUREMENT_CONTRACT',
      'CONTRACTOR_IN_PLACE',
      'STABILITY_RISK_ASSESSMENT',
      'CONSTRUCTION_PERMIT',
    ]);
  });
});

describe('invalid policies are refused, naming the offending path', () => {
  it('accepts the unchanged default document (control)', () => {
    expect(() => parsePolicy(JSON.stringify(policyDocument()))).not.toThrow();
  });

  it('refuses an unknown leading group', () => {
    // Arrange
    const doc = policyDocument();
    doc.leadingGroup = 'no-such-group';

    // Act
    const err = refusalOf(doc);

    // Assert
    expect(err.message).toContain('test-policy.yaml is not a valid policy');
    expect(err.problems).toEqual(['leadingGroup: unknown organisation "no-such-group"']);
  });

  it('refuses an unknown organisation among the always-consulted tier-1 departments', () => {
    // Arrange
    const doc = policyDocument();
    doc.review.tier1.always.push('ghost-bureau');

    // Act
    const err = refusalOf(doc);

    // Assert
    expect(err.message).toContain('review.tier1.always.3: unknown organisation "ghost-bureau"');
  });

  it('refuses an unknown industry department', () => {
    // Arrange
    const doc = policyDocument();
    doc.review.tier1.byIndustry.water = ['water', 'ghost-bureau'];

    // Act
    const err = refusalOf(doc);

    // Assert
    expect(err.message).toContain('review.tier1.byIndustry.water.1: unknown organisation "ghost-bureau"');
  });

  it('refuses an unknown funding confirmer', () => {
    // Arrange
    const doc = policyDocument();
    doc.startGate.fundingConfirmer = 'ghost-bureau';

    // Act
    const err = refusalOf(doc);

    // Assert
    expect(err.message).toContain('startGate.fundingConfirmer: unknown organisation "ghost-bureau"');
  });

  it('refuses an unknown assignee of a reserve matter, naming reserve.matters.<index>.assignee', () => {
    // Arrange
    const doc = policyDocument();
    const index = doc.reserve.matters.findIndex((m) => m.key === 'EIA');
    doc.reserve.matters[index]!.assignee = 'ghost-bureau';

    // Act
    const err = refusalOf(doc);

    // Assert
    expect(err.message).toContain(`reserve.matters.${index}.assignee: unknown organisation "ghost-bureau"`);
  });

  it('refuses an unknown assignee of a pre-construction step, naming preConstruction.steps.<index>.assignee', () => {
    // Arrange
    const doc = policyDocument();
    doc.preConstruction.steps[1]!.assignee = 'ghost-bureau';

    // Act
    const err = refusalOf(doc);

    // Assert
    expect(err.message).toContain('preConstruction.steps.1.assignee: unknown organisation "ghost-bureau"');
  });

  it('accepts OWNER and RESPONSIBLE_DEPT as assignees without an organisation entry', () => {
    // Arrange
    const doc = policyDocument();
    doc.reserve.matters[0]!.assignee = 'OWNER';
    doc.reserve.matters[1]!.assignee = 'RESPONSIBLE_DEPT';

    // Act / Assert
    expect(() => parsePolicy(JSON.stringify(doc))).not.toThrow();
  });

  it('refuses a duplicate reserve matter key, naming reserve.matters.<index>.key', () => {
    // Arrange
    const doc = policyDocument();
    const duplicate = { ...doc.reserve.matters[0]!, name: '重复事项' };
    doc.reserve.matters.push(duplicate);
    const index = doc.reserve.matters.length - 1;

    // Act
    const err = refusalOf(doc);

    // Assert
    expect(err.message).toContain('duplicate key PROJECT_PROPOSAL');
    expect(err.message).toContain(`reserve.matters.${index}.key: duplicate key PROJECT_PROPOSAL`);
  });

  it('refuses a duplicate pre-construction step key, naming preConstruction.steps.<index>.key', () => {
    // Arrange
    const doc = policyDocument();
    doc.preConstruction.steps[2]!.key = doc.preConstruction.steps[1]!.key;

    // Act
    const err = refusalOf(doc);

    // Assert
    expect(err.message).toContain('preConstruction.steps.2.key: duplicate key CONSTRUCTION_DRAWING_REVIEW');
  });

  it('refuses a duplicate organisation id', () => {
    // Arrange
    const doc = policyDocument();
    doc.organisations.push({ id: 'ndrc', name: '重复的发改委', kind: 'DEPARTMENT' });

    // Act
    const err = refusalOf(doc);

    // Assert
    expect(err.message).toMatch(/organisations[^\n]*: duplicate organisation id/);
  });

  it('refuses a start-gate permit step that is not a pre-construction step', () => {
    // Arrange
    const doc = policyDocument();
    doc.startGate.permitStep = 'BUILDING_PERMIT';

    // Act
    const err = refusalOf(doc);

    // Assert
    expect(err.problems).toEqual(['startGate.permitStep: permitStep is not a step']);
  });

  it('refuses a start-gate contract step that is not a pre-construction step', () => {
    // Arrange
    const doc = policyDocument();
    doc.startGate.contractStep = 'EIA'; // a reserve matter, not a step

    // Act
    const err = refusalOf(doc);

    // Assert
    expect(err.problems).toEqual(['startGate.contractStep: contractStep is not a step']);
  });

  it.each(['v1', '2025', '25.1', '2025.1-beta', ''])('refuses the version %j', (version) => {
    // Arrange
    const doc = policyDocument();
    doc.version = version;

    // Act
    const err = refusalOf(doc);

    // Assert
    expect(err.message).toContain('version: version like 2025.1');
  });

  it('refuses a version written as a YAML number (2025.1 unquoted)', () => {
    // Arrange
    const text = readFileSync(DEFAULT_POLICY_PATH, 'utf8').replace("version: '2025.2'", 'version: 2025.2');

    // Act / Assert
    expect(() => parsePolicy(text, 'unquoted.yaml')).toThrow(/version: /);
  });

  it('refuses a missing required section, naming it', () => {
    // Arrange
    const { startGate: _omitted, ...doc } = policyDocument();

    // Act
    const err = refusalOf(doc);

    // Assert
    expect(err.message).toMatch(/\n {2}startGate: /);
  });

  it('refuses an unknown key (the schema is strict), naming it', () => {
    // Arrange
    const doc = { ...policyDocument(), extraSection: true };

    // Act
    const err = refusalOf(doc);

    // Assert
    expect(err.message).toContain('extraSection');
  });

  it('refuses a condition on a field the policy does not know, naming the path', () => {
    // Arrange
    const doc = policyDocument() as unknown as {
      reserve: { matters: { requiredWhen: unknown }[] };
    };
    doc.reserve.matters[3]!.requiredWhen = { field: 'colour', equals: 'red' };

    // Act
    const err = refusalOf(doc);

    // Assert
    expect(err.message).toContain('reserve.matters.3.requiredWhen');
  });

  it('refuses malformed YAML, naming the source and the line', () => {
    // Arrange
    const text = "version: '2025.1'\ntitle: [unclosed\norganisations: []\n";

    // Act
    const act = () => parsePolicy(text, 'policy/broken.yaml');

    // Assert
    expect(act).toThrow(PolicyError);
    expect(act).toThrow(/policy\/broken\.yaml is not valid YAML\/JSON/);
    expect(act).toThrow(/line \d+, column \d+/);
  });

  it('refuses YAML with a repeated key', () => {
    // Arrange
    const text = "version: '2025.1'\nversion: '2025.2'\n";

    // Act / Assert
    expect(() => parsePolicy(text, 'twice.yaml')).toThrow(/twice\.yaml is not valid YAML\/JSON[\s\S]*line 2/);
  });

  it('refuses an empty document', () => {
    expect(() => parsePolicy('', 'empty.yaml')).toThrow(/empty\.yaml is not a valid policy\n {2}\(root\): /);
  });

  it('names the file when loadPolicy reads an invalid policy from disk', () => {
    // Arrange
    const dir = mkdtempSync(path.join(tmpdir(), 'policy-test-'));
    const file = path.join(dir, 'bad-policy.yaml');
    const doc = policyDocument();
    doc.planInclusionOrg = 'ghost-bureau';
    writeFileSync(file, JSON.stringify(doc));

    try {
      // Act / Assert
      expect(() => loadPolicy(file)).toThrow(
        `${file} is not a valid policy\n  planInclusionOrg: unknown organisation "ghost-bureau"`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
