import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';

export interface WorkerDeps extends ActivityDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A prebuilt bundle (tests bundle once); otherwise the worker bundles workflows/ itself. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  maxCachedWorkflows?: number;
}

export const WORKFLOWS_PATH = require.resolve('../workflows');

export async function createWorker(deps: WorkerDeps): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    ...(deps.workflowBundle ? { workflowBundle: deps.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(deps),
    // Idle projects cost nothing; keep the sticky cache bounded so 100k projects fit in memory.
    maxCachedWorkflows: deps.maxCachedWorkflows ?? 1000,
    // A deadline burst starts thousands of delivery workflows: their first tasks come from the shared (non-sticky)
    // queue, which the default split (2 of 10 pollers) drains at about one task per second (BENCHMARKS.md).
    maxConcurrentWorkflowTaskPolls: 20,
    nonStickyToStickyPollRatio: 0.5,
  });
}
