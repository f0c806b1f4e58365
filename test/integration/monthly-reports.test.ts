import request from 'supertest';
import type { Express } from 'express';
import { CREATE_PROJECT_EXAMPLES } from '../../api/schemas';
import { addMonths } from '../../domain/monthly-reports';
import { eventually, startTestSystem, type TestSystem } from '../support/harness';
import { secondsPolicy } from '../support/policies';
import { testApp, token } from '../support/api';

let sys: TestSystem;
let app: Express;

/**
 * Each "month" of the report obligation lasts this long: a project's first REPORT task opens one cycle after it
 * is onboarded and is due one cycle later. The seconds policy reminds 4, 2 and 0 s before the deadline and
 * escalates L1..L4 at 1..4 s overdue, so the whole ladder of the first month runs before the second month's
 * report falls due. Every other task of these projects is due in 600 s, out of this test's way.
 */
const CYCLE_SECONDS = 10;

beforeAll(async () => {
  const policy = secondsPolicy(600);
  policy.implementation.monthlyReportCycleSeconds = CYCLE_SECONDS;
  sys = await startTestSystem({ policy });
  app = testApp(sys);
});
afterAll(async () => {
  await sys?.close();
});

async function auth(who: string): Promise<string> {
  const [org, role] = who.split('/') as [string, string];
  return `Bearer ${await token(`${org}-${role}-user`, org, role)}`;
}
async function post(who: string, path: string, body: unknown) {
  return request(app)
    .post(`/api/v1${path}`)
    .set('Authorization', await auth(who))
    .send(body as object);
}
async function get(who: string, path: string) {
  return request(app)
    .get(`/api/v1${path}`)
    .set('Authorization', await auth(who));
}

