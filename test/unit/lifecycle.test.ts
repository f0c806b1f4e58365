import type { ExpertRef } from '../../domain/stages/review-outputs';
import type { ActionRequest, ProjectAction } from '../../domain/actions';
import { DomainError, type DomainErrorType } from '../../domain/errors';
import {
  applyAction,
  basisPoints,
  createInitialState,
  PROCESSED_REQUEST_LIMIT,
  validateAction,
} from '../../domain/lifecycle';
import type { Actor, ProjectDetails, Stage } from '../../domain/project';
import type {
  ActionResult,
  ProjectState,
  RemovalReason,
  ReviewDecision,
  Task,
  TaskKind,
} from '../../domain/state';
import { loadPolicy } from '../../policy/load';
import { actor, projectDetails } from '../support/fixtures';

// ------------------------------------------------------------------------------------------------ support

const policy = loadPolicy();
const T0 = Date.parse('2025-03-03T09:00:00+08:00');
const HOUR = 3_600_000;

const OWNER = actor('yaodu', 'applicant');
const NDRC = actor('ndrc');
const FINANCE = actor('finance');
const HOUSING = actor('housing'); // industry and responsible department of the fixture project
const SPECIAL_GROUP = actor('sg-urban', 'special-group'); // the fixture's portfolio
const LEADING_GROUP = actor('leading-group', 'leading-group');
const APPROVAL_BUREAU = actor('approval-bureau');
const OUTSIDER = actor('quwo', 'applicant');

const PROJECT_CODE = '2503-141002-04-01-000123';
const ESTIMATE = 300_000_000; // 元, approved with the preliminary design

const NO_FLAGS: ProjectDetails['flags'] = {
  provincialKey: false,
  cityKey: false,
  major: false,
  emergency: false,
  governmentInvested: false,
  privatePromotion: false,
};
/** Neither government-invested nor key: the leading group's review is skipped. */
const ordinaryProject = (over: Partial<ProjectDetails> = {}): ProjectDetails =>
  projectDetails({ investorType: 'PRIVATE', flags: NO_FLAGS, ...over });

/**
 * One project and a clock. `act` does what the workflow does (validate, then apply);
 * `refusal` runs only the validator and checks that it left the state untouched.
 */
class Harness {
  readonly s: ProjectState;
  now = T0;
  private counter = 0;

  constructor(details: ProjectDetails = projectDetails(), projectId = 'p-1') {
    this.s = createInitialState(projectId, details, policy, OWNER, T0);
  }

  request(by: Actor, action: ProjectAction, requestId = `req-${++this.counter}`): ActionRequest {
    return { requestId, actor: by, action };
  }

  act(by: Actor, action: ProjectAction, requestId?: string): ActionResult {
    return this.send(this.request(by, action, requestId));
  }

  send(req: ActionRequest): ActionResult {
    this.now += HOUR;
    validateAction(this.s, policy, req, this.now);
    return applyAction(this.s, policy, req, this.now);
  }

  refusal(by: Actor, action: ProjectAction): DomainError {
    if (action.type === 'recordProgress' && /^\d{4}-\d{2}$/.test(action.period)) this.reach(action.period);
    const before = structuredClone(this.s);
    let thrown: unknown;
    try {
      validateAction(this.s, policy, this.request(by, action), this.now + HOUR);
    } catch (err) {
      thrown = err;
    }
    expect(this.s).toStrictEqual(before);
    if (thrown === undefined) throw new Error(`expected a refusal, but ${action.type} was accepted`);
    if (!(thrown instanceof DomainError)) throw thrown as Error;
    return thrown;
  }

  expectRefused(by: Actor, action: ProjectAction, type: DomainErrorType): DomainError {
    const err = this.refusal(by, action);
    expect(err.type).toBe(type);
    return err;
  }

  task(key: string): Task {
    const t = this.s.tasks.find((x) => x.key === key);
    if (!t) throw new Error(`no task ${key}; tasks: ${this.s.tasks.map((x) => x.key).join(', ')}`);
    return t;
  }

  open(kind?: TaskKind): Task[] {
    return this.s.tasks.filter((t) => t.status === 'OPEN' && (kind === undefined || t.kind === kind));
  }

  openReview(tier: 1 | 2 | 3): Task[] {
    return this.open('REVIEW').filter((t) => t.tier === tier);
  }

  // --- steps of the happy path, each acting as the right organisation

  submit(): ActionResult {
    return this.act(OWNER, { type: 'submit' });
  }

  decide(task: Task, decision: ReviewDecision, opinion = '同意'): ActionResult {
    return this.act(actor(task.assigneeOrg), { type: 'decideReview', taskId: task.id, decision, opinion });
  }

  /**
   * Tier 2 with its three assessments (PASS = recommended as a key project, RETURN = returned); tier 3 by the
   * joint meeting of this month (PASS = included in the 重点项目库, with a fund allocation when government-invested).
   */
  decideTier(tier: 2 | 3, decision: 'PASS' | 'RETURN', opinion = '评审意见'): ActionResult {
    const [task] = this.openReview(tier);
    if (!task) throw new Error(`no open tier-${tier} review`);
    if (tier === 2)
      return this.act(actor(task.assigneeOrg), {
        type: 'decideSpecialistReview',
        taskId: task.id,
        outcome: decision === 'PASS' ? 'RECOMMENDED' : 'RETURNED',
        assessments: { technical: opinion, investmentBenefit: '效益良好', riskControl: '风险可控' },
      });
    return this.act(actor(task.assigneeOrg), {
      type: 'decideComprehensiveReview',
      taskId: task.id,
      meeting: this.meeting(),
      ...(decision === 'RETURN'
        ? { returned: true, opinion }
        : {
            included: true,
            opinion,
            fundAllocation: this.s.details.flags.governmentInvested
              ? { amountYuan: 50_000_000, sourceType: 'SPECIAL_BONDS', year: 2025 }
              : undefined,
          }),
    });
  }

  /** This month's joint meeting, held today. */
  meeting(): { month: string; date: string } {
    const day = new Date(this.now + 8 * HOUR).toISOString().slice(0, 10);
    return { month: day.slice(0, 7), date: day };
  }

  passTier1(): void {
    for (const t of this.openReview(1)) this.decide(t, 'PASS');
  }

  includeInPlan(): ActionResult {
    return this.act(NDRC, {
      type: 'recordPlanInclusion',
      planName: '临汾市2025年重点项目年度计划',
      documentNumber: '临发改投资〔2025〕12号',
      date: '2025-03-20',
    });
  }

  completeMatters(): void {
    for (const t of this.open('APPROVAL_MATTER')) this.complete(t);
  }

  complete(t: Task, extra: { approvedEstimateYuan?: number } = {}): ActionResult {
    return this.act(actor(t.assigneeOrg), {
      type: 'completeTask',
      taskId: t.id,
      documentNumber: `文号-${t.key}`,
      date: '2025-04-01',
      ...extra,
    });
  }

  completeStep(key: string, extra: { approvedEstimateYuan?: number } = {}): ActionResult {
    return this.complete(this.task(`S-${key}`), extra);
  }

  recordCode(by: Actor = OWNER, code = PROJECT_CODE): ActionResult {
    return this.act(by, { type: 'recordProjectCode', code });
  }

  confirmFunding(amountYuan = ESTIMATE): ActionResult {
    const by = this.s.details.flags.governmentInvested ? FINANCE : OWNER;
    return this.act(by, {
      type: 'confirmFunding',
      amountYuan,
      documentNumber: '临财建〔2025〕8号',
      date: '2025-05-06',
    });
  }

  /** The owner's 开工申请 and the responsible department's 开工条件核查 (the policy's checker). */
  start(): ActionResult {
    this.applyToStart();
    return this.checkStart();
  }

  applyToStart(): ActionResult {
    return this.act(OWNER, { type: 'startConstruction', date: '2025-06-01' });
  }

  checkStart(decision: 'CONFIRM' | 'REFUSE' = 'CONFIRM', opinion?: string): ActionResult {
    return this.act(actor(this.s.details.responsibleDept), { type: 'checkStart', decision, opinion });
  }

  report(period: string, ytdInvestmentYuan: number, cumulativeInvestmentYuan: number): ActionResult {
    this.reach(period);
    return this.act(OWNER, progress(period, ytdInvestmentYuan, cumulativeInvestmentYuan));
  }

  /** Moves the clock into `period` if it is earlier: no month is reported before it begins. */
  reach(period: string): void {
    this.now = Math.max(this.now, Date.parse(`${period}-01T00:00:00+08:00`));
  }

  pay(amountYuan: number, by: Actor = OWNER): ActionResult {
    return this.act(by, payment(amountYuan));
  }
}

const progress = (
  period: string,
  ytdInvestmentYuan: number,
  cumulativeInvestmentYuan: number,
): Extract<ProjectAction, { type: 'recordProgress' }> => ({
  type: 'recordProgress',
  period,
  ytdInvestmentYuan,
  cumulativeInvestmentYuan,
  fundsReceivedYuan: cumulativeInvestmentYuan,
  physicalProgress: '主体结构施工',
});

const payment = (amountYuan: number): Extract<ProjectAction, { type: 'recordPayment' }> => ({
  type: 'recordPayment',
  amountYuan,
  date: '2025-07-10',
  basis: '工程进度款',
});

const removal = (
  over: Partial<{ reason: RemovalReason; explanation: string; approver: string }> = {},
): ProjectAction => ({
  type: 'remove',
  reason: 'POLICY_CHANGE',
  explanation: '季度动态调整：政策变化',
  approver: '市长',
  ...over,
});

type DrivableStage =
  | 'DRAFT'
  | 'DEPT_SCREENING'
  | 'SPECIALIST_REVIEW'
  | 'COMPREHENSIVE_REVIEW'
  | 'RESERVE'
  | 'PRE_CONSTRUCTION'
  | 'UNDER_CONSTRUCTION'
  | 'SUSPENDED'
  | 'COMPLETED';

