import type { Express } from 'express';
import { CREATE_PROJECT_EXAMPLES, EXAMPLES } from '../../api/schemas';
import { eventually, startTestSystem, type TestSystem } from '../support/harness';
import { testApp } from '../support/api';
import { httpAs } from '../support/http';

let sys: TestSystem;
let app: Express;

beforeAll(async () => {
  sys = await startTestSystem();
  app = testApp(sys);
});
afterAll(async () => {
  await sys?.close();
});

const OFFICE = 'project-center/supervisor';
const OWNER = 'yaodu/applicant';

const { post, get } = httpAs(() => app);

type Body = Record<string, unknown> & { onboarding: Record<string, unknown>; flags: Record<string, boolean> };
const preConstruction = (over: Record<string, unknown> = {}): Body =>
  ({ ...JSON.parse(JSON.stringify(CREATE_PROJECT_EXAMPLES.preConstruction.value)), ...over }) as Body;

/** Completes an open pre-construction step by its assignee, through the API. */
async function completeStep(id: string, key: string): Promise<void> {
  const task = (await sys.projects.query(id)).tasks.find((t) => t.key === `S-${key}` && t.status === 'OPEN');
  if (!task) throw new Error(`no open step ${key}`);
  const who = task.assigneeOrg === 'yaodu' ? OWNER : `${task.assigneeOrg}/reviewer`;
  const res = await post(who, `/tasks/${task.id}/complete`, EXAMPLES.completeTask);
  expect(res.status).toBe(200);
}

async function onboard(body: Body): Promise<string> {
  const res = await post(OFFICE, '/projects', body);
  expect({ status: res.status, detail: res.body.detail as unknown }).toMatchObject({ status: 201 });
  return res.body.projectId as string;
}

