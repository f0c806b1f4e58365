import { loadPolicy, parsePolicy, PolicyError } from '../../policy/load';
import type { Policy } from '../../policy/schema';
import { policyRules, ruleValues, sourceProblems, withoutSources } from '../../policy/sources';
import { FORMULAS } from '../../reports/policy';

const policy = loadPolicy();
const ruleAt = (path: string) => policyRules(policy).find((r) => r.path === path);

/** What parsePolicy throws for a document, as a PolicyError. */
function refusalOf(doc: unknown): PolicyError {
  try {
    parsePolicy(JSON.stringify(doc), 'sources.json');
  } catch (err) {
    if (err instanceof PolicyError) return err;
    throw err;
  }
  throw new Error('the policy was accepted');
}

describe('the sources of the default policy', () => {
  it('give every number, duration and report formula a source, and name nothing that does not exist', () => {
    // Act
    const problems = sourceProblems(policy);

    // Assert
    expect(problems).toEqual({ unsourced: [], dangling: [] });
  });

  it('notice a new number without a source', () => {
    // Arrange
    const changed = structuredClone(policy);
    const eia = changed.reserve.matters.find((m) => m.key === 'EIA')!;
    changed.reserve.matters.push({
      ...eia,
      key: 'WATER_PERMIT',
      name: '取水许可',
      deadline: { workingDays: 20 },
    });

    // Act
    const problems = sourceProblems(changed);

    // Assert
    const before = sourceProblems(policy).unsourced;
    expect(problems.unsourced.filter((p) => !before.includes(p))).toEqual([
      'reserve.matters.WATER_PERMIT.deadline',
    ]);
  });

  it('notice an entry whose rule was renamed away', () => {
    // Arrange
    const changed: Policy = {
      ...policy,
      sources: { ...policy.sources, 'review.tier9.deadline': { source: 'default' } },
    };

    // Act
    const problems = sourceProblems(changed);

    // Assert
    expect(problems.dangling).toEqual(['review.tier9.deadline']);
  });

  it('mark what the seed states as seed', () => {
    // Arrange
    const seedStated = [
      'review.tier3.deadline', // the monthly joint meeting
      'reserve.matters.ENERGY_REVIEW.requiredWhen.gte', // 10000 tce
      'reserve.matters.ENERGY_COMMITMENT.requiredWhen.lt',
      'reporting.targets.planningPool.minProjects', // ≥ 2000 projects
      'reporting.targets.planningPool.minInvestmentYi', // ≥ 7000亿元
      'reporting.targets.threeBatches.signToStartPercent',
      'reporting.targets.threeBatches.startToCommissionPercent',
      'reporting.targets.threeBatches.commissionToOutputPercent',
      'supervision.dispatch.day', // 每月月底
      'experts.termYears', // 每届任期2年
      'formulas.libraries',
    ];

    // Act
    const sources = seedStated.map((path) => [path, ruleAt(path)?.source]);

    // Assert
    expect(sources).toEqual(seedStated.map((path) => [path, 'seed']));
    expect(ruleAt('reporting.targets.planningPool.minProjects')?.value).toBe(2000);
    expect(ruleAt('reporting.targets.planningPool.minInvestmentYi')?.value).toBe(7000);
  });

  it('mark our own numbers as default: the ladder, reminders, green channel, lists, weights, 序时进度, the report day', () => {
    // Arrange
    const ours = [
      ...[1, 2, 3, 4].map((level) => `time.escalation.${level}.after`),
      'time.reminders.0',
      'time.greenChannelPercent',
      'reporting.redBlackList.topN',
      'reporting.redBlackList.bottomN',
      'reporting.weights.conversion',
      'formulas.timeElapsed',
      'implementation.monthlyReportDueDay',
      'reserve.staleAfterMonths',
      'blockers.deadline.CITY',
      'review.tier1.deadline',
      'supervision.dispatch.hour',
      'supervision.adjustment.dayOfMonth',
      'supervision.assessment.month',
    ];

    // Act
    const sources = ours.map((path) => [path, ruleAt(path)?.source]);

    // Assert
    expect(sources).toEqual(ours.map((path) => [path, 'default']));
  });

  it('name the law of a statutory limit', () => {
    // Act
    const eia = ruleAt('reserve.matters.EIA.deadline');
    const permit = ruleAt('preConstruction.steps.CONSTRUCTION_PERMIT.deadline');

    // Assert
    expect(eia).toMatchObject({ source: 'law', value: { calendarDays: 60 } });
    expect(eia?.law).toContain('环境影响评价法');
    expect(permit).toMatchObject({ source: 'law', value: { workingDays: 7 } });
    expect(permit?.law).toContain('建筑工程施工许可管理办法');
  });

  it('never credit the seed with a day count, which it does not give', () => {
    // Act
    const seedDayCounts = policyRules(policy).filter(
      (r) =>
        r.source === 'seed' &&
        typeof r.value === 'object' &&
        r.value !== null &&
        ('workingDays' in r.value || 'calendarDays' in r.value || 'seconds' in r.value),
    );

    // Assert
    expect(seedDayCounts).toEqual([]);
  });

  it('list every formula of the reports with its text', () => {
    // Act
    const formulas = policyRules(policy).filter((r) => r.path.startsWith('formulas.'));

    // Assert
    expect(formulas.map((r) => r.path)).toEqual(Object.keys(FORMULAS).map((k) => `formulas.${k}`));
    expect(ruleAt('formulas.timeElapsed')?.value).toBe(FORMULAS.timeElapsed.zh);
  });

  it('give a group entry to each value below it, naming the entry', () => {
    // Act
    const weight = ruleAt('reporting.weights.fundsSecured');

    // Assert
    expect(weight).toMatchObject({ value: 25, source: 'default', sourcePath: 'reporting.weights' });
  });
});