/** Drives a project along the happy path to `target`, acting as the right organisation at each step. */
function projectAt(target: DrivableStage, details: ProjectDetails = projectDetails()): Harness {
  const h = new Harness(details);
  const steps: (() => unknown)[] = [
    () => h.submit(),
    () => h.passTier1(),
    () => h.decideTier(2, 'PASS'),
    () => (h.openReview(3).length > 0 ? h.decideTier(3, 'PASS') : undefined),
    () => h.includeInPlan(),
    () => {
      h.completeMatters();
      h.recordCode();
    },
    () => {
      h.completeStep('PRELIMINARY_DESIGN', { approvedEstimateYuan: ESTIMATE });
      h.completeStep('CONSTRUCTION_PERMIT');
      h.completeStep('STABILITY_RISK_ASSESSMENT');
      h.confirmFunding();
      h.start();
    },
    () => h.act(OWNER, { type: 'suspend', reason: '征地拆迁未完成' }),
    () => h.act(OWNER, { type: 'resume', reason: '复工' }),
    () =>
      h.act(HOUSING, { type: 'acceptCompletion', documentNumber: '竣工验收〔2027〕3号', date: '2027-10-30' }),
  ];
  for (const step of steps) {
    if (h.s.stage === target) break;
    step();
  }
  expect(h.s.stage).toBe(target);
  return h;
}

const eventTypes = (s: ProjectState): string[] => s.outbox.events.map((e) => e.type);

// ---------------------------------------------------------------------------------------------- the path

describe('creating a project', () => {
  it('starts in DRAFT with no tasks, round 0 and one PROJECT_CREATED event', () => {
    // Act
    const s = createInitialState('p-9', projectDetails(), policy, OWNER, T0);

    // Assert
    expect(s).toMatchObject({
      projectId: 'p-9',
      policyVersion: '2025.2',
      stage: 'DRAFT',
      round: 0,
      createdAt: T0,
      createdBy: OWNER,
      tasks: [],
      cumulativePaidYuan: 0,
      seq: 1,
      processed: [],
    });
    expect(s.outbox.events).toEqual([
      {
        seq: 1,
        type: 'PROJECT_CREATED',
        at: T0,
        actor: OWNER,
        stageBefore: 'DRAFT',
        stageAfter: 'DRAFT',
        requestId: undefined,
        data: { policyVersion: '2025.2' },
      },
    ]);
  });
});

describe('the full path of a government-invested key project', () => {
  it('goes DRAFT → … → COMPLETED, each step taken by the organisation the policy assigns', () => {
    // Arrange
    const h = new Harness();

    // Act / Assert: submission opens parallel tier-1 reviews
    h.submit();
    expect(h.s.stage).toBe('DEPT_SCREENING');
    expect(h.s.round).toBe(1);
    expect(h.openReview(1).map((t) => [t.id, t.assigneeOrg])).toEqual([
      ['p-1~R1-T1-ndrc', 'ndrc'],
      ['p-1~R1-T1-finance', 'finance'],
      ['p-1~R1-T1-approval-bureau', 'approval-bureau'],
      ['p-1~R1-T1-natural-resources', 'natural-resources'],
      ['p-1~R1-T1-housing', 'housing'],
    ]);

    // tier 1 → tier 2 (special group of the portfolio)
    h.passTier1();
    expect(h.s.stage).toBe('SPECIALIST_REVIEW');
    expect(h.openReview(2).map((t) => [t.id, t.assigneeOrg])).toEqual([['p-1~R1-T2', 'sg-urban']]);

    // tier 2 → tier 3 (leading group)
    expect(h.decideTier(2, 'PASS').message).toBe(
      'recommended as a key project (重点项目建议清单); comprehensive review opened for the monthly joint meeting',
    );
    expect(h.s.stage).toBe('COMPREHENSIVE_REVIEW');
    expect(h.openReview(3).map((t) => [t.id, t.assigneeOrg])).toEqual([['p-1~R1-T3', 'leading-group']]);

    // tier 3 → plan inclusion gate (planning department)
    expect(h.decideTier(3, 'PASS').message).toBe(
      'included in the 2025 重点项目库 by the joint meeting of 2025-03; awaiting plan inclusion',
    );
    expect(h.s.details.flags.cityKey).toBe(true);
    expect(h.s.stage).toBe('COMPREHENSIVE_REVIEW');
    expect(h.open('GATE').map((t) => [t.id, t.assigneeOrg])).toEqual([['p-1~R1-PLAN', 'ndrc']]);

    // plan inclusion → RESERVE with its parallel approval matters
    h.includeInPlan();
    expect(h.s.stage).toBe('RESERVE');
    expect(h.s.planInclusion).toEqual({
      planName: '临汾市2025年重点项目年度计划',
      documentNumber: '临发改投资〔2025〕12号',
      date: '2025-03-20',
    });
    expect(h.open('APPROVAL_MATTER').map((t) => [t.key, t.assigneeOrg])).toEqual([
      ['M-PROJECT_PROPOSAL', 'ndrc'],
      ['M-FEASIBILITY_APPROVAL', 'ndrc'],
      ['M-LAND_PRE_REVIEW', 'natural-resources'],
      ['M-EIA', 'ecology'],
      ['M-ENERGY_COMMITMENT', 'energy'],
      ['M-FUNDING_SOURCE', 'finance'],
    ]);

    // matters + project code → PRE_CONSTRUCTION with its steps and the start gate
    h.completeMatters();
    expect(h.s.stage).toBe('RESERVE');
    expect(h.recordCode().message).toBe('project code recorded; entered pre-construction');
    expect(h.s.stage).toBe('PRE_CONSTRUCTION');
    expect(h.open('STEP').map((t) => [t.key, t.assigneeOrg])).toEqual([
      ['S-PRELIMINARY_DESIGN', 'ndrc'],
      ['S-CONSTRUCTION_DRAWING_REVIEW', 'housing'],
      ['S-LAND_USE_PERMIT', 'natural-resources'],
      ['S-ENGINEERING_PLANNING_PERMIT', 'natural-resources'],
      ['S-FISCAL_BUDGET_REVIEW', 'finance'],
      ['S-TENDERING', 'approval-bureau'],
      ['S-PROCUREMENT_CONTRACT', 'yaodu'], // OWNER
      ['S-CONTRACTOR_IN_PLACE', 'yaodu'], // OWNER
      ['S-STABILITY_RISK_ASSESSMENT', 'housing'], // RESPONSIBLE_DEPT
      ['S-CONSTRUCTION_PERMIT', 'approval-bureau'],
    ]);
    expect(h.open('GATE').map((t) => [t.key, t.assigneeOrg])).toEqual([['G-START', 'yaodu']]);

    // estimate, permit and funding → UNDER_CONSTRUCTION
    h.completeStep('PRELIMINARY_DESIGN', { approvedEstimateYuan: ESTIMATE });
    expect(h.s.approvedEstimateYuan).toBe(ESTIMATE);
    h.completeStep('CONSTRUCTION_PERMIT');
    h.completeStep('STABILITY_RISK_ASSESSMENT');
    h.confirmFunding();
    expect(h.start().message).toBe('construction started (PERMIT_AND_FUNDING); checked by housing');
    expect(h.s.stage).toBe('UNDER_CONSTRUCTION');
    expect(h.open().map((t) => [t.key, t.assigneeOrg])).toEqual([['G-COMPLETION', 'housing']]);

    // progress and a payment, then completion acceptance by the responsible department
    h.report('2025-06', 40_000_000, 40_000_000);
    h.pay(30_000_000);
    h.act(HOUSING, { type: 'acceptCompletion', documentNumber: '竣工验收〔2027〕3号', date: '2027-10-30' });

    // Assert: the end state
    expect(h.s.stage).toBe('COMPLETED');
    expect(h.s.completion).toEqual({ documentNumber: '竣工验收〔2027〕3号', date: '2027-10-30' });
    expect(h.open()).toEqual([]);
    expect(h.task('G-COMPLETION')).toMatchObject({ status: 'DONE', actor: HOUSING });
    expect(eventTypes(h.s)).toEqual(
      expect.arrayContaining([
        'PROJECT_CREATED',
        'SUBMITTED',
        'REVIEW_DECIDED',
        'PLAN_INCLUSION_RECORDED',
        'MATTER_COMPLETED',
        'PROJECT_CODE_RECORDED',
        'ENTERED_PRE_CONSTRUCTION',
        'STEP_COMPLETED',
        'FUNDING_CONFIRMED',
        'CONSTRUCTION_STARTED',
        'PROGRESS_REPORTED',
        'PAYMENT_RECORDED',
        'COMPLETION_ACCEPTED',
      ]),
    );
  });

  it('closes every review task with the decision, opinion, deciding actor and time', () => {
    // Arrange
    const h = projectAt('SPECIALIST_REVIEW');

    // Act
    const tier1 = h.s.tasks.filter((t) => t.tier === 1);

    // Assert
    expect(tier1).toHaveLength(5);
    for (const t of tier1) {
      expect(t).toMatchObject({
        status: 'DONE',
        decision: 'PASS',
        opinion: '同意',
        actor: actor(t.assigneeOrg),
      });
      expect(t.closedAt).toBeGreaterThan(t.openedAt);
    }
  });

  it('reports who is still pending while parallel tier-1 reviews come in', () => {
    // Arrange
    const h = projectAt('DEPT_SCREENING');

    // Act
    const result = h.decide(h.task('R1-T1-ndrc'), 'PASS');

    // Assert
    expect(result.message).toBe('passed; waiting for finance, approval-bureau, natural-resources, housing');
    expect(result.taskId).toBe('p-1~R1-T1-ndrc');
    expect(h.s.stage).toBe('DEPT_SCREENING');
  });
});

describe('the leading group review (tier 3)', () => {
  it('is skipped for a project that is neither government-invested nor key', () => {
    // Arrange
    const h = projectAt('SPECIALIST_REVIEW', ordinaryProject());

    // Act: not recommended, so not key either
    const [t2] = h.openReview(2);
    const result = h.act(SPECIAL_GROUP, {
      type: 'decideSpecialistReview',
      taskId: t2!.id,
      outcome: 'NOT_RECOMMENDED',
      assessments: { technical: '可行', investmentBenefit: '一般', riskControl: '可控' },
    });

    // Assert
    expect(result.message).toBe(
      'not recommended as a key project; continues as a non-key project; comprehensive review not required; awaiting plan inclusion',
    );
    expect(h.s.stage).toBe('SPECIALIST_REVIEW');
    expect(h.s.tasks.some((t) => t.tier === 3)).toBe(false);
    expect(h.open().map((t) => [t.key, t.assigneeOrg])).toEqual([['R1-PLAN', 'ndrc']]);

    h.includeInPlan();
    expect(h.s.stage).toBe('RESERVE');
  });

  it.each<[string, Partial<ProjectDetails['flags']>]>([
    ['government-invested', { governmentInvested: true }],
    ['provincial key', { provincialKey: true }],
    ['city key', { cityKey: true }],
    ['major', { major: true }],
  ])('applies to a %s project', (_label, flag) => {
    // Arrange
    const h = projectAt('SPECIALIST_REVIEW', ordinaryProject({ flags: { ...NO_FLAGS, ...flag } }));

    // Act
    h.decideTier(2, 'PASS');

    // Assert
    expect(h.s.stage).toBe('COMPREHENSIVE_REVIEW');
    expect(h.openReview(3)).toHaveLength(1);
  });
});

