/**
 * The benchmarks' bare-Temporal twin (issue 15 §1): workflow code with the same shape as ours and nothing of
 * ours, bundled on its own by bench/twin.ts and run by a worker of its own on a task queue of its own. What
 * the app's figures are divided by, so a noisy machine's noise cancels out of the ratio.
 *
 * Only @temporalio/workflow: no domain, no policy, no read model, no notifications.
 */
import {
  condition,
  defineQuery,
  defineUpdate,
  proxyActivities,
  setHandler,
  sleep,
} from '@temporalio/workflow';

/** The one activity the twin runs: it does nothing. */
export interface TwinActivities {
  twinNoop(): Promise<void>;
}

const { twinNoop } = proxyActivities<TwinActivities>({ startToCloseTimeout: '30 seconds' });

export interface TwinDeadlinesInput {
  /** Epoch ms at which the workflow wakes, ascending; each wake runs one no-op activity. */
  instants: number[];
}

export interface TwinDeadlinesResult {
  /** Per instant, workflow time when the timer's wake was handled minus the instant (ms). */
  lateMs: number[];
  /** Workflow time after the last no-op activity completed. */
  doneAt: number;
}

/** The deadline twin: sleeps until each instant and runs one no-op activity there. */
export async function twinDeadlines(input: TwinDeadlinesInput): Promise<TwinDeadlinesResult> {
  const lateMs: number[] = [];
  for (const at of input.instants) {
    const wait = at - Date.now();
    if (wait > 0) await sleep(wait);
    lateMs.push(Date.now() - at);
    await twinNoop();
  }
  return { lateMs, doneAt: Date.now() };
}

export interface TwinFieldState {
  seq: number;
  fields: Record<string, string>;
}

export const setTwinField = defineUpdate<number, [{ key: string; value: string }]>('setTwinField');
export const getTwinFields = defineQuery<TwinFieldState>('getTwinFields');

/** The API twin: an Update handler that sets a field (answering the new seq) and a query that reads them. */
export async function twinField(): Promise<void> {
  const state: TwinFieldState = { seq: 0, fields: {} };
  setHandler(setTwinField, ({ key, value }) => {
    state.fields[key] = value;
    state.seq += 1;
    return state.seq;
  });
  setHandler(getTwinFields, () => state);
  // Open until the stack goes away, as a project workflow waits for its next decision.
  await condition(() => false);
}