interface TrailEvent {
  type: string;
  data?: { taskId?: string; kind?: string; level?: number; reminder?: number; late?: boolean };
}
interface Owed {
  name: string;
  owner: string;
  id: string;
  reportTask: string;
  period: string;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Onboards a project by the pipeline office at `stage`, owned by its county. */
async function onboard(
  name: string,
  stage: 'preConstruction' | 'underConstruction',
  county: string,
  dept: string,
): Promise<Owed> {
  const body = { ...clone(CREATE_PROJECT_EXAMPLES[stage].value), name, county, responsibleDept: dept };
  const res = await post('project-center/supervisor', '/projects', { ...body, ownerOrg: county });
  expect(res.status).toBe(201);
  return {
    name,
    owner: `${county}/applicant`,
    id: res.body.projectId as string,
    reportTask: '',
    period: '',
  };
}

async function trail(p: Owed): Promise<TrailEvent[]> {
  const res = await get(p.owner, `/projects/${p.id}/events`);
  expect(res.status).toBe(200);
  return res.body.events as TrailEvent[];
}

/** Waits until the project's trail holds an event that satisfies `ok` (the read model follows the workflow). */
async function waitFor(p: Owed, ok: (e: TrailEvent) => boolean, timeoutMs = 60_000): Promise<TrailEvent[]> {
  return eventually(
    () => trail(p),
    (events) => events.some(ok),
    timeoutMs,
  );
}

const ofTask = (p: Owed) => (e: TrailEvent) => e.data?.taskId === p.reportTask;
const reminders = (events: TrailEvent[], p: Owed) =>
  events.filter((e) => e.type === 'REMINDER_SENT' && ofTask(p)(e)).map((e) => e.data!.reminder);
const escalations = (events: TrailEvent[], p: Owed) =>
  events.filter((e) => e.type === 'ESCALATED' && ofTask(p)(e)).map((e) => e.data!.level);

function progress(period: string) {
  // Above the investment entered at onboarding (190,000,000 元 cumulative for the 续建 example).
  return {
    period,
    ytdInvestmentYuan: 10_000_000,
    cumulativeInvestmentYuan: 200_000_000,
    fundsReceivedYuan: 5_000_000,
    physicalProgress: '本月完成主体结构施工',
  };
}

type Counts = { owed: number; onTime: number; late: number; missed: number };

test('a month in which one project reports on time, one late and two never: the trails, the dispatch’s missing list and the rankings agree', async () => {
  // Arrange: four projects in 前期/实施 across three counties and three departments, onboarded together.
  const onTime = await onboard('按时报送月报项目', 'underConstruction', 'yaodu', 'housing');
  const late = await onboard('逾期报送月报项目', 'preConstruction', 'houma', 'transport');
  const never1 = await onboard('未报月报项目甲', 'underConstruction', 'huozhou', 'transport');
  const never2 = await onboard('未报月报项目乙', 'underConstruction', 'huozhou', 'water');
  const all = [onTime, late, never1, never2];
  // The first month's report task opens one cycle after onboarding, for the owner.
  for (const p of all) {
    const events = await waitFor(p, (e) => e.type === 'TASK_OPENED' && e.data?.kind === 'REPORT');
    p.reportTask = events.find((e) => e.type === 'TASK_OPENED' && e.data?.kind === 'REPORT')!.data!.taskId!;
    p.period = /REPORT-(\d{4}-\d{2})$/.exec(p.reportTask)![1]!;
  }
  const period = onTime.period;
  expect(all.map((p) => p.period)).toEqual([period, period, period, period]);

  // Act: the first owner files once reminded, before the deadline; the second only after two escalations;
  // the other two never file.
  await waitFor(onTime, (e) => e.type === 'REMINDER_SENT' && ofTask(onTime)(e));
  const filedOnTime = await post(onTime.owner, `/projects/${onTime.id}/progress-reports`, progress(period));
  await waitFor(late, (e) => e.type === 'ESCALATED' && ofTask(late)(e) && e.data!.level! >= 2);
  const filedLate = await post(late.owner, `/projects/${late.id}/progress-reports`, progress(period));
  for (const p of [never1, never2])
    await waitFor(p, (e) => e.type === 'ESCALATED' && ofTask(p)(e) && e.data!.level === 4);

  // Assert: the filings answer on time and late, and the reports and their tasks keep it.
  expect(filedOnTime.status).toBe(200);
  expect(filedOnTime.body.message).toBe(`progress for ${period} recorded`);
  expect(filedLate.status).toBe(200);
  expect(filedLate.body.message).toBe(`progress for ${period} recorded (late)`);
  for (const [p, wasLate] of [
    [onTime, false],
    [late, true],
  ] as const) {
    const view = await eventually(
      () => get(p.owner, `/projects/${p.id}`),
      (r) => ((r.body.state?.reports as unknown[]) ?? []).length === 1,
    );
    expect(view.body.state.reports[0]).toMatchObject({ period, late: wasLate });
    const live = await sys.projects.query(p.id);
    expect(live.tasks.find((t) => t.id === p.reportTask)).toMatchObject({
      status: 'DONE',
      result: { period, late: wasLate },
    });
  }

  // The trails: the on-time project was reminded and never escalated; the late one was reminded three times
  // and escalated level by level from L1 until it filed (at least to L2), none after; the others climbed the
  // whole ladder.
  const onTimeTrail = await trail(onTime);
  expect(reminders(onTimeTrail, onTime).length).toBeGreaterThanOrEqual(1);
  expect(reminders(onTimeTrail, onTime)).toEqual([1, 2, 3].slice(0, reminders(onTimeTrail, onTime).length));
  expect(escalations(onTimeTrail, onTime)).toEqual([]);
  expect(onTimeTrail.filter((e) => e.type === 'PROGRESS_REPORTED').map((e) => e.data?.late)).toEqual([false]);

  const lateTrail = await trail(late);
  expect(reminders(lateTrail, late)).toEqual([1, 2, 3]);
  const lateLevels = escalations(lateTrail, late);
  expect(lateLevels.length).toBeGreaterThanOrEqual(2);
  expect(lateLevels).toEqual([1, 2, 3, 4].slice(0, lateLevels.length));
  expect(lateTrail.filter((e) => e.type === 'PROGRESS_REPORTED').map((e) => e.data?.late)).toEqual([true]);
  const filedAt = lateTrail.findIndex((e) => e.type === 'PROGRESS_REPORTED');
  expect(lateTrail.slice(filedAt).some((e) => ofTask(late)(e) && e.type === 'ESCALATED')).toBe(false);

  for (const p of [never1, never2]) {
    const t = await trail(p);
    expect(reminders(t, p)).toEqual([1, 2, 3]);
    expect(escalations(t, p)).toEqual([1, 2, 3, 4]);
    expect(t.some((e) => e.type === 'PROGRESS_REPORTED')).toBe(false);
  }

  // The supervision reports, run through the API now. The period's label is the Shanghai month the projects
  // were onboarded in, so its report "falls due" in the following month, and the dispatch of that month is the
  // one that lists it. Compressed time makes it fall due seconds after onboarding instead; the reports take
  // each report's due instant from the deadline of its REPORT task (not the policy's day of the month), so at
  // this as-of instant (now) every one of these reports has truly fallen due and nothing is counted early.
  const dispatchPeriod = addMonths(period, 1);
  const run = await post('leading-group/leader', '/reports/run', {
    kind: 'MONTHLY_DISPATCH',
    period: dispatchPeriod,
  });
  expect(run.status).toBe(202);
  const snapshot = await eventually(
    () => get('project-center/supervisor', `/reports/${run.body.snapshotId as string}`),
    (r) => r.status === 200,
    30_000,
  );
  const report = snapshot.body.report as {
    dispatch: {
      missingReports: {
        period: string;
        owed: number;
        missing: { projectId: string; countyName: string; responsibleDeptName: string; period: string }[];
        byCounty: { orgId: string; name: string; missing: number }[];
        byDepartment: { orgId: string; name: string; missing: number }[];
      };
    };
    rankings: {
      departments: { orgId: string; monthlyReports: Counts }[];
      counties: { orgId: string; monthlyReports: Counts }[];
    };
  };

  // The dispatch lists exactly the two projects that never filed, by county and by department.
  const missing = report.dispatch.missingReports;
  expect(missing).toMatchObject({ period, owed: 4 });
  expect(missing.missing.map((m) => m.projectId).sort()).toEqual([never1.id, never2.id].sort());
  expect(missing.missing.every((m) => m.period === period && m.countyName === '霍州市')).toBe(true);
  expect(missing.byCounty).toEqual([{ orgId: 'huozhou', name: '霍州市', missing: 2 }]);
  expect(missing.byDepartment).toEqual([
    { orgId: 'transport', name: '市交通运输局', missing: 1 },
    { orgId: 'water', name: '市水利局', missing: 1 },
  ]);

  // The rankings count the same filings per unit.
  const counts = (rows: { orgId: string; monthlyReports: Counts }[]) =>
    Object.fromEntries(rows.map((r) => [r.orgId, r.monthlyReports]));
  expect(counts(report.rankings.departments)).toEqual({
    housing: { owed: 1, onTime: 1, late: 0, missed: 0 },
    transport: { owed: 2, onTime: 0, late: 1, missed: 1 },
    water: { owed: 1, onTime: 0, late: 0, missed: 1 },
  });
  expect(counts(report.rankings.counties)).toEqual({
    yaodu: { owed: 1, onTime: 1, late: 0, missed: 0 },
    houma: { owed: 1, onTime: 0, late: 1, missed: 0 },
    huozhou: { owed: 2, onTime: 0, late: 0, missed: 2 },
  });

  // The dispatch's download carries the missing list as its own section.
  const csv = await get(
    'project-center/supervisor',
    `/reports/${run.body.snapshotId as string}?format=csv&table=dispatch`,
  );
  expect(csv.status).toBe(200);
  const section = csv.text.split('\r\n\r\n').find((b) => b.startsWith('未报月报\r\n'))!;
  const rows = section.split('\r\n').slice(2);
  expect(rows.map((r) => r.split(',')[1]).sort()).toEqual([never1.name, never2.name].sort());
});
