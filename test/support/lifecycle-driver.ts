import { randomUUID } from 'node:crypto';
import type { ProjectAction } from '../../domain/actions';
import type { ProjectDetails, Actor } from '../../domain/project';
import type { ActionResult, Task } from '../../domain/state';
import { auditTrailOf, inboxOf } from '../../db/queries';
import type { ProjectView } from '../../workflows/messages';
import { actor, projectDetails } from './fixtures';
import { eventually, type TestSystem } from './harness';

/** Drives projects through their lifecycle with the actors that own each step, as the API will. */
export class LifecycleDriver {
  constructor(private readonly sys: TestSystem) {}

  async create(
    over: Partial<ProjectDetails> = {},
    extra: { continueAsNewAtHistoryLength?: number } = {},
  ): Promise<string> {
    const projectId = `p${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const details = projectDetails(over);
    await this.sys.projects.start(projectId, details, actor(details.ownerOrg, 'applicant'), extra);
    return projectId;
  }

  act(
    projectId: string,
    who: Actor,
    action: ProjectAction,
    requestId: string = randomUUID(),
  ): Promise<ActionResult> {
    return this.sys.projects.act(
      projectId,
      requestId,
      who,
      action as Extract<ProjectAction, { type: 'submit' }>,
    );
  }

  live(projectId: string): Promise<ProjectView> {
    return this.sys.projects.query(projectId);
  }

  async openTasks(projectId: string, filter: (t: Task) => boolean = () => true): Promise<Task[]> {
    return (await this.live(projectId)).tasks.filter((t) => t.status === 'OPEN' && filter(t));
  }

  async openTask(projectId: string, filter: (t: Task) => boolean): Promise<Task> {
    const [t] = await this.openTasks(projectId, filter);
    if (!t) throw new Error(`no open task matches on ${projectId}`);
    return t;
  }

  /**
   * Passes every open review of the current tier by its assignee: tier 1 with PASS, tier 2 recommending the project
   * with its three assessments, tier 3 including it at this month's joint meeting (with a fund allocation when
   * government-invested).
   */
  async passOpenReviews(projectId: string): Promise<void> {
    for (const t of await this.openTasks(projectId, (x) => x.kind === 'REVIEW')) {
      await this.act(projectId, actor(t.assigneeOrg), passOf(t, (await this.live(projectId)).details));
    }
  }

  async completeOpenItems(
    projectId: string,
    kind: 'APPROVAL_MATTER' | 'STEP',
    approvedEstimateYuan?: number,
  ): Promise<void> {
    for (const t of await this.openTasks(projectId, (x) => x.kind === kind)) {
      await this.act(projectId, actor(t.assigneeOrg), {
        type: 'completeTask',
        taskId: t.id,
        documentNumber: `临文〔2025〕${t.key}号`,
        date: '2025-06-01',
        approvedEstimateYuan: t.key === 'S-PRELIMINARY_DESIGN' ? approvedEstimateYuan : undefined,
      });
    }
  }

  async toReserve(projectId: string): Promise<void> {
    const owner = (await this.live(projectId)).details.ownerOrg;
    await this.act(projectId, actor(owner, 'applicant'), { type: 'submit' });
    while ((await this.openTasks(projectId, (t) => t.kind === 'REVIEW')).length > 0)
      await this.passOpenReviews(projectId);
    await this.act(projectId, actor('ndrc'), {
      type: 'recordPlanInclusion',
      planName: '2025年度重点项目计划',
      documentNumber: '临发改〔2025〕1号',
      date: '2025-03-01',
    });
  }

  async toPreConstruction(projectId: string): Promise<void> {
    await this.toReserve(projectId);
    const owner = (await this.live(projectId)).details.ownerOrg;
    await this.completeOpenItems(projectId, 'APPROVAL_MATTER');
    await this.act(projectId, actor(owner, 'applicant'), {
      type: 'recordProjectCode',
      code: '2501-141002-04-01-123456',
    });
  }

  /** The owner applies to start (开工申请) and the responsible department, the policy's checker, confirms it. */
  async start(projectId: string, date: string): Promise<ActionResult> {
    const { details } = await this.live(projectId);
    await this.act(projectId, actor(details.ownerOrg, 'applicant'), { type: 'startConstruction', date });
    return this.act(projectId, actor(details.responsibleDept), { type: 'checkStart', decision: 'CONFIRM' });
  }

  /** Waits until Mongo has caught up with the workflow, then checks that record, inboxes and trail agree with it. */
  async expectConsistent(projectId: string): Promise<ProjectView> {
    const { models } = this.sys;
    // The workflow keeps moving on its own (deadlines are computed after each transition): wait for a quiet point.
    const { live, doc } = await eventually(
      async () => ({
        live: await this.live(projectId),
        doc: await models.Project.findById(projectId).lean(),
      }),
      ({ live, doc }) =>
        doc !== null &&
        doc.seq === live.seq &&
        live.tasks.every((t) => t.status !== 'OPEN' || !t.clock?.needsSchedule),
      60_000, // a loaded machine (CI, a benchmark beside the tests) may lag the read model this long
    );
    if (!doc) throw new Error('unreachable');
    const open = live.tasks.filter((t) => t.status === 'OPEN');
    expectEqual(doc.stage, live.stage, 'stage');
    expectEqual(doc.openTasks.map((t) => t.id).sort(), open.map((t) => t.id).sort(), 'open tasks');
    for (const t of live.tasks) {
      const inbox = await inboxOf(models, t.assigneeOrg);
      expectEqual(
        inbox.some((i) => i.taskId === t.id),
        t.status === 'OPEN',
        `inbox of ${t.assigneeOrg} holds ${t.id}`,
      );
      const stored = await models.Task.findById(t.id).lean();
      expectEqual(stored?.status, t.status, `task ${t.id} status`);
    }
    const trail = await auditTrailOf(models, projectId);
    expectEqual(
      trail.map((e) => e.seq),
      Array.from({ length: live.seq }, (_, i) => i + 1),
      'audit trail seqs',
    );
    expectEqual(trail[trail.length - 1]?.stageAfter, live.stage, 'last event stage');
    return live;
  }
}

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/** The passing decision of a review task, by tier. */
export function passOf(t: Task, details: ProjectDetails): ProjectAction {
  if (t.tier === 2)
    return {
      type: 'decideSpecialistReview',
      taskId: t.id,
      outcome: 'RECOMMENDED',
      assessments: { technical: '技术方案可行', investmentBenefit: '投资效益良好', riskControl: '风险可控' },
    };
  if (t.tier === 3) {
    const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
    return {
      type: 'decideComprehensiveReview',
      taskId: t.id,
      meeting: { month: today.slice(0, 7), date: today },
      included: true,
      fundAllocation: details.flags.governmentInvested
        ? { amountYuan: 50_000_000, sourceType: 'SPECIAL_BONDS', year: Number(today.slice(0, 4)) }
        : undefined,
    };
  }
  return { type: 'decideReview', taskId: t.id, decision: 'PASS', opinion: '同意' };
}
