import { Client, WorkflowIdReusePolicy, type WorkflowHandle } from '@temporalio/client';
import type { ActionRequest, ActionType, ProjectAction } from '../domain/actions';
import { projectWorkflowId, type Actor, type ProjectDetails } from '../domain/project';
import { ProjectPortfolioAttr, ProjectStageAttr } from '../domain/search-attributes';
import type { ActionResult } from '../domain/state';
import type { Policy } from '../policy/schema';
import { withoutSources } from '../policy/sources';
import {
  blockerWorkflowId,
  type BlockerAction,
  type BlockerRequest,
  type BlockerResult,
} from '../domain/blockers';
import {
  actionUpdates,
  blockerUpdates,
  getBlockerQuery,
  getProjectQuery,
  type BlockerView,
  type ProjectLifecycleInput,
  type ProjectView,
} from '../workflows/messages';
import type { projectLifecycle } from '../workflows/project-lifecycle';

export interface ProjectClientOptions {
  client: Client;
  taskQueue: string;
  policy: Policy;
}

/** The thin client every caller (API, tests, scripts) uses to start projects, act on them and read them. */
export class ProjectClient {
  constructor(private readonly opts: ProjectClientOptions) {}

  get policy(): Policy {
    return this.opts.policy;
  }

  get client(): Client {
    return this.opts.client;
  }

  handle(projectId: string): WorkflowHandle<typeof projectLifecycle> {
    return this.opts.client.workflow.getHandle<typeof projectLifecycle>(projectWorkflowId(projectId));
  }

  async start(
    projectId: string,
    details: ProjectDetails,
    createdBy: Actor,
    extra: Pick<ProjectLifecycleInput, 'continueAsNewAtHistoryLength' | 'onboarding'> = {},
  ): Promise<WorkflowHandle<typeof projectLifecycle>> {
    const input: ProjectLifecycleInput = {
      projectId,
      details,
      policy: withoutSources(this.opts.policy),
      createdBy,
      ...extra,
    };
    return this.opts.client.workflow.start<typeof projectLifecycle>('projectLifecycle', {
      taskQueue: this.opts.taskQueue,
      workflowId: projectWorkflowId(projectId),
      args: [input],
      // A project id is never reused, not even after the project ended.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: [
        { key: ProjectStageAttr, value: extra.onboarding?.targetStage ?? 'DRAFT' },
        { key: ProjectPortfolioAttr, value: details.portfolio },
      ],
      staticSummary: `${details.name}（${projectId}）`,
    });
  }

  /** Sends one action as an Update; the request id doubles as the update id, so a retry has one effect. */
  async act<K extends ActionType>(
    projectId: string,
    requestId: string,
    actor: Actor,
    action: Extract<ProjectAction, { type: K }>,
    opts: { timeoutMs?: number } = {},
  ): Promise<ActionResult> {
    const req: ActionRequest = { requestId, actor, action };
    const def = actionUpdates[action.type];
    const send = () =>
      this.handle(projectId).executeUpdate(def as (typeof actionUpdates)['submit'], {
        args: [req as ActionRequest<{ type: 'submit' }>],
        updateId: requestId,
      });
    // Bounded: a caller is answered (504, safe to retry with the same id) even when no worker runs.
    return opts.timeoutMs ? this.opts.client.withDeadline(Date.now() + opts.timeoutMs, send) : send();
  }

  /** Live, strongly consistent state of a running project. */
  async query(projectId: string): Promise<ProjectView> {
    return this.handle(projectId).query(getProjectQuery);
  }

  /** Sends one action on a blocker's workflow (resolve, confirm the closure, reopen), like `act`. */
  async actOnBlocker(
    blockerId: string,
    requestId: string,
    actor: Actor,
    action: BlockerAction,
    opts: { timeoutMs?: number } = {},
  ): Promise<BlockerResult> {
    const req: BlockerRequest = { requestId, actor, action };
    const send = () =>
      this.opts.client.workflow
        .getHandle(blockerWorkflowId(blockerId))
        .executeUpdate(blockerUpdates[action.type], { args: [req], updateId: requestId });
    return opts.timeoutMs ? this.opts.client.withDeadline(Date.now() + opts.timeoutMs, send) : send();
  }

  /** Live state of a blocker (also of a closed one: Temporal answers queries on closed workflows). */
  async queryBlocker(blockerId: string): Promise<BlockerView> {
    return this.opts.client.workflow.getHandle(blockerWorkflowId(blockerId)).query(getBlockerQuery);
  }
}