describe('the sources section of a policy document', () => {
  it('refuses a law source that does not name its law', () => {
    // Arrange
    const doc = { ...policy, sources: { 'reserve.matters.EIA.deadline': { source: 'law' } } };

    // Act
    const err = refusalOf(doc);

    // Assert
    expect(err.problems.some((p) => p.startsWith('sources.reserve.matters.EIA.deadline.law:'))).toBe(true);
  });

  it('refuses a source other than seed, law or default', () => {
    // Arrange
    const doc = { ...policy, sources: { 'time.reminders': { source: 'common-practice' } } };

    // Act
    const err = refusalOf(doc);

    // Assert
    expect(err.problems.some((p) => p.startsWith('sources.time.reminders'))).toBe(true);
  });

  it('is optional: a policy without it is valid and lists its rules as unmarked', () => {
    // Arrange
    const { sources: _sources, ...doc } = policy;

    // Act
    const parsed = parsePolicy(JSON.stringify(doc));

    // Assert
    expect(parsed.sources).toBeUndefined();
    expect(new Set(policyRules(parsed).map((r) => r.source))).toEqual(new Set(['unmarked']));
  });

  it('stays out of the policy workflows receive, which keeps every rule', () => {
    // Act
    const forWorkflows = withoutSources(policy);

    // Assert
    expect(forWorkflows.sources).toBeUndefined();
    expect(ruleValues(forWorkflows)).toEqual(ruleValues(policy));
  });
});

describe('the supervision dates of the default policy', () => {
  it('are today’s calendar: dispatch on the last working day at 16:00, adjustment on the 5th, 通报 on the 10th, assessment on 15 January', () => {
    // Assert
    expect(policy.supervision).toEqual({
      dispatch: { day: 'LAST_WORKING_DAY', hour: 16 },
      adjustment: { dayOfMonth: 5, hour: 9 },
      bulletin: { dayOfMonth: 10, hour: 9 },
      assessment: { month: 1, dayOfMonth: 15, hour: 9 },
    });
  });

  it('default to the same calendar when a policy document leaves them out', () => {
    // Arrange
    const { supervision: _supervision, ...doc } = policy;

    // Act
    const parsed = parsePolicy(JSON.stringify(doc));

    // Assert
    expect(parsed.supervision).toEqual(policy.supervision);
  });

  it('refuse a day of month a short month lacks', () => {
    // Arrange
    const doc = { ...policy, supervision: { ...policy.supervision, bulletin: { dayOfMonth: 31, hour: 9 } } };

    // Act
    const err = refusalOf(doc);

    // Assert
    expect(err.problems.some((p) => p.startsWith('supervision.bulletin.dayOfMonth:'))).toBe(true);
  });
});