// ------------------------------------------------------------------------------- reject and return

describe('parallel tier-1 screening', () => {
  it('rejects the project when one department rejects after others passed, cancelling the rest', () => {
    // Arrange
    const h = projectAt('DEPT_SCREENING');
    h.decide(h.task('R1-T1-ndrc'), 'PASS');
    h.decide(h.task('R1-T1-finance'), 'PASS');

    // Act
    const result = h.decide(h.task('R1-T1-natural-resources'), 'REJECT', '选址不符合国土空间规划');

    // Assert
    expect(result.message).toBe('rejected at tier 1');
    expect(h.s.stage).toBe('REJECTED');
    expect(h.task('R1-T1-ndrc')).toMatchObject({ status: 'DONE', decision: 'PASS' });
    expect(h.task('R1-T1-finance')).toMatchObject({ status: 'DONE', decision: 'PASS' });
    expect(h.task('R1-T1-natural-resources')).toMatchObject({
      status: 'DONE',
      decision: 'REJECT',
      opinion: '选址不符合国土空间规划',
    });
    expect(h.task('R1-T1-housing')).toMatchObject({
      status: 'CANCELLED',
      result: { cancelledBecause: 'rejected at tier 1' },
    });
    expect(h.open()).toEqual([]);
    expect(h.s.tasks.some((t) => t.tier === 2)).toBe(false);
    expect(h.s.outbox.events.at(-1)).toMatchObject({
      type: 'REJECTED',
      stageBefore: 'DEPT_SCREENING',
      stageAfter: 'REJECTED',
      data: { tier: 1, by: 'natural-resources' },
    });
  });

  it('refuses a decision on a review cancelled by the rejection', () => {
    // Arrange
    const h = projectAt('DEPT_SCREENING');
    h.decide(h.task('R1-T1-finance'), 'REJECT', '资金来源不明');
    const housing = h.task('R1-T1-housing');

    // Act
    const err = h.expectRefused(
      HOUSING,
      { type: 'decideReview', taskId: housing.id, decision: 'PASS', opinion: '同意' },
      'ALREADY_DECIDED',
    );

    // Assert
    expect(err.details).toMatchObject({ taskStatus: 'CANCELLED' });
  });

  it('returns the project to DRAFT when one department returns it; resubmission opens round 2 and keeps round 1', () => {
    // Arrange
    const h = projectAt('DEPT_SCREENING');
    h.decide(h.task('R1-T1-ndrc'), 'PASS');

    // Act: finance returns it
    const returned = h.decide(h.task('R1-T1-finance'), 'RETURN', '请补充资金筹措方案');

    // Assert
    expect(returned.message).toBe('returned to the applicant for revision (tier 1)');
    expect(h.s.stage).toBe('DRAFT');
    expect(h.open()).toEqual([]);
    expect(h.task('R1-T1-natural-resources').status).toBe('CANCELLED');
    expect(h.task('R1-T1-housing').status).toBe('CANCELLED');

    // Act: the applicant resubmits
    const resubmitted = h.submit();

    // Assert
    expect(resubmitted.message).toBe('submitted for department screening (round 2)');
    expect(h.s.stage).toBe('DEPT_SCREENING');
    expect(h.s.round).toBe(2);
    expect(h.openReview(1).map((t) => [t.id, t.round])).toEqual([
      ['p-1~R2-T1-ndrc', 2],
      ['p-1~R2-T1-finance', 2],
      ['p-1~R2-T1-approval-bureau', 2],
      ['p-1~R2-T1-natural-resources', 2],
      ['p-1~R2-T1-housing', 2],
    ]);
    expect(h.task('R1-T1-ndrc')).toMatchObject({ status: 'DONE', decision: 'PASS', round: 1 });
    expect(h.task('R1-T1-finance')).toMatchObject({
      status: 'DONE',
      decision: 'RETURN',
      opinion: '请补充资金筹措方案',
      round: 1,
    });
    expect(new Set(h.s.tasks.map((t) => t.id)).size).toBe(h.s.tasks.length);

    // Act / Assert: round 2 passes on its own tasks only
    h.passTier1();
    expect(h.s.stage).toBe('SPECIALIST_REVIEW');
    expect(h.openReview(2).map((t) => t.id)).toEqual(['p-1~R2-T2']);
  });

  it('refuses a REJECT or RETURN without an opinion', () => {
    // Arrange
    const h = projectAt('DEPT_SCREENING');
    const t = h.task('R1-T1-ndrc');

    // Act / Assert
    for (const decision of ['REJECT', 'RETURN'] as const) {
      const err = h.expectRefused(
        NDRC,
        { type: 'decideReview', taskId: t.id, decision, opinion: '   ' },
        'INVALID_DATA',
      );
      expect(err.details).toEqual({ field: 'opinion' });
    }
  });

  it('refuses a decision that is not PASS, REJECT or RETURN', () => {
    // Arrange
    const h = projectAt('DEPT_SCREENING');
    const t = h.task('R1-T1-ndrc');

    // Act / Assert
    h.expectRefused(
      NDRC,
      { type: 'decideReview', taskId: t.id, decision: 'MAYBE' as ReviewDecision, opinion: '再议' },
      'INVALID_DATA',
    );
  });
});

describe('what tiers 2 and 3 produce', () => {
  const expert = (over: Partial<ExpertRef> = {}): ExpertRef => ({
    expertId: 'E-1',
    name: '王教授',
    field: '工程',
    kind: 'EXPERT',
    termEndsOn: '2026-12-31',
    status: 'ACTIVE',
    ...over,
  });
  const assessments = { technical: '方案可行', investmentBenefit: '效益良好', riskControl: '风险可控' };

  it('records the three assessments and the invited experts’ opinions beside the group’s recommendation', () => {
    // Arrange
    const h = projectAt('SPECIALIST_REVIEW');
    const [t] = h.openReview(2);
    h.act(SPECIAL_GROUP, {
      type: 'inviteExperts',
      taskId: t!.id,
      experts: [
        expert(),
        expert({ expertId: 'E-2', name: '某咨询公司', kind: 'THIRD_PARTY', field: '经济' }),
      ],
    });

    // Act
    h.act(SPECIAL_GROUP, {
      type: 'decideSpecialistReview',
      taskId: t!.id,
      outcome: 'RECOMMENDED',
      assessments,
      expertOpinions: [{ expertId: 'E-1', opinion: '结构方案合理' }],
    });

    // Assert
    expect(h.s.specialistReviews).toEqual([
      expect.objectContaining({
        outcome: 'RECOMMENDED',
        group: 'sg-urban',
        assessments,
        experts: [expect.objectContaining({ expertId: 'E-1', name: '王教授', opinion: '结构方案合理' })],
        decidedBy: SPECIAL_GROUP,
      }),
    ]);
    expect(h.s.stage).toBe('COMPREHENSIVE_REVIEW');
  });

  it('refuses to invite an expert whose term has ended or who has exited, and an opinion of one not invited', () => {
    // Arrange
    const h = projectAt('SPECIALIST_REVIEW');
    const [t] = h.openReview(2);

    // Act / Assert
    const ended = h.expectRefused(
      SPECIAL_GROUP,
      { type: 'inviteExperts', taskId: t!.id, experts: [expert({ termEndsOn: '2024-12-31' })] },
      'INVALID_DATA',
    );
    expect(ended.message).toContain('ended on 2024-12-31');
    h.expectRefused(
      SPECIAL_GROUP,
      { type: 'inviteExperts', taskId: t!.id, experts: [expert({ status: 'EXITED' })] },
      'INVALID_DATA',
    );
    h.expectRefused(
      SPECIAL_GROUP,
      {
        type: 'decideSpecialistReview',
        taskId: t!.id,
        outcome: 'RECOMMENDED',
        assessments,
        expertOpinions: [{ expertId: 'E-9', opinion: '同意' }],
      },
      'INVALID_DATA',
    );
    h.expectRefused(
      SPECIAL_GROUP,
      {
        type: 'decideSpecialistReview',
        taskId: t!.id,
        outcome: 'RECOMMENDED',
        assessments: { ...assessments, riskControl: '' },
      },
      'INVALID_DATA',
    );
  });

  it('lets a project tier 2 does not recommend go on as a non-key project, to the joint meeting when government-invested', () => {
    // Arrange
    const h = projectAt('SPECIALIST_REVIEW'); // government-invested
    const [t] = h.openReview(2);

    // Act
    h.act(SPECIAL_GROUP, {
      type: 'decideSpecialistReview',
      taskId: t!.id,
      outcome: 'NOT_RECOMMENDED',
      assessments,
    });

    // Assert
    expect(h.s.stage).toBe('COMPREHENSIVE_REVIEW');
    expect(h.s.specialistReviews?.[0]?.outcome).toBe('NOT_RECOMMENDED');
    expect(h.s.outbox.events.some((e) => e.type === 'KEY_PROJECT_RECOMMENDED')).toBe(false);
  });

  it('has the joint meeting include a government-invested project only with its fund allocation, at a meeting already held', () => {
    // Arrange
    const h = projectAt('COMPREHENSIVE_REVIEW');
    const [t] = h.openReview(3);
    const decide = (over: object) => ({
      type: 'decideComprehensiveReview' as const,
      taskId: t!.id,
      meeting: h.meeting(),
      included: true,
      ...over,
    });

    // Act / Assert
    h.expectRefused(LEADING_GROUP, decide({}), 'INVALID_DATA');
    h.expectRefused(
      LEADING_GROUP,
      decide({
        meeting: { month: '2099-01', date: '2099-01-30' },
        fundAllocation: { amountYuan: 1, sourceType: 'SPECIAL_BONDS', year: 2099 },
      }),
      'INVALID_DATA',
    );
    h.expectRefused(
      LEADING_GROUP,
      decide({ fundAllocation: { amountYuan: 1, sourceType: 'GOLD', year: 2025 } }),
      'INVALID_DATA',
    );
    h.act(
      LEADING_GROUP,
      decide({ fundAllocation: { amountYuan: 80_000_000, sourceType: 'SPECIAL_BONDS', year: 2025 } }),
    );
    expect(h.s.keyProjectDecisions).toEqual([
      expect.objectContaining({
        included: true,
        year: 2025,
        fundAllocation: { amountYuan: 80_000_000, sourceType: 'SPECIAL_BONDS', year: 2025 },
      }),
    ]);
    expect(h.s.details.flags.cityKey).toBe(true);
    expect(h.open('GATE').map((g) => g.key)).toEqual(['R1-PLAN']);
  });

  it('follows a postponed joint meeting: the waiting tier-3 task recomputes its deadline', () => {
    const h = projectAt('COMPREHENSIVE_REVIEW');
    const [t] = h.openReview(3);
    t!.clock!.needsSchedule = false;
    h.expectRefused(
      NDRC,
      { type: 'rescheduleMeetingTasks', meetingMonth: '2025-03', date: '2025-04-02' },
      'NOT_ASSIGNEE',
    );
    h.act(LEADING_GROUP, { type: 'rescheduleMeetingTasks', meetingMonth: '2025-03', date: '2025-04-02' });
    expect(h.task('R1-T3').clock?.needsSchedule).toBe(true);
  });

  it('lets only 市发改委 set 省级重点', () => {
    const h = projectAt('RESERVE');
    h.expectRefused(
      OWNER,
      { type: 'setProvincialKey', provincialKey: true, documentNumber: '晋发改〔2025〕1号' },
      'NOT_ASSIGNEE',
    );
    h.act(NDRC, { type: 'setProvincialKey', provincialKey: true, documentNumber: '晋发改〔2025〕1号' });
    expect(h.s.details.flags.provincialKey).toBe(true);
  });
});

