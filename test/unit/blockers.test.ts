import {
  applyBlockerAction,
  blockerDeadline,
  createBlockerState,
  unreportedChange,
  validateBlockerAction,
  type BlockerRequest,
  type BlockerState,
} from '../../domain/blockers';
import { DomainError } from '../../domain/errors';
import { applyAction, applyBlockerChange, createInitialState } from '../../domain/lifecycle';
import type { ProjectState } from '../../domain/state';
import { loadPolicy } from '../../policy/load';
import { actor, projectDetails } from '../support/fixtures';

const policy = loadPolicy();
const T0 = Date.parse('2025-03-03T09:00:00+08:00');
const OWNER = actor('yaodu', 'applicant');
const LAND = actor('natural-resources');

function projectWithBlocker(): { project: ProjectState; blocker: BlockerState } {
  const project = createInitialState('p1', projectDetails(), policy, OWNER, T0);
  applyAction(project, policy, { requestId: 'r1', actor: OWNER, action: { type: 'submit' } }, T0);
  const result = applyAction(
    project,
    policy,
    {
      requestId: 'r2',
      actor: OWNER,
      action: {
        type: 'raiseBlocker',
        category: 'LAND',
        level: 'PROVINCE',
        responsibleOrg: 'natural-resources',
        description: '用地指标需省级调剂',
      },
    },
    T0 + 1000,
  );
  const summary = project.blockers!.find((b) => b.id === result.blockerId)!;
  const blocker = createBlockerState({
    projectId: 'p1',
    projectStage: project.stage,
    details: project.details,
    summary,
  });
  return { project, blocker };
}

const req = (id: string, who: typeof OWNER, action: BlockerRequest['action']): BlockerRequest => ({
  requestId: id,
  actor: who,
  action,
});

describe('blockers', () => {
  it('opens one resolution task for the responsible organisation, due by the policy for its level', () => {
    const { project, blocker } = projectWithBlocker();
    expect(project.blockers).toHaveLength(1);
    expect(project.blockers![0]).toMatchObject({ id: 'p1-B1', status: 'OPEN', started: false });
    expect(blocker.tasks.map((t) => [t.key, t.kind, t.assigneeOrg, t.status])).toEqual([
      ['B1-R1-PROVINCE', 'BLOCKER', 'natural-resources', 'OPEN'],
    ]);
    expect(blockerDeadline(policy, 'B1-R1-PROVINCE')).toEqual({ workingDays: 30 });
    expect(blockerDeadline(policy, 'B1-R1-COUNTY')).toEqual({ workingDays: 10 });
    expect(blockerDeadline(policy, 'B1-R1-CONFIRM')).toBeUndefined(); // the raiser's confirmation has no clock
  });

  it('validating an action never changes the blocker, and a repeated request has one effect', () => {
    const { blocker } = projectWithBlocker();
    const before = JSON.stringify(blocker);
    validateBlockerAction(blocker, req('a', LAND, { type: 'resolveBlocker', note: '已协调省厅' }), T0 + 3000);
    expect(JSON.stringify(blocker)).toBe(before);
    const first = applyBlockerAction(
      blocker,
      req('a', LAND, { type: 'resolveBlocker', note: '已协调省厅' }),
      T0 + 3000,
    );
    const again = applyBlockerAction(
      blocker,
      req('a', LAND, { type: 'resolveBlocker', note: '已协调省厅' }),
      T0 + 4000,
    );
    expect(again).toEqual(first);
    expect(blocker.blocker.resolutions).toHaveLength(1);
  });

  it('refuses out-of-order actions with a typed error', () => {
    const { blocker } = projectWithBlocker();
    const refused = (r: BlockerRequest) => {
      try {
        applyBlockerAction(blocker, r, T0 + 5000);
      } catch (err) {
        return err instanceof DomainError ? err.type : 'other';
      }
      return 'accepted';
    };
    expect(refused(req('c', OWNER, { type: 'confirmBlockerClosure' }))).toBe('WRONG_STAGE'); // not resolved yet
    expect(refused(req('d', OWNER, { type: 'reopenBlocker', reason: '未解决' }))).toBe('WRONG_STAGE');
    expect(refused(req('e', OWNER, { type: 'resolveBlocker', note: '自行解决' }))).toBe('NOT_ASSIGNEE');
    expect(blocker.blocker.status).toBe('OPEN');
  });

  it('the project follows the blocker’s reports and ignores late or repeated ones', () => {
    const { project, blocker } = projectWithBlocker();
    applyBlockerAction(blocker, req('a', LAND, { type: 'resolveBlocker', note: '已协调' }), T0 + 3000);
    const resolved = unreportedChange(blocker)!;
    applyBlockerAction(blocker, req('b', OWNER, { type: 'confirmBlockerClosure' }), T0 + 4000);
    const closed = unreportedChange(blocker)!;
    expect(applyBlockerChange(project, closed)).toBe(true);
    expect(project.blockers![0]).toMatchObject({ status: 'CLOSED', closedAt: T0 + 4000 });
    // The earlier report arrives after the later one: it must not reopen anything.
    expect(applyBlockerChange(project, resolved)).toBe(false);
    expect(applyBlockerChange(project, closed)).toBe(false);
    expect(project.blockers![0]!.status).toBe('CLOSED');
    expect(applyBlockerChange(project, { ...closed, blockerId: 'p1-B9' })).toBe(false);
  });
});
