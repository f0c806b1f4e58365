/** Actions of any live stage: removal, withdrawal, deadline extensions and pauses, blockers. */
import {
  PRE_START_LIVE_STAGES,
  anyOpenTask,
  cancelOpenTasks,
  clockOf,
  event,
  requireLive,
  requireOrg,
  requireStage,
  requireText,
  setStage,
  touch,
  type Handlers,
} from '../task-ops';
import { DomainError } from '../errors';
import {
  BLOCKER_CATEGORIES,
  BLOCKER_LEVELS,
  BLOCKERS_PER_PROJECT_LIMIT,
  RESPONSIBLE_ORG_KINDS,
  blockerIdOf,
} from '../blockers';

export const anyStageHandlers: Pick<
  Handlers,
  'remove' | 'withdraw' | 'extendDeadline' | 'pauseClock' | 'resumeClock' | 'raiseBlocker'
> = {
  remove(ctx, a) {
    const { s } = ctx;
    requireLive(s);
    requireOrg(ctx, ctx.policy.leadingGroup, 'removal from the library is decided by the leading group');
    if (!['POLICY_CHANGE', 'FORCE_MAJEURE', 'OTHER'].includes(a.reason)) {
      throw new DomainError('INVALID_DATA', 'reason must be POLICY_CHANGE, FORCE_MAJEURE or OTHER', {
        field: 'reason',
      });
    }
    requireText(a.explanation, 'explanation', 2000);
    requireText(a.approver, 'approver', 200);
    s.removal = { reason: a.reason, explanation: a.explanation, approver: a.approver };
    cancelOpenTasks(ctx, 'removed from the library');
    setStage(s, 'REMOVED');
    event(ctx, 'REMOVED', { ...s.removal, replacementExpected: true });
    // The portfolio is asked for a replacement project (动态保持 the planning library's size).
    (s.outbox.notifications ??= []).push({
      key: `${s.projectId}:replacement`,
      template: 'GENERIC',
      recipients: [{ org: s.details.portfolio }],
      payload: {
        projectId: s.projectId,
        projectName: s.details.name,
        message: `项目已调出库（${a.explanation}），请补充替代项目`,
      },
    });
    return 'removed from the library; a replacement project is expected from its portfolio';
  },

  withdraw(ctx, a) {
    const { s } = ctx;
    requireStage(s, PRE_START_LIVE_STAGES);
    requireOrg(ctx, s.details.ownerOrg, 'only the applying unit withdraws its project');
    requireText(a.reason, 'reason', 2000);
    cancelOpenTasks(ctx, 'withdrawn by the applicant');
    setStage(s, 'WITHDRAWN');
    event(ctx, 'WITHDRAWN', { reason: a.reason });
    return 'project withdrawn';
  },

  extendDeadline(ctx, a) {
    const { s, policy } = ctx;
    const task = anyOpenTask(ctx, a.taskId);
    requireOrg(
      ctx,
      [s.details.portfolio, policy.leadingGroup],
      'deadlines are extended by the special group of the portfolio or the leading group',
    );
    if (!ctx.req.actor.roles.includes('leader'))
      throw new DomainError('NOT_ASSIGNEE', 'extending a deadline needs the leader role');
    const cap = policy.time.extensions;
    if (
      typeof a.units !== 'number' ||
      !Number.isInteger(a.units) ||
      a.units < 1 ||
      a.units > cap.maxWorkingDays
    ) {
      throw new DomainError('INVALID_DATA', `an extension is 1–${cap.maxWorkingDays} working days`, {
        field: 'units',
      });
    }
    requireText(a.reason, 'reason', 2000);
    const clock = clockOf(task);
    if (clock.extensions.length >= cap.maxPerTask) {
      throw new DomainError('GATE_NOT_MET', `this task has had its ${cap.maxPerTask} extension(s)`, {
        taskId: task.id,
      });
    }
    clock.extensions.push({ units: a.units, reason: a.reason, at: ctx.now, actor: ctx.req.actor });
    clock.needsSchedule = true;
    ctx.touchedTask = task.id;
    touch(s, task.id);
    event(ctx, 'DEADLINE_EXTENDED', { taskId: task.id, units: a.units, reason: a.reason });
    return `deadline of ${task.title} extended by ${a.units}`;
  },

  pauseClock(ctx, a) {
    const task = anyOpenTask(ctx, a.taskId);
    requireOrg(ctx, task.assigneeOrg, 'the clock is paused by the assigned organisation');
    if (!['SUPPLEMENT', 'EXPERT_REVIEW', 'HEARING'].includes(a.reason)) {
      throw new DomainError('INVALID_DATA', 'reason must be SUPPLEMENT, EXPERT_REVIEW or HEARING', {
        field: 'reason',
      });
    }
    if (a.note !== undefined) requireText(a.note, 'note', 2000);
    const clock = clockOf(task);
    if (clock.pauses.some((p) => p.to === undefined))
      throw new DomainError('ALREADY_DECIDED', 'the clock is already paused', { taskId: task.id });
    clock.pauses.push({ from: ctx.now, reason: a.reason });
    ctx.touchedTask = task.id;
    touch(ctx.s, task.id);
    event(ctx, 'CLOCK_PAUSED', { taskId: task.id, reason: a.reason, note: a.note });
    return `clock of ${task.title} paused`;
  },

  resumeClock(ctx, a) {
    const task = anyOpenTask(ctx, a.taskId);
    requireOrg(ctx, task.assigneeOrg, 'the clock is resumed by the assigned organisation');
    if (a.note !== undefined) requireText(a.note, 'note', 2000);
    const clock = clockOf(task);
    const open = clock.pauses.find((p) => p.to === undefined);
    if (!open) throw new DomainError('WRONG_STAGE', 'the clock is not paused', { taskId: task.id });
    open.to = ctx.now;
    clock.needsSchedule = true;
    ctx.touchedTask = task.id;
    touch(ctx.s, task.id);
    event(ctx, 'CLOCK_RESUMED', { taskId: task.id, pausedMs: ctx.now - open.from, note: a.note });
    return `clock of ${task.title} resumed`;
  },

  raiseBlocker(ctx, a) {
    const { s, policy } = ctx;
    requireLive(s);
    const involved = new Set([
      s.details.ownerOrg,
      s.details.responsibleDept,
      s.details.portfolio,
      s.details.county,
      policy.leadingGroup,
      ...s.tasks.map((t) => t.assigneeOrg),
    ]);
    requireOrg(ctx, [...involved], 'only an organisation working on the project raises a blocker on it');
    if (!(a.category in BLOCKER_CATEGORIES))
      throw new DomainError(
        'INVALID_DATA',
        `category must be one of ${Object.keys(BLOCKER_CATEGORIES).join(', ')}`,
        {
          field: 'category',
        },
      );
    if (!(a.level in BLOCKER_LEVELS))
      throw new DomainError(
        'INVALID_DATA',
        `level must be one of ${Object.keys(BLOCKER_LEVELS).join(', ')}`,
        {
          field: 'level',
        },
      );
    const responsible = policy.organisations.find((o) => o.id === a.responsibleOrg);
    if (!responsible || !(RESPONSIBLE_ORG_KINDS as readonly string[]).includes(responsible.kind))
      throw new DomainError(
        'INVALID_DATA',
        `responsibleOrg must be a department, county or special group of the policy`,
        { field: 'responsibleOrg' },
      );
    const description = requireText(a.description, 'description', 2000).trim();
    const blockers = (s.blockers ??= []);
    if (blockers.length >= BLOCKERS_PER_PROJECT_LIMIT)
      throw new DomainError(
        'INVALID_DATA',
        `a project carries at most ${BLOCKERS_PER_PROJECT_LIMIT} blockers`,
        {
          field: 'description',
        },
      );
    const number = blockers.length + 1;
    const id = blockerIdOf(s.projectId, number);
    blockers.push({
      id,
      number,
      category: a.category,
      level: a.level,
      responsibleOrg: a.responsibleOrg,
      description,
      raisedBy: ctx.req.actor,
      raisedAt: ctx.now,
      status: 'OPEN',
      round: 1,
      escalationLevel: 0,
      started: false,
    });
    ctx.touchedBlocker = id;
    event(ctx, 'BLOCKER_RAISED', {
      blockerId: id,
      category: a.category,
      level: a.level,
      responsibleOrg: a.responsibleOrg,
      description,
    });
    return `blocker ${id} raised; ${a.responsibleOrg} is responsible`;
  },
};