describe.each([2, 3] as const)('tier %i review', (tier) => {
  const reviewStage: Stage = tier === 2 ? 'SPECIALIST_REVIEW' : 'COMPREHENSIVE_REVIEW';

  it('cannot eliminate a project: only 初审 rejects (淘汰)', () => {
    // Arrange
    const h = projectAt(reviewStage);
    const [t] = h.openReview(tier);

    // Act
    const err = h.expectRefused(
      actor(t!.assigneeOrg),
      { type: 'decideReview', taskId: t!.id, decision: 'REJECT', opinion: '不符合产业政策' },
      'INVALID_DATA',
    );

    // Assert
    expect(err.details).toEqual({ field: 'decision' });
    expect(h.s.stage).toBe(reviewStage);
  });

  it('RETURN sends the project back to DRAFT, and resubmission restarts at tier 1 in round 2', () => {
    // Arrange
    const h = projectAt(reviewStage);

    // Act
    const result = h.decideTier(tier, 'RETURN', '请补充可研深度');

    // Assert
    expect(result.message).toBe(`returned to the applicant for revision (tier ${tier})`);
    expect(h.s.stage).toBe('DRAFT');
    expect(h.open()).toEqual([]);

    h.submit();
    expect(h.s.stage).toBe('DEPT_SCREENING');
    expect(h.s.round).toBe(2);
    expect(h.openReview(1)).toHaveLength(5);
    expect(h.task(`R1-T${tier}`)).toMatchObject({ status: 'DONE', decision: 'RETURN', round: 1 });
  });

  it('is decided only by its assignee', () => {
    // Arrange
    const h = projectAt(reviewStage);
    const [t] = h.openReview(tier);

    // Act / Assert
    h.expectRefused(
      NDRC,
      { type: 'decideReview', taskId: t!.id, decision: 'PASS', opinion: '同意' },
      'NOT_ASSIGNEE',
    );
  });
});

// ------------------------------------------------------------------------------------------ reserve

describe('leaving the reserve library', () => {
  it('needs every required matter and a project code (matters first, code last)', () => {
    // Arrange
    const h = projectAt('RESERVE');
    const matters = h.open('APPROVAL_MATTER');

    // Act / Assert: all but the last matter keeps it in RESERVE
    for (const m of matters.slice(0, -1)) h.complete(m);
    expect(h.s.stage).toBe('RESERVE');
    const last = h.complete(matters.at(-1)!);
    expect(last.message).toBe(`${matters.at(-1)!.title} completed`);
    expect(h.s.stage).toBe('RESERVE'); // no project code yet

    h.recordCode();
    expect(h.s.stage).toBe('PRE_CONSTRUCTION');
    expect(h.s.outbox.events.find((e) => e.type === 'ENTERED_PRE_CONSTRUCTION')).toMatchObject({
      stageBefore: 'RESERVE',
      stageAfter: 'PRE_CONSTRUCTION',
      data: { projectCode: PROJECT_CODE },
    });
  });

  it('needs every required matter and a project code (code first, last matter last)', () => {
    // Arrange
    const h = projectAt('RESERVE');
    h.recordCode();
    expect(h.s.stage).toBe('RESERVE');
    const matters = h.open('APPROVAL_MATTER');
    for (const m of matters.slice(0, -1)) h.complete(m);
    expect(h.s.stage).toBe('RESERVE');

    // Act
    const result = h.complete(matters.at(-1)!);

    // Assert
    expect(result.message).toBe(`${matters.at(-1)!.title} completed; entered pre-construction`);
    expect(h.s.stage).toBe('PRE_CONSTRUCTION');
  });

  it('accepts a project code recorded early, during the reviews', () => {
    // Arrange
    const h = new Harness();
    h.recordCode();
    h.submit();
    h.passTier1();
    h.decideTier(2, 'PASS');
    h.decideTier(3, 'PASS');
    h.includeInPlan();

    // Act
    h.completeMatters();

    // Assert
    expect(h.s.stage).toBe('PRE_CONSTRUCTION');
  });

  it('records each matter with its document number, date and actor', () => {
    // Arrange
    const h = projectAt('RESERVE');
    const eia = h.task('M-EIA');

    // Act
    const result = h.complete(eia);

    // Assert
    expect(result.taskId).toBe('p-1~M-EIA');
    expect(h.task('M-EIA')).toMatchObject({
      status: 'DONE',
      actor: actor('ecology'),
      result: { documentNumber: '文号-M-EIA', date: '2025-04-01' },
    });
    expect(h.s.lastProgressAt).toBe(h.now);
  });

  it('refuses a matter completed by another organisation', () => {
    // Arrange
    const h = projectAt('RESERVE');

    // Act / Assert
    h.expectRefused(
      OWNER,
      {
        type: 'completeTask',
        taskId: h.task('M-EIA').id,
        documentNumber: '环审〔2025〕1号',
        date: '2025-04-01',
      },
      'NOT_ASSIGNEE',
    );
  });
});

describe('project code', () => {
  it.each([
    ['too short a serial', '2503-141002-04-01-00012'],
    ['too long a serial', '2503-141002-04-01-0001234'],
    ['a missing hyphen', '2503141002-04-01-000123'],
    ['letters', 'ABCD-141002-04-01-000123'],
    ['a leading space', ' 2503-141002-04-01-000123'],
    ['a trailing newline', '2503-141002-04-01-000123\n'],
    ['an empty string', ''],
  ])('refuses a code with %s', (_label, code) => {
    // Arrange
    const h = projectAt('RESERVE');

    // Act
    const err = h.expectRefused(OWNER, { type: 'recordProjectCode', code }, 'INVALID_DATA');

    // Assert
    expect(err.details).toEqual({ field: 'code' });
  });

  it('accepts the 24-character structure YYMM-RRRRRR-DD-TT-NNNNNN from the planning department', () => {
    // Arrange
    const h = projectAt('RESERVE');

    // Act
    h.recordCode(NDRC);

    // Assert
    expect(h.s.projectCode).toBe(PROJECT_CODE);
    expect(PROJECT_CODE).toHaveLength(24);
  });

  it('cannot change once recorded, not even to the same value', () => {
    // Arrange
    const h = projectAt('RESERVE');
    h.recordCode();

    // Act / Assert
    for (const code of ['2503-141002-04-01-999999', PROJECT_CODE]) {
      h.expectRefused(NDRC, { type: 'recordProjectCode', code }, 'ALREADY_DECIDED');
    }
    expect(h.s.projectCode).toBe(PROJECT_CODE);
  });

  it('is recorded only by the applicant or the planning department', () => {
    // Arrange
    const h = projectAt('RESERVE');

    // Act / Assert
    h.expectRefused(HOUSING, { type: 'recordProjectCode', code: PROJECT_CODE }, 'NOT_ASSIGNEE');
  });

  it('is not recorded after construction has started', () => {
    // Arrange
    const h = projectAt('UNDER_CONSTRUCTION');

    // Act / Assert
    h.expectRefused(OWNER, { type: 'recordProjectCode', code: PROJECT_CODE }, 'WRONG_STAGE');
  });
});

// --------------------------------------------------------------------------------------- start gate

