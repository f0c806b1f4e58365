import request from 'supertest';
import type { Express } from 'express';
import { defaultPayloadConverter } from '@temporalio/common';
import { projectWorkflowId } from '../../domain/project';
import type { PolicyRule } from '../../policy/sources';
import type { ProjectLifecycleInput } from '../../workflows/messages';
import { startTestSystem, type TestSystem } from '../support/harness';
import { LifecycleDriver } from '../support/lifecycle-driver';
import { testApp, token } from '../support/api';

let sys: TestSystem;
let app: Express;

beforeAll(async () => {
  sys = await startTestSystem();
  app = testApp(sys);
});
afterAll(async () => {
  await sys?.close();
});

test('GET /policy returns the policy with the source of each rule, and a flat list of the rules', async () => {
  // Arrange
  const auth = `Bearer ${await token('county-applicant', 'houma', 'applicant')}`;

  // Act
  const res = await request(app).get('/api/v1/policy').set('Authorization', auth);

  // Assert
  expect(res.status).toBe(200);
  expect(res.body.version).toBe(sys.policy.version);
  expect(res.body.sources['reserve.matters.EIA.deadline']).toEqual({
    source: 'law',
    law: '《中华人民共和国环境影响评价法》第二十二条',
    note: expect.any(String),
  });
  expect(res.body.supervision.dispatch).toEqual({ day: 'LAST_WORKING_DAY', hour: 16 });
  const rules = new Map((res.body.rules as PolicyRule[]).map((r) => [r.path, r]));
  expect(rules.get('time.escalation.3.after')).toMatchObject({
    value: { workingDays: 5 },
    source: 'default',
  });
  expect(rules.get('reporting.targets.planningPool.minInvestmentYi')).toMatchObject({
    value: 7000,
    source: 'seed',
  });
  expect(rules.get('supervision.dispatch.day')).toMatchObject({ value: 'LAST_WORKING_DAY', source: 'seed' });
  expect(rules.get('formulas.timeElapsed')).toMatchObject({ source: 'default' });
  expect([...rules.values()].filter((r) => r.source === 'unmarked')).toEqual([]);
});

test('a project’s workflow receives the policy without its sources', async () => {
  // Arrange
  const id = await new LifecycleDriver(sys).create();

  // Act
  const history = await sys.client.workflow.getHandle(projectWorkflowId(id)).fetchHistory();

  // Assert
  const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
  const input = defaultPayloadConverter.fromPayload<ProjectLifecycleInput>(started.input!.payloads![0]!);
  expect(input.policy.version).toBe(sys.policy.version);
  expect(input.policy.reserve).toEqual(sys.policy.reserve);
  expect(input.policy).not.toHaveProperty('sources');
});
