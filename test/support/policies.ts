import type { Duration, Policy } from '../../policy/schema';
import { loadPolicy } from '../../policy/load';

/**
 * The default policy with every duration in seconds: the same code paths as production, only faster.
 * Each task is due `dueSeconds` after it opens; reminders 4 and 2 s before and on the deadline;
 * escalation L1..L4 at 1, 2, 3, 4 s overdue.
 */
export function secondsPolicy(dueSeconds = 6): Policy {
  const p = JSON.parse(JSON.stringify(loadPolicy())) as Policy;
  const due: Duration = { seconds: dueSeconds };
  p.version = '2025.900';
  p.review.tier1.deadline = due;
  p.review.tier2.deadline = due;
  p.review.tier3.deadline = due;
  p.review.planInclusionDeadline = due;
  for (const m of [...p.reserve.matters, ...p.preConstruction.steps]) m.deadline = due;
  p.startGate.deadline = due;
  p.implementation.completionDeadline = due;
  p.blockers = { deadline: { COUNTY: due, CITY: due, PROVINCE: due } };
  p.time.reminders = [{ seconds: 4 }, { seconds: 2 }, { seconds: 0 }];
  p.time.escalation = p.time.escalation.map((e) => ({ ...e, after: { seconds: e.level } }));
  p.time.extensions = { maxPerTask: 1, maxWorkingDays: 30 };
  return p;
}