describe('start gate', () => {
  /** A project in 前期 whose 社会稳定风险评估 (a precondition of the policy) is done. */
  const ready = (details?: ProjectDetails) => {
    const h = projectAt('PRE_CONSTRUCTION', details);
    h.completeStep('STABILITY_RISK_ASSESSMENT');
    return h;
  };
  const apply = { type: 'startConstruction', date: '2025-06-01' } as const;

  it('refuses to start without the permit and the funds, naming both', () => {
    // Arrange
    const h = ready();

    // Act
    const err = h.expectRefused(OWNER, apply, 'GATE_NOT_MET');

    // Assert
    expect(err.details).toEqual({
      missing: ['construction permit (施工许可)', 'construction funds in place (建设资金落实)'],
    });
  });

  it('refuses to start with the permit but without funds in place', () => {
    const h = ready();
    h.completeStep('CONSTRUCTION_PERMIT');
    expect(h.expectRefused(OWNER, apply, 'GATE_NOT_MET').details).toEqual({
      missing: ['construction funds in place (建设资金落实)'],
    });
  });

  it('refuses to start with funds but without the permit, even with a signed contract', () => {
    const h = ready();
    h.confirmFunding();
    h.completeStep('PROCUREMENT_CONTRACT');
    expect(h.expectRefused(OWNER, apply, 'GATE_NOT_MET').details).toEqual({
      missing: ['construction permit (施工许可)'],
    });
  });

  it('refuses to start before the 社会稳定风险评估 the policy requires, and never cancels it', () => {
    // Arrange
    const h = projectAt('PRE_CONSTRUCTION');
    h.completeStep('CONSTRUCTION_PERMIT');
    h.confirmFunding();

    // Act
    const err = h.expectRefused(OWNER, apply, 'GATE_NOT_MET');

    // Assert
    expect(err.details).toEqual({ missing: ['社会稳定风险评估及应急预案 (STABILITY_RISK_ASSESSMENT)'] });
    expect(h.task('S-STABILITY_RISK_ASSESSMENT').status).toBe('OPEN');
  });

  it('starts on the permit and funds once the responsible department has checked the application', () => {
    // Arrange
    const h = ready();
    h.completeStep('CONSTRUCTION_PERMIT');
    h.confirmFunding();

    // Act
    const applied = h.applyToStart();
    const stageWhileChecked = h.s.stage;
    const checked = h.checkStart('CONFIRM', '条件具备');

    // Assert
    expect(applied.message).toBe(
      'start applied for (PERMIT_AND_FUNDING); awaiting the 开工条件核查 by housing',
    );
    expect(stageWhileChecked).toBe('PRE_CONSTRUCTION');
    expect(checked.message).toBe('construction started (PERMIT_AND_FUNDING); checked by housing');
    expect(h.s.stage).toBe('UNDER_CONSTRUCTION');
    expect(h.s.start).toMatchObject({
      date: '2025-06-01',
      basis: 'PERMIT_AND_FUNDING',
      appliedBy: OWNER,
      checkedBy: HOUSING,
    });
    expect(h.task('G-START-CHECK-1')).toMatchObject({ status: 'DONE', actor: HOUSING, decision: 'PASS' });
    expect(h.task('G-START')).toMatchObject({ status: 'DONE' });
    expect(h.task('S-TENDERING')).toMatchObject({
      status: 'CANCELLED',
      result: { cancelledBecause: 'construction started' },
    });
    expect(h.task('G-COMPLETION')).toMatchObject({ status: 'OPEN', assigneeOrg: 'housing' });
  });

  it('is checked by the policy’s checker, never the owner; a refusal lets the owner apply again', () => {
    // Arrange
    const h = ready();
    h.completeStep('CONSTRUCTION_PERMIT');
    h.confirmFunding();
    h.applyToStart();

    // Act / Assert
    h.expectRefused(OWNER, { type: 'checkStart', decision: 'CONFIRM' }, 'NOT_ASSIGNEE');
    h.expectRefused(HOUSING, { type: 'checkStart', decision: 'REFUSE' }, 'INVALID_DATA');
    h.checkStart('REFUSE', '施工单位未进场');
    expect(h.s.stage).toBe('PRE_CONSTRUCTION');
    expect(h.task('G-START-CHECK-1')).toMatchObject({ status: 'DONE', decision: 'REJECT' });
    h.start();
    expect(h.s.stage).toBe('UNDER_CONSTRUCTION');
    expect(h.task('G-START-CHECK-2').status).toBe('DONE');
  });

  it('starts a procurement-type project on its signed contract, still only with funds in place', () => {
    // Arrange
    const h = ready(projectDetails({ procurementOnly: true }));
    h.completeStep('PROCUREMENT_CONTRACT');
    expect(h.s.tasks.some((t) => t.key === 'S-CONSTRUCTION_PERMIT')).toBe(false); // no permit needed

    // Act
    const withoutFunds = h.expectRefused(OWNER, apply, 'GATE_NOT_MET');
    h.confirmFunding();
    const result = h.start();

    // Assert
    expect(withoutFunds.details).toEqual({ missing: ['construction funds in place (建设资金落实)'] });
    expect(result.message).toBe('construction started (PROCUREMENT_CONTRACT); checked by housing');
  });

  it('excepts an emergency project only with the exception approved by the organisation the policy names', () => {
    // Arrange
    const h = ready(projectDetails({ flags: { ...NO_FLAGS, emergency: true } }));
    const typed = { ...apply, emergencyOverride: { reason: '汛期抢险', approver: '王市长' } };

    // Act / Assert: an override typed in by the owner counts for nothing; the owner cannot approve it either.
    h.expectRefused(OWNER, typed, 'INVALID_DATA');
    h.expectRefused(OWNER, { type: 'approveStartException', reason: '汛期抢险' }, 'NOT_ASSIGNEE');
    h.act(LEADING_GROUP, { type: 'approveStartException', reason: '汛期抢险，须立即开工' });
    h.start();
    expect(h.s.stage).toBe('UNDER_CONSTRUCTION');
    expect(h.s.start).toMatchObject({
      basis: 'EMERGENCY_OVERRIDE',
      exception: { reason: '汛期抢险，须立即开工', approvedBy: LEADING_GROUP },
      checkedBy: HOUSING,
    });
  });

  it('refuses an exception for a project not flagged as emergency', () => {
    const h = ready();
    h.expectRefused(LEADING_GROUP, { type: 'approveStartException', reason: '领导要求' }, 'GATE_NOT_MET');
  });

  it('is applied for only by the owner', () => {
    const h = ready();
    h.completeStep('CONSTRUCTION_PERMIT');
    h.confirmFunding();
    h.expectRefused(APPROVAL_BUREAU, apply, 'NOT_ASSIGNEE');
  });
});

describe('confirming construction funds', () => {
  it('is done by the finance department for a government-invested project', () => {
    // Arrange
    const h = projectAt('PRE_CONSTRUCTION');
    const action: ProjectAction = {
      type: 'confirmFunding',
      amountYuan: ESTIMATE,
      documentNumber: '临财建〔2025〕8号',
      date: '2025-05-06',
    };

    // Act / Assert
    h.expectRefused(OWNER, action, 'NOT_ASSIGNEE');
    h.act(FINANCE, action);
    expect(h.s.funding).toEqual({
      confirmedYuan: ESTIMATE,
      documentNumber: '临财建〔2025〕8号',
      date: '2025-05-06',
      actor: FINANCE,
    });
    h.expectRefused(FINANCE, action, 'ALREADY_DECIDED');
  });

  it('is done by the owner for a project that is not government-invested', () => {
    // Arrange
    const h = projectAt('RESERVE', ordinaryProject());

    // Act
    h.act(OWNER, {
      type: 'confirmFunding',
      amountYuan: 1,
      documentNumber: '自筹资金证明',
      date: '2025-05-06',
    });

    // Assert
    expect(h.s.funding?.actor).toEqual(OWNER);
  });
});

// --------------------------------------------------------------------------------------- payments

describe('payments', () => {
  it('are refused when no approved estimate is recorded', () => {
    // Arrange: a procurement-type project started on its contract; its estimate was never approved
    const h = projectAt('PRE_CONSTRUCTION', projectDetails({ procurementOnly: true }));
    h.completeStep('PROCUREMENT_CONTRACT');
    h.completeStep('STABILITY_RISK_ASSESSMENT');
    h.confirmFunding();
    h.start();
    expect(h.s.approvedEstimateYuan).toBeUndefined();

    // Act / Assert
    h.expectRefused(OWNER, payment(1), 'GATE_NOT_MET');
  });

  it('are refused with OVER_ESTIMATE when the cumulative total would exceed the estimate, leaving the state unchanged', () => {
    // Arrange
    const h = projectAt('UNDER_CONSTRUCTION');
    h.pay(200_000_000);

    // Act
    const err = h.expectRefused(OWNER, payment(100_000_001), 'OVER_ESTIMATE');

    // Assert
    expect(err.details).toEqual({
      cumulativePaidYuan: 200_000_000,
      amountYuan: 100_000_001,
      approvedEstimateYuan: ESTIMATE,
    });
    expect(h.s.cumulativePaidYuan).toBe(200_000_000);
    expect(h.s.payments).toHaveLength(1);
  });

  it('are allowed up to exactly the estimate, and not one 元 more', () => {
    // Arrange
    const h = projectAt('UNDER_CONSTRUCTION');
    h.pay(200_000_000);

    // Act
    const result = h.pay(100_000_000);

    // Assert
    expect(result.message).toBe(`payment recorded; cumulative ${ESTIMATE} of ${ESTIMATE} 元`);
    expect(h.s.cumulativePaidYuan).toBe(ESTIMATE);
    expect(h.s.payments.map((p) => p.cumulativePaidYuan)).toEqual([200_000_000, ESTIMATE]);
    expect(h.s.payments[1]).toMatchObject({ amountYuan: 100_000_000, actor: OWNER, recordedAt: h.now });
    h.expectRefused(OWNER, payment(1), 'OVER_ESTIMATE');
  });

  it('allows one payment of exactly the whole estimate', () => {
    // Arrange
    const h = projectAt('UNDER_CONSTRUCTION');

    // Act
    h.pay(ESTIMATE);

    // Assert
    expect(h.s.cumulativePaidYuan).toBe(ESTIMATE);
  });

  it.each([
    ['zero', 0],
    ['negative', -5],
    ['fractional', 100.5],
    ['unsafe', Number.MAX_SAFE_INTEGER + 1],
  ])('refuses a %s amount', (_label, amountYuan) => {
    // Arrange
    const h = projectAt('UNDER_CONSTRUCTION');

    // Act / Assert
    const err = h.expectRefused(OWNER, payment(amountYuan), 'INVALID_DATA');
    expect(err.details).toEqual({ field: 'amountYuan' });
  });

  it('are recorded only by the owner and only during construction', () => {
    // Arrange
    const building = projectAt('UNDER_CONSTRUCTION');
    const preparing = projectAt('PRE_CONSTRUCTION');

    // Act / Assert
    building.expectRefused(FINANCE, payment(1), 'NOT_ASSIGNEE');
    preparing.expectRefused(OWNER, payment(1), 'WRONG_STAGE');
  });
});

describe('the approved estimate', () => {
  it('is required when completing the preliminary design', () => {
    // Arrange
    const h = projectAt('PRE_CONSTRUCTION');
    const t = h.task('S-PRELIMINARY_DESIGN');

    // Act / Assert
    const err = h.expectRefused(
      NDRC,
      { type: 'completeTask', taskId: t.id, documentNumber: '临发改审批〔2025〕5号', date: '2025-05-01' },
      'INVALID_DATA',
    );
    expect(err.details).toEqual({ field: 'approvedEstimateYuan' });
    h.expectRefused(
      NDRC,
      {
        type: 'completeTask',
        taskId: t.id,
        documentNumber: '临发改审批〔2025〕5号',
        date: '2025-05-01',
        approvedEstimateYuan: 1_000.5,
      },
      'INVALID_DATA',
    );
  });

  it('is refused on a step that does not record one', () => {
    // Arrange
    const h = projectAt('PRE_CONSTRUCTION');

    // Act / Assert
    const err = h.expectRefused(
      APPROVAL_BUREAU,
      {
        type: 'completeTask',
        taskId: h.task('S-CONSTRUCTION_PERMIT').id,
        documentNumber: '施工许可〔2025〕9号',
        date: '2025-05-01',
        approvedEstimateYuan: ESTIMATE,
      },
      'INVALID_DATA',
    );
    expect(err.details).toEqual({ field: 'approvedEstimateYuan' });
  });

  it('is kept on the step result and on the project', () => {
    // Arrange
    const h = projectAt('PRE_CONSTRUCTION');

    // Act
    h.completeStep('PRELIMINARY_DESIGN', { approvedEstimateYuan: ESTIMATE });

    // Assert
    expect(h.s.approvedEstimateYuan).toBe(ESTIMATE);
    expect(h.task('S-PRELIMINARY_DESIGN').result).toMatchObject({ approvedEstimateYuan: ESTIMATE });
  });
});