describe('the start gate as the seed states it', () => {
  test('a start is refused without funds in place, and starts once funds are confirmed and the responsible department has checked it', async () => {
    // Arrange
    const id = await onboard(preConstruction({ name: '开工核查：缺资金' }));
    await completeStep(id, 'STABILITY_RISK_ASSESSMENT');
    await completeStep(id, 'CONSTRUCTION_PERMIT');

    // Act
    const refused = await post(OWNER, `/projects/${id}/start`, EXAMPLES.start);
    await post('finance/reviewer', `/projects/${id}/funding`, EXAMPLES.funding);
    const applied = await post(OWNER, `/projects/${id}/start`, EXAMPLES.start);
    const byOwner = await post(
      OWNER,
      `/tasks/${applied.body.taskId as string}/start-check`,
      EXAMPLES.startCheck,
    );
    const checked = await post(
      'housing/reviewer',
      `/tasks/${applied.body.taskId as string}/start-check`,
      EXAMPLES.startCheck,
    );

    // Assert
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      type: 'https://project-pipeline.dev/problems/gate-not-met',
      missing: ['construction funds in place (建设资金落实)'],
    });
    expect(applied.status).toBe(200);
    expect(byOwner.status).toBe(403); // the owner has no reviewer role: the check is another organisation's
    expect(checked.status).toBe(200);
    const live = await sys.projects.query(id);
    expect(live.stage).toBe('UNDER_CONSTRUCTION');
    expect(live.start).toMatchObject({
      basis: 'PERMIT_AND_FUNDING',
      appliedBy: { org: 'yaodu' },
      checkedBy: { org: 'housing' },
    });
  });

  test('a procurement-type project starts on its signed contract, and only with funds in place', async () => {
    // Arrange
    const id = await onboard(preConstruction({ name: '采购类项目开工', procurementOnly: true }));
    expect((await sys.projects.query(id)).tasks.some((t) => t.key === 'S-CONSTRUCTION_PERMIT')).toBe(false);
    await completeStep(id, 'STABILITY_RISK_ASSESSMENT');
    await completeStep(id, 'PROCUREMENT_CONTRACT');

    // Act
    const withoutFunds = await post(OWNER, `/projects/${id}/start`, EXAMPLES.start);
    await post('finance/reviewer', `/projects/${id}/funding`, EXAMPLES.funding);
    const applied = await post(OWNER, `/projects/${id}/start`, EXAMPLES.start);
    await post(
      'housing/reviewer',
      `/tasks/${applied.body.taskId as string}/start-check`,
      EXAMPLES.startCheck,
    );

    // Assert
    expect(withoutFunds.body.missing).toEqual(['construction funds in place (建设资金落实)']);
    expect((await sys.projects.query(id)).start).toMatchObject({ basis: 'PROCUREMENT_CONTRACT' });
  });

  test('an emergency project is excepted only with the exception approved by the organisation the policy names, and the record says who', async () => {
    // Arrange
    const body = preConstruction({ name: '应急抢险工程' });
    body.flags = { ...body.flags, emergency: true };
    const id = await onboard(body);
    await completeStep(id, 'STABILITY_RISK_ASSESSMENT');

    // Act
    const typed = await post(OWNER, `/projects/${id}/start`, {
      ...EXAMPLES.start,
      emergencyOverride: { reason: '自行决定', approver: '我' },
    });
    const before = await post(OWNER, `/projects/${id}/start`, EXAMPLES.start);
    const bySpecialGroup = await post(
      'sg-urban/leader',
      `/projects/${id}/start-exception`,
      EXAMPLES.startException,
    );
    const approved = await post(
      'leading-group/leader',
      `/projects/${id}/start-exception`,
      EXAMPLES.startException,
    );
    const applied = await post(OWNER, `/projects/${id}/start`, EXAMPLES.start);
    await post(
      'housing/reviewer',
      `/tasks/${applied.body.taskId as string}/start-check`,
      EXAMPLES.startCheck,
    );

    // Assert
    expect(typed.status).toBe(400); // an override typed in by the owner is not part of the request any more
    expect(before.status).toBe(409);
    expect(bySpecialGroup.status).toBe(403);
    expect(approved.status).toBe(200);
    expect((await sys.projects.query(id)).start).toMatchObject({
      basis: 'EMERGENCY_OVERRIDE',
      exception: { reason: EXAMPLES.startException.reason, approvedBy: { org: 'leading-group' } },
      checkedBy: { org: 'housing' },
    });
  });
});

