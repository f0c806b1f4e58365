/**
 * Records the histories of key lifecycle paths as replay fixtures (test/fixtures/histories/<release>/).
 * Run after a release, before changing workflow code:  npm run record:histories -- <release-name> [--only notifications]
 * Fixtures from older releases stay, so the replay test proves new code still replays them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { CREATE_PROJECT_EXAMPLES } from '../../api/schemas';
import type { OnboardingFacts } from '../../domain/onboarding';
import type { ProjectDetails } from '../../domain/project';
import globalSetup from '../support/global-setup';
import globalTeardown from '../support/global-teardown';
import { eventually, startTestSystem } from '../support/harness';
import { secondsPolicy } from '../support/policies';
import { LifecycleDriver } from '../support/lifecycle-driver';
import { actor } from '../support/fixtures';
import { projectWorkflowId } from '../../domain/project';
import { blockerWorkflowId } from '../../domain/blockers';
import { readToolPaths, repoRoot } from '../../infra/local-stack';
import { stackEnv } from '../support/harness';
import { WebhookReceiver } from '../support/receivers';
import { createNotificationActivities } from '../../activities/notifications';
import { createNotificationModels, setOrgChannels } from '../../db/notification-models';
import { dispatcherWorkflowId } from '../../worker/create-worker';

async function main(): Promise<void> {
  const release = process.argv[2];
  if (!release || !/^[a-z0-9.-]+$/.test(release))
    throw new Error('usage: record-histories <release-name> [--only notifications]');
  const onlyNotifications = process.argv.slice(3).join(' ') === '--only notifications';
  await globalSetup();
  const temporalCli = readToolPaths(path.join(repoRoot(), 'data', 'tools.json')).temporal;
  const sys = await startTestSystem({ dispatcher: { runForMs: 1_500 } });
  const d = new LifecycleDriver(sys);
  const owner = actor('yaodu', 'applicant');
  const scenarios: Record<string, string> = {};
  const clientOf: Record<string, typeof sys> = {};
  const childWorkflows: Record<string, string[]> = {};
  const systems = [sys];
  const workflowIds: Record<string, string> = {};
  try {
    // Notification delivery: the dispatcher delivers one notification refused twice then sent, and one refused
    // for good (HTTP 404); its runs end every second and a half so the history holds finished activities.
    const receiver = new WebhookReceiver('replay-fixture-secret');
    const port = await receiver.listen();
    const notificationModels = createNotificationModels(sys.mongo);
    const notify = createNotificationActivities({
      models: notificationModels,
      client: sys.client,
      taskQueue: sys.taskQueue,
      smtp: { host: '127.0.0.1', port: 1, from: 'test <test@localhost>' },
    });
    await setOrgChannels(notificationModels, 'fgw', {
      webhooks: [{ url: `http://127.0.0.1:${port}/hook`, secret: 'replay-fixture-secret' }],
    });
    const enqueueGeneric = async (notificationKey: string, status: string): Promise<void> => {
      const { notifications } = await notify.enqueueNotifications({
        notificationKey,
        recipients: [{ org: 'fgw' }],
        template: 'GENERIC',
        payload: { subject: '重放', text: '重放测试' },
      });
      await eventually(
        () => notificationModels.Notification.findById(notifications[0]!.outboxId).lean(),
        (doc) => doc?.status === status,
        30_000,
      );
    };
    receiver.answer = 500;
    const retried = enqueueGeneric('replay:retried', 'SENT');
    await eventually(
      () => Promise.resolve(receiver.received.length),
      (n) => n >= 2,
    );
    receiver.answer = 200;
    await retried;
    receiver.answer = 404;
    await enqueueGeneric('replay:refused', 'FAILED');
    await new Promise((r) => setTimeout(r, 2_000)); // one more run of the dispatcher ends
    workflowIds['notification-dispatcher'] = dispatcherWorkflowId(sys.taskQueue);
    await receiver.close();
    for (const [name, workflowId] of Object.entries(workflowIds)) await record(sys, name, workflowId);
    if (onlyNotifications) return;

    const full = await d.create({}, { continueAsNewAtHistoryLength: 60 });
    await d.toPreConstruction(full);
    await d.completeOpenItems(full, 'STEP', 340_000_000);
    await d.act(full, actor('finance'), {
      type: 'confirmFunding',
      amountYuan: 340_000_000,
      documentNumber: 'F1',
      date: '2025-07-01',
    });
    await d.act(full, actor('ndrc'), {
      type: 'recordFundingSource',
      sourceType: 'SPECIAL_BONDS',
      state: 'ISSUED',
      amountYuan: 80_000_000,
      date: '2025-07-10',
    });
    await d.start(full, '2025-07-15');
    await d.act(full, owner, {
      type: 'recordProgress',
      period: '2025-07',
      ytdInvestmentYuan: 1,
      cumulativeInvestmentYuan: 1,
      fundsReceivedYuan: 1,
      physicalProgress: '开工',
    });
    await d.act(full, owner, { type: 'recordPayment', amountYuan: 1, date: '2025-07-31', basis: '进度款' });
    await d.act(full, actor('housing'), {
      type: 'acceptCompletion',
      documentNumber: 'C1',
      date: '2026-10-20',
    });
    scenarios['full-lifecycle-with-continue-as-new'] = full;

    const rejected = await d.create();
    await d.act(rejected, owner, { type: 'submit' });
    const t = await d.openTask(rejected, (x) => x.tier === 1);
    await d.act(rejected, actor(t.assigneeOrg), {
      type: 'decideReview',
      taskId: t.id,
      decision: 'REJECT',
      opinion: '不符合规划',
    });
    scenarios['rejected-at-tier-1'] = rejected;

    const returned = await d.create();
    await d.act(returned, owner, { type: 'submit' });
    const r = await d.openTask(returned, (x) => x.tier === 1);
    await d.act(returned, actor(r.assigneeOrg), {
      type: 'decideReview',
      taskId: r.id,
      decision: 'RETURN',
      opinion: '补充材料',
    });
    await d.act(returned, owner, { type: 'submit' });
    await d.act(returned, owner, { type: 'withdraw', reason: '项目调整' });
    scenarios['returned-resubmitted-withdrawn'] = returned;

    // Deadlines, reminders, escalation, an extension and a paused clock, on a policy in seconds.
    const timedSys = await startTestSystem({ policy: secondsPolicy(3) });
    systems.push(timedSys);
    const td = new LifecycleDriver(timedSys);
    const timed = await td.create();
    await td.act(timed, owner, { type: 'submit' });
    const [late, paused, ...rest] = await eventually(
      () => td.openTasks(timed, (x) => x.tier === 1),
      (ts) => ts.every((x) => x.deadline !== undefined),
    );
    await td.act(timed, actor(paused!.assigneeOrg), {
      type: 'pauseClock',
      taskId: paused!.id,
      reason: 'SUPPLEMENT',
    });
    await eventually(
      () => td.live(timed),
      (l) => (l.tasks.find((x) => x.id === late!.id)?.escalationLevel ?? 0) >= 2,
      30_000,
    );
    await td.act(timed, actor('sg-urban', 'leader'), {
      type: 'extendDeadline',
      taskId: late!.id,
      units: 5,
      reason: '顺延',
    });
    await td.act(timed, actor(paused!.assigneeOrg), { type: 'resumeClock', taskId: paused!.id });
    for (const x of [late!, paused!, ...rest]) {
      await td.act(timed, actor(x.assigneeOrg), {
        type: 'decideReview',
        taskId: x.id,
        decision: 'PASS',
        opinion: '同意',
      });
    }
    await td.act(timed, owner, { type: 'withdraw', reason: '项目调整' });
    scenarios['reminders-escalation-extension-pause'] = timed;
    clientOf[timed] = timedSys;

    // A blocker that escalates, is resolved, reopened, resolved again and closed; the project is withdrawn.
    const blocked = await td.create();
    await td.act(blocked, owner, { type: 'submit' });
    const raised = await td.act(blocked, owner, {
      type: 'raiseBlocker',
      category: 'LAND',
      level: 'CITY',
      responsibleOrg: 'natural-resources',
      description: '用地指标未落实',
    });
    const blockerId = raised.blockerId!;
    await eventually(
      () => timedSys.projects.queryBlocker(blockerId),
      (b) => b.escalationLevel >= 2,
      30_000,
    );
    const land = actor('natural-resources');
    await timedSys.projects.actOnBlocker(blockerId, 'b1', land, { type: 'resolveBlocker', note: '已协调' });
    await timedSys.projects.actOnBlocker(blockerId, 'b2', owner, { type: 'reopenBlocker', reason: '未落实' });
    await timedSys.projects.actOnBlocker(blockerId, 'b3', land, { type: 'resolveBlocker', note: '已落实' });
    await timedSys.projects.actOnBlocker(blockerId, 'b4', owner, { type: 'confirmBlockerClosure' });
    await eventually(
      () => td.live(blocked),
      (l) => l.blockers?.[0]?.status === 'CLOSED',
      30_000,
    );
    await td.act(blocked, owner, { type: 'withdraw', reason: '项目调整' });
    scenarios['blocker-escalated-reopened-closed'] = blocked;
    clientOf[blocked] = timedSys;
    childWorkflows['blocker-escalated-reopened-closed'] = [blockerWorkflowId(blockerId)];

    // A 续建 project onboarded under construction: its monthly reports fall due (compressed months), one is filed
    // late after an escalation, the next on time; then completion.
    const monthlyPolicy = secondsPolicy(3);
    monthlyPolicy.implementation.monthlyReportCycleSeconds = 4;
    const monthlySys = await startTestSystem({ policy: monthlyPolicy });
    systems.push(monthlySys);
    const office = actor('project-center', 'supervisor');
    const { onboarding, ownerOrg: _o, ...onboardedDetails } = CREATE_PROJECT_EXAMPLES.underConstruction.value;
    const monthly = `p${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    await monthlySys.projects.start(
      monthly,
      { ...onboardedDetails, flags: { ...onboardedDetails.flags }, ownerOrg: 'yaodu' } as ProjectDetails,
      office,
      { onboarding: JSON.parse(JSON.stringify(onboarding)) as OnboardingFacts },
    );
    const md = new LifecycleDriver(monthlySys);
    const first = await eventually(
      () => md.openTasks(monthly, (x) => x.kind === 'REPORT' && (x.escalationLevel ?? 0) >= 1),
      (ts) => ts.length > 0,
      30_000,
    );
    const report = (period: string, ytd: number) =>
      md.act(monthly, owner, {
        type: 'recordProgress',
        period,
        ytdInvestmentYuan: ytd,
        cumulativeInvestmentYuan: 200_000_000 + ytd,
        fundsReceivedYuan: 0,
        physicalProgress: '施工中',
      });
    const periodOf = (key: string) => key.slice('REPORT-'.length);
    await report(periodOf(first[0]!.key), 1_000_000);
    const second = await eventually(
      () => md.openTasks(monthly, (x) => x.kind === 'REPORT'),
      (ts) => ts.length > 0,
      30_000,
    );
    await report(periodOf(second[0]!.key), 2_000_000);
    await md.act(monthly, actor('housing'), {
      type: 'acceptCompletion',
      documentNumber: 'C2',
      date: '2026-11-30',
    });
    scenarios['onboarded-continuing-monthly-reports'] = monthly;
    clientOf[monthly] = monthlySys;

    // Revisions: a DRAFT edited, returned, revised and resubmitted, then withdrawn.
    const revised = await d.create();
    await d.act(revised, owner, {
      type: 'editDetails',
      patch: { contactPerson: '李工' },
      expectedVersion: 1,
    });
    await d.act(revised, owner, { type: 'submit' });
    const back = await d.openTask(revised, (x) => x.tier === 1);
    await d.act(revised, actor(back.assigneeOrg), {
      type: 'decideReview',
      taskId: back.id,
      decision: 'RETURN',
      opinion: '核实总投资',
    });
    await d.act(revised, owner, {
      type: 'editDetails',
      patch: { totalInvestmentYuan: 400_000_000, plannedStart: null },
      expectedVersion: 2,
      reason: '按意见核实',
    });
    await d.act(revised, owner, { type: 'submit' });
    await d.act(revised, owner, { type: 'withdraw', reason: '项目调整' });
    scenarios['draft-revised-returned-resubmitted'] = revised;

    // Change requests past 谋划: one approved, one refused; then withdrawn.
    const {
      onboarding: reserveFacts,
      ownerOrg: _r,
      ...reserveDetails
    } = CREATE_PROJECT_EXAMPLES.reserve.value;
    const adjusted = `p${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    await sys.projects.start(
      adjusted,
      { ...reserveDetails, flags: { ...reserveDetails.flags }, ownerOrg: 'yaodu' } as ProjectDetails,
      office,
      { onboarding: JSON.parse(JSON.stringify(reserveFacts)) as OnboardingFacts },
    );
    const cr1 = await d.act(adjusted, owner, {
      type: 'requestChange',
      changes: { annualPlanYuan: 150_000_000 },
      reason: '加快建设',
      expectedVersion: 1,
    });
    await d.act(adjusted, actor('ndrc'), {
      type: 'decideChange',
      taskId: cr1.taskId!,
      decision: 'APPROVE',
      opinion: '同意',
    });
    const cr2 = await d.act(adjusted, owner, {
      type: 'requestChange',
      changes: { totalInvestmentYuan: 900_000_000 },
      reason: '扩大规模',
      expectedVersion: 2,
    });
    await d.act(adjusted, actor('ndrc'), {
      type: 'decideChange',
      taskId: cr2.taskId!,
      decision: 'REFUSE',
      opinion: '需重新报批',
    });
    await d.act(adjusted, owner, { type: 'withdraw', reason: '项目调整' });
    scenarios['reserve-change-requests'] = adjusted;

    for (const [name, projectId] of Object.entries(scenarios)) {
      const owning = clientOf[projectId] ?? sys;
      await owning.projects.handle(projectId).result();
      await record(owning, name, projectWorkflowId(projectId));
      for (const [i, child] of (childWorkflows[name] ?? []).entries()) {
        await owning.client.workflow.getHandle(child).result();
        await record(owning, `${name}.child${i + 1}`, child);
      }
    }
  } finally {
    for (const x of systems) await x.close();
    await globalTeardown();
  }

  /** Writes every run of one workflow as `<name>.run<n>.json`. */
  async function record(owning: typeof sys, name: string, workflowId: string): Promise<void> {
    const dir = path.join(repoRoot(), 'test', 'fixtures', 'histories', release!);
    mkdirSync(dir, { recursive: true });
    let run = 0;
    for await (const exec of owning.client.workflow.list({
      query: `WorkflowId = '${workflowId}'`,
    })) {
      // The CLI writes the canonical proto-JSON that Worker.runReplayHistory reads.
      const json = execFileSync(temporalCli, [
        'workflow',
        'show',
        '--workflow-id',
        exec.workflowId,
        '--run-id',
        exec.runId,
        '--output',
        'json',
        '--address',
        stackEnv().address,
      ]);
      writeFileSync(path.join(dir, `${name}.run${++run}.json`), json);
    }
    console.log(`${name}: ${run} run(s)`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