// -------------------------------------------------------------------------------- progress reports

describe('monthly progress reports', () => {
  it('compute the month investment and basis-point percentages', () => {
    // Arrange: annual plan 120,000,000 元, total investment 350,000,000 元
    const h = projectAt('UNDER_CONSTRUCTION');

    // Act
    h.report('2025-06', 30_000_000, 30_000_000);
    h.report('2025-07', 45_000_000, 45_000_000);

    // Assert
    expect(h.s.reports).toEqual([
      expect.objectContaining({
        period: '2025-06',
        monthInvestmentYuan: 30_000_000,
        investmentCompletionBp: 2500, // 30 / 120
        cumulativeShareBp: 857, // 30 / 350 = 8.5714 %
        exceedsTotalInvestment: false,
        actor: OWNER,
      }),
      expect.objectContaining({
        period: '2025-07',
        monthInvestmentYuan: 15_000_000,
        investmentCompletionBp: 3750, // 45 / 120
        cumulativeShareBp: 1286, // 45 / 350 = 12.857 %
      }),
    ]);
    expect(h.s.outbox.events.at(-1)).toMatchObject({
      type: 'PROGRESS_REPORTED',
      data: { period: '2025-07', monthInvestmentYuan: 15_000_000, investmentCompletionBp: 3750 },
    });
  });

  it('refuse a year-to-date figure that decreases within a year', () => {
    // Arrange
    const h = projectAt('UNDER_CONSTRUCTION');
    h.report('2025-06', 30_000_000, 30_000_000);

    // Act
    const err = h.expectRefused(OWNER, progress('2025-07', 29_999_999, 31_000_000), 'INVALID_DATA');

    // Assert
    expect(err.details).toEqual({ field: 'ytdInvestmentYuan' });
  });

  it('let the year-to-date figure reset in a new year', () => {
    // Arrange
    const h = projectAt('UNDER_CONSTRUCTION');
    h.report('2025-12', 100_000_000, 100_000_000);

    // Act
    h.report('2026-01', 5_000_000, 105_000_000);

    // Assert
    expect(h.s.reports.at(-1)).toMatchObject({
      period: '2026-01',
      monthInvestmentYuan: 5_000_000,
      ytdInvestmentYuan: 5_000_000,
      cumulativeInvestmentYuan: 105_000_000,
    });
  });

  it('refuse a cumulative figure below the year-to-date figure', () => {
    // Arrange
    const h = projectAt('UNDER_CONSTRUCTION');

    // Act
    const err = h.expectRefused(OWNER, progress('2025-06', 20_000_000, 10_000_000), 'INVALID_DATA');

    // Assert
    expect(err.details).toEqual({ field: 'cumulativeInvestmentYuan' });
  });

  it('refuse a cumulative figure that decreases from the last report', () => {
    // Arrange
    const h = projectAt('UNDER_CONSTRUCTION');
    h.report('2025-12', 100_000_000, 100_000_000);

    // Act / Assert
    h.expectRefused(OWNER, progress('2026-01', 5_000_000, 99_000_000), 'INVALID_DATA');
  });

  it('refuse a second report for the same period', () => {
    // Arrange
    const h = projectAt('UNDER_CONSTRUCTION');
    h.report('2025-06', 30_000_000, 30_000_000);

    // Act
    const err = h.expectRefused(OWNER, progress('2025-06', 31_000_000, 31_000_000), 'ALREADY_DECIDED');

    // Assert
    expect(err.details).toMatchObject({ field: 'period', lastPeriod: '2025-06' });
  });

  it('refuse a report for a period before the last one', () => {
    // Arrange
    const h = projectAt('UNDER_CONSTRUCTION');
    h.report('2025-06', 30_000_000, 30_000_000);

    // Act / Assert
    h.expectRefused(OWNER, progress('2025-05', 31_000_000, 31_000_000), 'INVALID_DATA');
  });

  it.each(['2025-13', '2025-00', '2025-6', '202506', ''])('refuse the period %j', (period) => {
    // Arrange
    const h = projectAt('UNDER_CONSTRUCTION');

    // Act / Assert
    const err = h.expectRefused(OWNER, progress(period, 1, 1), 'INVALID_DATA');
    expect(err.details).toEqual({ field: 'period' });
  });

  it('accept, with a warning, a cumulative figure above the total investment', () => {
    // Arrange
    const h = projectAt('UNDER_CONSTRUCTION');

    // Act
    const result = h.report('2025-06', 100_000_000, 360_000_000);

    // Assert
    expect(result.message).toBe(
      'progress for 2025-06 recorded; warning: cumulative investment exceeds the total investment',
    );
    expect(h.s.reports[0]).toMatchObject({ exceedsTotalInvestment: true, cumulativeShareBp: 10286 });
  });

  it('are accepted in pre-construction and while suspended, but not before pre-construction', () => {
    // Arrange
    const suspended = projectAt('SUSPENDED');
    const preparing = projectAt('PRE_CONSTRUCTION');
    const reserve = projectAt('RESERVE');

    // Act
    suspended.report('2025-06', 1_000_000, 1_000_000);
    preparing.report('2025-06', 0, 0);

    // Assert
    expect(suspended.s.reports).toHaveLength(1);
    expect(preparing.s.reports).toHaveLength(1);
    reserve.expectRefused(OWNER, progress('2025-06', 1, 1), 'WRONG_STAGE');
  });

  it('refuse a month that has not begun', () => {
    // Arrange
    const h = projectAt('UNDER_CONSTRUCTION');
    h.now = Date.parse('2025-06-30T12:00:00+08:00');

    // Act
    let refusal: unknown;
    try {
      validateAction(h.s, policy, h.request(OWNER, progress('2025-07', 1, 1)), h.now);
    } catch (err) {
      refusal = err;
    }

    // Assert
    expect(refusal).toBeInstanceOf(DomainError);
    expect(refusal).toMatchObject({
      type: 'INVALID_DATA',
      details: { field: 'period', latestPeriod: '2025-06' },
    });
  });

  it('are reported only by the owner', () => {
    // Arrange
    const h = projectAt('UNDER_CONSTRUCTION');

    // Act / Assert
    h.expectRefused(HOUSING, progress('2025-06', 1, 1), 'NOT_ASSIGNEE');
  });
});

// ------------------------------------------------------------------------------- suspend / resume

describe('suspension', () => {
  it('suspends construction and resumes it to UNDER_CONSTRUCTION', () => {
    // Arrange
    const h = projectAt('UNDER_CONSTRUCTION');

    // Act / Assert
    expect(h.act(HOUSING, { type: 'suspend', reason: '征地拆迁未完成' }).message).toBe(
      'construction suspended',
    );
    expect(h.s.stage).toBe('SUSPENDED');
    expect(h.s.stageBeforeSuspension).toBe('UNDER_CONSTRUCTION');

    expect(h.act(OWNER, { type: 'resume', reason: '拆迁完成' }).message).toBe('construction resumed');
    expect(h.s.stage).toBe('UNDER_CONSTRUCTION');
    expect(h.s.stageBeforeSuspension).toBeUndefined();
    expect(eventTypes(h.s).slice(-2)).toEqual(['SUSPENDED', 'RESUMED']);
  });

  it('refuses payments and completion while suspended', () => {
    // Arrange
    const h = projectAt('SUSPENDED');

    // Act / Assert
    h.expectRefused(OWNER, payment(1), 'WRONG_STAGE');
    h.expectRefused(
      HOUSING,
      { type: 'acceptCompletion', documentNumber: '验收', date: '2027-10-30' },
      'WRONG_STAGE',
    );
    h.expectRefused(OWNER, { type: 'suspend', reason: '再次停工' }, 'WRONG_STAGE');
  });

  it('is only possible during construction, and resumption only when suspended', () => {
    // Arrange
    const reserve = projectAt('RESERVE');
    const building = projectAt('UNDER_CONSTRUCTION');

    // Act / Assert
    reserve.expectRefused(OWNER, { type: 'suspend', reason: '资金不足' }, 'WRONG_STAGE');
    building.expectRefused(OWNER, { type: 'resume', reason: '复工' }, 'WRONG_STAGE');
  });

  it('is recorded only by the owner or the responsible department, with a reason', () => {
    // Arrange
    const h = projectAt('UNDER_CONSTRUCTION');

    // Act / Assert
    h.expectRefused(FINANCE, { type: 'suspend', reason: '资金不足' }, 'NOT_ASSIGNEE');
    h.expectRefused(OWNER, { type: 'suspend', reason: '' }, 'INVALID_DATA');
  });
});

// ---------------------------------------------------------------------------------- remove / withdraw