describe('funding sources and the 资金争取 ranking', () => {
  test('a 专项债 issued counts in the securing department’s 资金争取; the owner’s own money does not', async () => {
    // Arrange
    const id = await onboard({
      ...(JSON.parse(JSON.stringify(CREATE_PROJECT_EXAMPLES.underConstruction.value)) as Body),
      name: '资金争取统计项目',
    });
    const month = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);

    // Act
    const bond = await post('ndrc/reviewer', `/projects/${id}/funding-sources`, {
      sourceType: 'SPECIAL_BONDS',
      state: 'ISSUED',
      amountYuan: 80_000_000,
      date: month,
      documentNumber: '晋财债〔2026〕15号',
    });
    const own = await post(OWNER, `/projects/${id}/funding-sources`, {
      sourceType: 'OWN_FUNDS',
      state: 'IN_PLACE',
      amountYuan: 30_000_000,
      date: month,
    });
    const ownCredited = await post(OWNER, `/projects/${id}/funding-sources`, {
      sourceType: 'OWN_FUNDS',
      state: 'IN_PLACE',
      amountYuan: 1,
      date: month,
      securedBy: 'ndrc',
    });
    const inPlace = await post('finance/reviewer', `/projects/${id}/funding-sources`, {
      sourceId: 'F1',
      state: 'IN_PLACE',
      amountYuan: 80_000_000,
      date: month,
    });

    // Assert: recorded with their states and who secured them
    expect([bond.status, own.status, ownCredited.status, inPlace.status]).toEqual([200, 200, 422, 200]);
    const sources = (await sys.projects.query(id)).fundingSources!;
    expect(
      sources.map((f) => [f.id, f.sourceType, f.securedBy ?? null, f.states.map((x) => x.state)]),
    ).toEqual([
      ['F1', 'SPECIAL_BONDS', 'ndrc', ['ISSUED', 'IN_PLACE']],
      ['F2', 'OWN_FUNDS', null, ['IN_PLACE']],
    ]);

    // The month's rankings credit 市发改委 with the bond and nobody with the owner's money.
    await eventually(
      () => sys.models.Project.findById(id).lean(),
      (d) => ((d?.state as { fundingSources?: unknown[] }).fundingSources ?? []).length === 2,
    );
    const period = month.slice(0, 7);
    const run = await post('leading-group/leader', '/reports/run', { kind: 'MONTHLY_DISPATCH', period });
    expect(run.status).toBeLessThan(300);
    const report = await eventually(
      () => get(OFFICE, `/reports/MONTHLY_DISPATCH:${period}`),
      (r) => r.status === 200,
      60_000,
    );
    const departments = report.body.report.rankings.departments as {
      orgId: string;
      fundsSecured: { yuan: number };
    }[];
    expect(departments.find((d) => d.orgId === 'ndrc')?.fundsSecured.yuan).toBe(80_000_000);
    const counties = report.body.report.rankings.counties as {
      orgId: string;
      fundsSecured: { yuan: number };
    }[];
    expect(counties.find((c) => c.orgId === 'yaodu')?.fundsSecured.yuan ?? 0).toBe(0);
  });

  test('a private project without a 概算批复 pays against its total investment', async () => {
    // Arrange: a private project under construction, entered without an estimate
    const body = JSON.parse(JSON.stringify(CREATE_PROJECT_EXAMPLES.underConstruction.value)) as Body;
    body.name = '民间投资项目支付上限';
    body.investorType = 'PRIVATE';
    body.flags = { ...body.flags, governmentInvested: false };
    delete body.onboarding.approvedEstimateYuan;
    body.onboarding.approvals = (body.onboarding.approvals as { matter: string }[]).filter(
      (a) => a.matter !== 'PROJECT_PROPOSAL',
    );
    const id = await onboard(body);
    const total = body.totalInvestmentYuan as number;
    const paid = (body.onboarding.investmentToDate as { cumulativePaidYuan: number }).cumulativePaidYuan;

    // Act
    const over = await post(OWNER, `/projects/${id}/payments`, {
      ...EXAMPLES.payment,
      amountYuan: total - paid + 1,
    });
    const within = await post(OWNER, `/projects/${id}/payments`, {
      ...EXAMPLES.payment,
      amountYuan: total - paid,
    });

    // Assert
    expect(over.status).toBe(422);
    expect(over.body).toMatchObject({ totalInvestmentYuan: total });
    expect(within.status).toBe(200);
  });
});

test('key status is not declared by the applicant: 市级重点 comes from tiers 2–3, 省级重点 from 市发改委', async () => {
  const declared = await post(OWNER, '/projects', {
    ...CREATE_PROJECT_EXAMPLES.draft.value,
    name: '自称重点项目',
    flags: { ...CREATE_PROJECT_EXAMPLES.draft.value.flags, cityKey: true, provincialKey: true },
  });
  expect(declared.status).toBe(422);
  expect((declared.body.errors as { path: string }[]).map((e) => e.path)).toEqual([
    'flags.cityKey',
    'flags.provincialKey',
  ]);

  const created = await post(OWNER, '/projects', {
    ...CREATE_PROJECT_EXAMPLES.draft.value,
    name: '省级重点项目',
  });
  const id = created.body.projectId as string;
  expect((await post(OWNER, `/projects/${id}/provincial-key`, EXAMPLES.provincialKey)).status).toBe(403);
  expect((await post('ndrc/reviewer', `/projects/${id}/provincial-key`, EXAMPLES.provincialKey)).status).toBe(
    200,
  );
  expect((await sys.projects.query(id)).details.flags.provincialKey).toBe(true);
});
