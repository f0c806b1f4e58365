import {
  applySchedules,
  fireTaskClocks,
  ladderFor,
  tierReached,
  type ScheduleResult,
} from '../../domain/time';
import type { Task, TaskLedger } from '../../domain/state';
import { loadPolicy } from '../../policy/load';
import { projectDetails } from '../support/fixtures';

const policy = loadPolicy();
const opened = Date.parse('2025-09-26T02:00:00Z');
const due = opened + 10_000;

function ledger(assigneeOrg: string, leader: string | undefined = 'vm-zhang'): TaskLedger {
  const task: Task = {
    id: 'p1~T',
    key: 'T',
    kind: 'REVIEW',
    title: '评审',
    stage: 'DEPT_SCREENING',
    round: 1,
    assigneeOrg,
    status: 'OPEN',
    openedAt: opened,
    escalationLevel: 0,
    remindersSent: 0,
    clock: { extensions: [], pauses: [], needsSchedule: false },
  };
  return {
    projectId: 'p1',
    details: projectDetails({ assignedLeader: leader }),
    stage: 'DEPT_SCREENING',
    tasks: [task],
    seq: 0,
    flags: { overdue: false },
    outbox: { events: [], taskIds: [] },
  };
}

/** Schedules the task with the default ladder (L1..L4 at 1..4 s overdue) and fires everything due by then. */
function escalate(s: TaskLedger) {
  const result: ScheduleResult = {
    taskId: 'p1~T',
    ok: true,
    deadline: { dueAt: due, dueDay: '2025-09-26', provisional: false, basis: 'test', calendarVersion: 'v' },
    reminders: [],
    escalations: policy.time.escalation.map((e) => ({ level: e.level, at: due + e.level * 1000 })),
  };
  applySchedules(s, policy, [result], opened);
  return fireTaskClocks(s, policy, due + 60_000);
}

test('each level of the default ladder reaches its rung: unit head, special group, leading group, city supervision', () => {
  // Act
  const tiers = policy.time.escalation.map((e) => [e.level, tierReached(e.recipients)]);

  // Assert
  expect(tiers).toEqual([
    [1, 'UNIT_HEAD'],
    [2, 'SPECIAL_GROUP'],
    [3, 'LEADING_GROUP'],
    [4, 'CITY_SUPERVISION'],
  ]);
});

test('the ladder starts above the assignee: a department’s task climbs from L1, a special group’s from L3, the leading group’s at L4', () => {
  // Act
  const levels = (org: string) => ladderFor(policy, org).map((e) => e.level);

  // Assert
  expect(levels('ndrc')).toEqual([1, 2, 3, 4]);
  expect(levels('yaodu')).toEqual([1, 2, 3, 4]);
  expect(levels('sg-urban')).toEqual([3, 4]);
  expect(levels('leading-group')).toEqual([4]);
});

test('an overdue leading-group decision escalates only to city supervision, never down to a special group', () => {
  // Arrange
  const s = ledger('leading-group');

  // Act
  const sent = escalate(s);

  // Assert
  expect(s.tasks[0]!.schedule!.escalations.map((e) => e.level)).toEqual([4]);
  expect(sent.map((n) => n.key)).toEqual(['p1~T:s1:L4']);
  expect(sent[0]!.recipients).toEqual([{ org: policy.citySupervision }]);
  const escalated = s.outbox.events.filter((e) => e.type === 'ESCALATED');
  expect(escalated.map((e) => e.data?.recipients)).toEqual([[policy.citySupervision]]);
});

test('L1 names the head of the assignee’s unit and the 包联领导 by directory id, not the unit’s inbox', () => {
  // Arrange
  const s = ledger('ndrc');

  // Act
  const [l1] = escalate(s);

  // Assert
  expect(l1!.key).toBe('p1~T:s1:L1');
  expect(l1!.recipients).toEqual([{ headOf: 'ndrc' }, { person: { id: 'vm-zhang' } }]);
  expect(s.outbox.events.find((e) => e.type === 'ESCALATED')?.data?.recipients).toEqual([
    'head:ndrc',
    'person:vm-zhang',
  ]);
});