describe('removal from the library', () => {
  it.each<DrivableStage>([
    'DRAFT',
    'DEPT_SCREENING',
    'SPECIALIST_REVIEW',
    'COMPREHENSIVE_REVIEW',
    'RESERVE',
    'PRE_CONSTRUCTION',
    'UNDER_CONSTRUCTION',
    'SUSPENDED',
  ])('removes a project in %s, cancelling its open tasks and recording reason and approver', (stage) => {
    // Arrange
    const h = projectAt(stage);

    // Act
    const result = h.act(LEADING_GROUP, removal({ reason: 'FORCE_MAJEURE', approver: '市长' }));

    // Assert
    expect(result.message).toBe(
      'removed from the library; a replacement project is expected from its portfolio',
    );
    expect(h.s.stage).toBe('REMOVED');
    expect(h.s.removal).toEqual({
      reason: 'FORCE_MAJEURE',
      explanation: '季度动态调整：政策变化',
      approver: '市长',
    });
    expect(h.open()).toEqual([]);
    expect(h.s.outbox.events.at(-1)).toMatchObject({
      type: 'REMOVED',
      stageBefore: stage,
      stageAfter: 'REMOVED',
      data: { reason: 'FORCE_MAJEURE', approver: '市长', replacementExpected: true },
    });
  });

  it('is decided only by the leading group', () => {
    // Arrange
    const h = projectAt('RESERVE');

    // Act / Assert
    for (const who of [NDRC, OWNER, SPECIAL_GROUP, actor('city-supervision', 'supervisor')]) {
      h.expectRefused(who, removal(), 'NOT_ASSIGNEE');
    }
  });

  it('refuses a reason outside POLICY_CHANGE, FORCE_MAJEURE and OTHER', () => {
    // Arrange
    const h = projectAt('RESERVE');

    // Act / Assert
    const err = h.expectRefused(LEADING_GROUP, removal({ reason: 'STALE' as RemovalReason }), 'INVALID_DATA');
    expect(err.details).toEqual({ field: 'reason' });
  });

  it.each(['POLICY_CHANGE', 'FORCE_MAJEURE', 'OTHER'] as const)('accepts the reason %s', (reason) => {
    // Arrange
    const h = projectAt('RESERVE');

    // Act
    h.act(LEADING_GROUP, removal({ reason }));

    // Assert
    expect(h.s.removal?.reason).toBe(reason);
  });

  it('requires an approver and an explanation', () => {
    // Arrange
    const h = projectAt('RESERVE');

    // Act / Assert
    expect(h.expectRefused(LEADING_GROUP, removal({ approver: '' }), 'INVALID_DATA').details).toEqual({
      field: 'approver',
    });
    expect(h.expectRefused(LEADING_GROUP, removal({ explanation: ' ' }), 'INVALID_DATA').details).toEqual({
      field: 'explanation',
    });
  });

  it('refuses to remove a project that has already ended', () => {
    // Arrange
    const completed = projectAt('COMPLETED');
    const removed = projectAt('RESERVE');
    removed.act(LEADING_GROUP, removal());

    // Act / Assert
    completed.expectRefused(LEADING_GROUP, removal(), 'WRONG_STAGE');
    removed.expectRefused(LEADING_GROUP, removal(), 'WRONG_STAGE');
  });
});

describe('withdrawal', () => {
  it.each<DrivableStage>(['DRAFT', 'DEPT_SCREENING', 'RESERVE', 'PRE_CONSTRUCTION'])(
    'lets the applicant withdraw a project in %s, cancelling open tasks',
    (stage) => {
      // Arrange
      const h = projectAt(stage);

      // Act
      const result = h.act(OWNER, { type: 'withdraw', reason: '项目主体变更' });

      // Assert
      expect(result.message).toBe('project withdrawn');
      expect(h.s.stage).toBe('WITHDRAWN');
      expect(h.open()).toEqual([]);
      expect(h.s.outbox.events.at(-1)).toMatchObject({ type: 'WITHDRAWN', data: { reason: '项目主体变更' } });
    },
  );

  it('is refused once construction has started', () => {
    // Arrange
    const h = projectAt('UNDER_CONSTRUCTION');

    // Act / Assert
    h.expectRefused(OWNER, { type: 'withdraw', reason: '不干了' }, 'WRONG_STAGE');
  });

  it('is done only by the applicant, with a reason', () => {
    // Arrange
    const h = projectAt('RESERVE');

    // Act / Assert
    h.expectRefused(OUTSIDER, { type: 'withdraw', reason: '项目主体变更' }, 'NOT_ASSIGNEE');
    h.expectRefused(OWNER, { type: 'withdraw', reason: '' }, 'INVALID_DATA');
  });
});

// ------------------------------------------------------------------------------------------ refusals

describe('refusals (through validateAction, as the workflow validator sees them)', () => {
  it('WRONG_STAGE: an action the current stage does not allow', () => {
    // Arrange
    const screening = projectAt('DEPT_SCREENING');
    const reserve = projectAt('RESERVE');
    const review3 = projectAt('COMPREHENSIVE_REVIEW');

    // Act / Assert
    const err = screening.expectRefused(OWNER, { type: 'submit' }, 'WRONG_STAGE');
    expect(err.details).toEqual({ stage: 'DEPT_SCREENING', allowed: ['DRAFT'] });
    reserve.expectRefused(OWNER, { type: 'startConstruction', date: '2025-06-01' }, 'WRONG_STAGE');
    reserve.expectRefused(
      HOUSING,
      { type: 'acceptCompletion', documentNumber: 'x', date: '2025-06-01' },
      'WRONG_STAGE',
    );
    // plan inclusion before the last tier has passed
    review3.expectRefused(
      NDRC,
      { type: 'recordPlanInclusion', planName: '年度计划', documentNumber: 'x', date: '2025-03-20' },
      'WRONG_STAGE',
    );
  });

  it('NOT_ASSIGNEE: an organisation acting on what is not its own', () => {
    // Arrange
    const draft = projectAt('DRAFT');
    const screening = projectAt('DEPT_SCREENING');
    const planGate = projectAt('COMPREHENSIVE_REVIEW');
    planGate.decideTier(3, 'PASS');
    const building = projectAt('UNDER_CONSTRUCTION');

    // Act / Assert
    const err = draft.expectRefused(OUTSIDER, { type: 'submit' }, 'NOT_ASSIGNEE');
    expect(err.details).toEqual({ actorOrg: 'quwo', allowed: ['yaodu'] });
    screening.expectRefused(
      FINANCE,
      { type: 'decideReview', taskId: screening.task('R1-T1-ndrc').id, decision: 'PASS', opinion: '同意' },
      'NOT_ASSIGNEE',
    );
    planGate.expectRefused(
      HOUSING,
      { type: 'recordPlanInclusion', planName: '年度计划', documentNumber: 'x', date: '2025-03-20' },
      'NOT_ASSIGNEE',
    );
    building.expectRefused(
      OWNER,
      { type: 'acceptCompletion', documentNumber: 'x', date: '2027-10-30' },
      'NOT_ASSIGNEE',
    );
  });

  it('ALREADY_DECIDED: deciding a review twice', () => {
    // Arrange
    const h = projectAt('DEPT_SCREENING');
    const t = h.task('R1-T1-ndrc');
    h.decide(t, 'PASS');

    // Act
    const err = h.expectRefused(
      NDRC,
      { type: 'decideReview', taskId: t.id, decision: 'REJECT', opinion: '改主意了' },
      'ALREADY_DECIDED',
    );

    // Assert
    expect(err.details).toEqual({ taskId: t.id, taskStatus: 'DONE' });
    expect(h.task('R1-T1-ndrc').decision).toBe('PASS');
  });

  it('ALREADY_DECIDED: completing a matter twice', () => {
    // Arrange
    const h = projectAt('RESERVE');
    h.complete(h.task('M-EIA'));

    // Act / Assert
    h.expectRefused(
      actor('ecology'),
      { type: 'completeTask', taskId: h.task('M-EIA').id, documentNumber: 'y', date: '2025-04-02' },
      'ALREADY_DECIDED',
    );
  });

  it('UNKNOWN_TASK: a task id the project does not have, or a task of the wrong kind', () => {
    // Arrange
    const h = projectAt('DEPT_SCREENING');
    const review = h.task('R1-T1-ndrc');

    // Act / Assert
    const err = h.expectRefused(
      NDRC,
      { type: 'decideReview', taskId: 'p-1~R9-T1-ndrc', decision: 'PASS', opinion: '同意' },
      'UNKNOWN_TASK',
    );
    expect(err.details).toEqual({ taskId: 'p-1~R9-T1-ndrc' });
    h.expectRefused(
      NDRC,
      { type: 'completeTask', taskId: review.id, documentNumber: 'x', date: '2025-04-01' },
      'UNKNOWN_TASK',
    );
    h.expectRefused(
      NDRC,
      { type: 'decideReview', taskId: 'other-project~R1-T1-ndrc', decision: 'PASS', opinion: '同意' },
      'UNKNOWN_TASK',
    );
  });

  it('INVALID_DATA: malformed requests and fields', () => {
    // Arrange
    const h = projectAt('RESERVE');
    const eia = h.task('M-EIA').id;
    const ecology = actor('ecology');
    const complete = (documentNumber: string, date: string): ProjectAction => ({
      type: 'completeTask',
      taskId: eia,
      documentNumber,
      date,
    });

    // Act / Assert
    expect(h.expectRefused(ecology, complete('', '2025-04-01'), 'INVALID_DATA').details).toEqual({
      field: 'documentNumber',
    });
    expect(h.expectRefused(ecology, complete('x', '2025/04/01'), 'INVALID_DATA').details).toEqual({
      field: 'date',
    });
    expect(h.expectRefused(ecology, complete('x'.repeat(101), '2025-04-01'), 'INVALID_DATA').details).toEqual(
      {
        field: 'documentNumber',
      },
    );
  });

  it('INVALID_DATA: a request id that is empty or too long, or an actor without roles, or an unknown action', () => {
    // Arrange
    const h = new Harness();
    const attempt = (req: ActionRequest) => {
      const before = structuredClone(h.s);
      const act = () => validateAction(h.s, policy, req, T0);
      expect(act).toThrow(DomainError);
      try {
        act();
      } catch (err) {
        expect((err as DomainError).type).toBe('INVALID_DATA');
        expect(h.s).toStrictEqual(before);
        return (err as DomainError).details;
      }
      return undefined;
    };

    // Act / Assert
    expect(attempt({ requestId: '', actor: OWNER, action: { type: 'submit' } })).toEqual({
      field: 'requestId',
    });
    expect(attempt({ requestId: 'r'.repeat(201), actor: OWNER, action: { type: 'submit' } })).toEqual({
      field: 'requestId',
    });
    expect(
      attempt({
        requestId: 'r-1',
        actor: { userId: 'u', org: 'yaodu' } as Actor,
        action: { type: 'submit' },
      }),
    ).toEqual({ field: 'actor' });
    expect(
      attempt({
        requestId: 'r-1',
        actor: OWNER,
        action: { type: 'launchRocket' } as unknown as ProjectAction,
      }),
    ).toEqual({ field: 'action.type' });
  });

  it('INVALID_DATA: a calendar date that does not exist', () => {
    // Arrange
    const h = projectAt('RESERVE');

    // Act / Assert
    for (const date of ['2025-02-30', '2025-02-29', '2025-04-31']) {
      const err = h.expectRefused(
        actor('ecology'),
        { type: 'completeTask', taskId: h.task('M-EIA').id, documentNumber: '环审〔2025〕1号', date },
        'INVALID_DATA',
      );
      expect(err.details).toEqual({ field: 'date' });
    }
  });

  it('GATE_NOT_MET and OVER_ESTIMATE: the start gate and the estimate cap', () => {
    // Arrange
    const preparing = projectAt('PRE_CONSTRUCTION');
    const building = projectAt('UNDER_CONSTRUCTION');

    // Act / Assert
    preparing.expectRefused(OWNER, { type: 'startConstruction', date: '2025-06-01' }, 'GATE_NOT_MET');
    building.expectRefused(OWNER, payment(ESTIMATE + 1), 'OVER_ESTIMATE');
  });

  it('validateAction accepts a valid action without changing the state', () => {
    // Arrange
    const h = projectAt('DEPT_SCREENING');
    const before = structuredClone(h.s);
    const req = h.request(NDRC, {
      type: 'decideReview',
      taskId: h.task('R1-T1-ndrc').id,
      decision: 'PASS',
      opinion: '同意',
    });

    // Act
    validateAction(h.s, policy, req, T0 + 10 * HOUR);

    // Assert
    expect(h.s).toStrictEqual(before);
  });

  it('validateAction leaves even a stage-changing action unapplied', () => {
    // Arrange
    const h = projectAt('PRE_CONSTRUCTION');
    h.completeStep('CONSTRUCTION_PERMIT');
    h.completeStep('STABILITY_RISK_ASSESSMENT');
    h.confirmFunding();
    const before = structuredClone(h.s);

    // Act
    validateAction(h.s, policy, h.request(OWNER, { type: 'startConstruction', date: '2025-06-01' }), h.now);

    // Assert
    expect(h.s).toStrictEqual(before);
    expect(h.s.stage).toBe('PRE_CONSTRUCTION');
  });
});

