import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import type {
  notificationDispatcher,
  NotificationDispatcherInput,
} from '../workflows/notification-dispatcher';

export interface WorkerDeps extends ActivityDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A prebuilt bundle (tests bundle once); otherwise the worker bundles workflows/ itself. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  maxCachedWorkflows?: number;
  /** Options of the notification dispatcher workflow this worker starts when none runs. */
  dispatcher?: NotificationDispatcherInput;
}

export const WORKFLOWS_PATH = require.resolve('../workflows');

/** Notifications are delivered from their own task queue, so a burst of deliveries never queues behind projects. */
export function deliveryTaskQueue(taskQueue: string): string {
  return `${taskQueue}-delivery`;
}

/** The one dispatcher workflow of a delivery task queue. */
export function dispatcherWorkflowId(taskQueue: string): string {
  return `notification-dispatcher:${deliveryTaskQueue(taskQueue)}`;
}

/**
 * The project worker (project, blocker, supervision and import workflows, and the delivery workflows of
 * notifications enqueued before the dispatcher) and the delivery worker (the dispatcher), run together.
 */
export class PipelineWorker {
  constructor(
    readonly project: Worker,
    readonly delivery: Worker,
    private readonly deps: WorkerDeps,
    private readonly stopDispatching: AbortController,
  ) {}

  /** Starts the dispatcher workflow unless it runs, then runs both workers until shutdown. */
  async run(): Promise<void> {
    const running = Promise.all([this.project.run(), this.delivery.run()]);
    try {
      await this.ensureDispatcher();
    } catch (err) {
      this.shutdown();
      await running.catch(() => undefined);
      throw err;
    }
    await running;
  }

  async ensureDispatcher(): Promise<void> {
    await this.deps.notifications.client.workflow.start<typeof notificationDispatcher>(
      'notificationDispatcher',
      {
        workflowId: dispatcherWorkflowId(this.deps.taskQueue),
        taskQueue: deliveryTaskQueue(this.deps.taskQueue),
        args: [this.deps.dispatcher ?? {}],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      },
    );
  }

  /** The dispatcher returns within a second (its results recorded); the next worker's dispatcher goes on. */
  shutdown(): void {
    this.stopDispatching.abort();
    for (const w of [this.project, this.delivery]) if (w.getState() === 'RUNNING') w.shutdown();
  }

  getState(): ReturnType<Worker['getState']> {
    return this.project.getState();
  }
}

export async function createWorker(deps: WorkerDeps): Promise<PipelineWorker> {
  const workflowBundle = deps.workflowBundle ?? (await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH }));
  // One set of activities for both workers: enqueueing hands new notifications to this process's dispatcher.
  const stopDispatching = new AbortController();
  const activities = createActivities({
    ...deps,
    notifications: { ...deps.notifications, stopSignal: stopDispatching.signal },
  });
  const project = await Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    workflowBundle,
    activities,
    // Idle projects cost nothing; keep the sticky cache bounded so 100k projects fit in memory.
    maxCachedWorkflows: deps.maxCachedWorkflows ?? 1000,
    maxConcurrentWorkflowTaskPolls: 20,
    nonStickyToStickyPollRatio: 0.5,
  });
  const delivery = await Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deliveryTaskQueue(deps.taskQueue),
    workflowBundle,
    activities: { dispatchNotifications: activities.dispatchNotifications },
    maxCachedWorkflows: 10,
    // shutdown() stops the dispatcher at once; this is the time it has to record the sends in flight.
    shutdownGraceTime: '30 seconds',
  });
  return new PipelineWorker(project, delivery, deps, stopDispatching);
}