// ------------------------------------------------------------------------------------------- idempotency

describe('idempotency', () => {
  it('answers a repeated request id with the first result and records nothing new', () => {
    // Arrange
    const h = new Harness();
    const req = h.request(OWNER, { type: 'submit' }, 'submit-once');
    const first = h.send(req);
    const seq = h.s.seq;
    const events = h.s.outbox.events.length;
    const processed = h.s.processed.length;
    const tasks = structuredClone(h.s.tasks);

    // Act
    const second = h.send(req);

    // Assert
    expect(second).toEqual(first);
    expect(h.s.seq).toBe(seq);
    expect(h.s.outbox.events).toHaveLength(events);
    expect(h.s.processed).toHaveLength(processed);
    expect(h.s.tasks).toStrictEqual(tasks);
    expect(h.s.round).toBe(1);
  });

  it('does not refuse a repeat in validateAction although the action would now be in the wrong stage', () => {
    // Arrange
    const h = new Harness();
    const req = h.request(OWNER, { type: 'submit' }, 'submit-once');
    h.send(req);

    // Act / Assert
    expect(() => validateAction(h.s, policy, req, h.now + HOUR)).not.toThrow();
    expect(h.refusal(OWNER, { type: 'submit' }).type).toBe('WRONG_STAGE'); // a new request id is refused
  });

  it('answers a repeated payment once, so the amount is not paid twice', () => {
    // Arrange
    const h = projectAt('UNDER_CONSTRUCTION');
    const req = h.request(OWNER, payment(100_000_000), 'pay-1');

    // Act
    const first = h.send(req);
    const second = h.send(req);

    // Assert
    expect(second).toEqual(first);
    expect(h.s.cumulativePaidYuan).toBe(100_000_000);
    expect(h.s.payments).toHaveLength(1);
  });

  it('keeps at most PROCESSED_REQUEST_LIMIT request ids, dropping the oldest first', () => {
    // Arrange
    const h = projectAt('UNDER_CONSTRUCTION');
    const total = PROCESSED_REQUEST_LIMIT + 20;

    // Act
    for (let i = 0; i < total; i++) h.act(OWNER, payment(1), `pay-${i}`);

    // Assert
    expect(h.s.processed).toHaveLength(PROCESSED_REQUEST_LIMIT);
    expect(h.s.processed[0]!.requestId).toBe(`pay-${total - PROCESSED_REQUEST_LIMIT}`);
    expect(h.s.processed.at(-1)!.requestId).toBe(`pay-${total - 1}`);
    expect(h.s.processed.some((p) => p.requestId === 'pay-0')).toBe(false);
    expect(h.s.cumulativePaidYuan).toBe(total);
  });
});

// ---------------------------------------------------------------------------------------------- events

describe('events', () => {
  it('carry a strictly increasing seq from 1, matching state.seq and each result', () => {
    // Arrange / Act
    const h = projectAt('COMPLETED');

    // Assert
    const seqs = h.s.outbox.events.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(h.s.seq).toBe(seqs.length);
    for (const p of h.s.processed) {
      expect(h.s.outbox.events.find((e) => e.seq === p.result.seq)?.requestId).toBe(p.requestId);
    }
  });

  it('carry the actor, request id, stage before the action and the stage after', () => {
    // Arrange
    const h = projectAt('DEPT_SCREENING');
    h.decide(h.task('R1-T1-ndrc'), 'PASS');
    h.decide(h.task('R1-T1-finance'), 'PASS');
    h.decide(h.task('R1-T1-approval-bureau'), 'PASS');
    h.decide(h.task('R1-T1-natural-resources'), 'PASS');
    const seqBefore = h.s.seq;
    const req = h.request(HOUSING, {
      type: 'decideReview',
      taskId: h.task('R1-T1-housing').id,
      decision: 'PASS',
      opinion: '同意',
    });

    // Act
    const result = h.send(req);

    // Assert
    const emitted = h.s.outbox.events.filter((e) => e.seq > seqBefore);
    expect(emitted.map((e) => e.type)).toEqual(['REVIEW_DECIDED', 'TASK_OPENED']);
    for (const e of emitted) {
      expect(e).toMatchObject({
        actor: HOUSING,
        requestId: req.requestId,
        stageBefore: 'DEPT_SCREENING',
        at: h.now,
      });
    }
    expect(emitted.at(-1)!.stageAfter).toBe('SPECIALIST_REVIEW');
    expect(result).toEqual({
      projectId: 'p-1',
      stage: 'SPECIALIST_REVIEW',
      seq: h.s.seq,
      message: 'department screening passed; specialist review opened',
      taskId: 'p-1~R1-T1-housing',
      detailsVersion: 1,
    });
  });

  it('record for every action of the full path its request id, its actor and the stage it started from', () => {
    // Arrange / Act
    const h = projectAt('COMPLETED');

    // Assert
    const byRequest = new Map<string, typeof h.s.outbox.events>();
    for (const e of h.s.outbox.events.slice(1)) {
      expect(e.requestId).toEqual(expect.any(String));
      expect(e.actor).toEqual(expect.objectContaining({ org: expect.any(String) as string }));
      byRequest.set(e.requestId!, [...(byRequest.get(e.requestId!) ?? []), e]);
    }
    for (const events of byRequest.values()) {
      expect(new Set(events.map((e) => e.stageBefore)).size).toBe(1);
      expect(new Set(events.map((e) => e.actor?.userId)).size).toBe(1);
    }
    const last = h.s.outbox.events.at(-1)!;
    expect(last).toMatchObject({
      type: 'COMPLETION_ACCEPTED',
      stageBefore: 'UNDER_CONSTRUCTION',
      stageAfter: 'COMPLETED',
    });
  });

  it('mark tasks that changed for the read model', () => {
    // Arrange
    const h = projectAt('DEPT_SCREENING');

    // Assert
    expect(h.s.outbox.taskIds).toEqual(h.s.tasks.map((t) => t.id));
  });
});

// ----------------------------------------------------------------------------------------------- money

describe('money stays integer', () => {
  it('computes basis points exactly, rounding half up', () => {
    expect(basisPoints(700_000_000_000, 700_000_000_000)).toBe(10_000);
    expect(basisPoints(350_000_000_000, 700_000_000_000)).toBe(5_000);
    expect(basisPoints(699_999_999_999, 700_000_000_000)).toBe(10_000);
    expect(basisPoints(35_000_000, 700_000_000_000)).toBe(1); // exactly half a basis point
    expect(basisPoints(34_999_999, 700_000_000_000)).toBe(0); // just under half
    expect(basisPoints(1, 3)).toBe(3_333);
    expect(basisPoints(2, 3)).toBe(6_667);
    expect(basisPoints(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)).toBe(10_000);
    expect(basisPoints(5, 0)).toBe(0);
  });

  it('keeps reports and payments exact for a 7000亿元 project', () => {
    // Arrange: 700,000,000,000 元 total, 100,000,000,000 元 annual plan, estimate equal to the total
    const details = projectDetails({ totalInvestmentYuan: 700_000_000_000, annualPlanYuan: 100_000_000_000 });
    const h = projectAt('PRE_CONSTRUCTION', details);
    h.completeStep('PRELIMINARY_DESIGN', { approvedEstimateYuan: 700_000_000_000 });
    h.completeStep('CONSTRUCTION_PERMIT');
    h.completeStep('STABILITY_RISK_ASSESSMENT');
    h.confirmFunding(700_000_000_000);
    h.start();

    // Act
    h.report('2025-06', 33_333_333_333, 350_000_000_001);
    h.report('2025-07', 66_666_666_667, 700_000_000_000);
    h.pay(699_999_999_999);
    h.pay(1);

    // Assert
    expect(
      h.s.reports.map((r) => [r.monthInvestmentYuan, r.investmentCompletionBp, r.cumulativeShareBp]),
    ).toEqual([
      [33_333_333_333, 3_333, 5_000],
      [33_333_333_334, 6_667, 10_000],
    ]);
    expect(h.s.reports.every((r) => Number.isInteger(r.investmentCompletionBp))).toBe(true);
    expect(h.s.cumulativePaidYuan).toBe(700_000_000_000);
    h.expectRefused(OWNER, payment(1), 'OVER_ESTIMATE');
  });

  it.each([
    ['year-to-date', progress('2025-06', 1.5, 2)],
    ['cumulative', progress('2025-06', 1, 2.25)],
    ['funds received', { ...progress('2025-06', 1, 2), fundsReceivedYuan: 0.1 }],
  ])('refuses a fractional %s amount in a report', (_label, action) => {
    // Arrange
    const h = projectAt('UNDER_CONSTRUCTION');

    // Act / Assert
    h.expectRefused(OWNER, action, 'INVALID_DATA');
  });

  it('refuses a fractional funding amount', () => {
    // Arrange
    const h = projectAt('PRE_CONSTRUCTION');

    // Act / Assert
    const err = h.expectRefused(
      FINANCE,
      {
        type: 'confirmFunding',
        amountYuan: 1_000_000.01,
        documentNumber: '临财建〔2025〕8号',
        date: '2025-05-06',
      },
      'INVALID_DATA',
    );
    expect(err.details).toEqual({ field: 'amountYuan' });
  });
});
