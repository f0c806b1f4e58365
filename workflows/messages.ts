/** The sandbox-safe contract between the project workflow, the worker, the client and the API. */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Policy } from '../policy/schema';
import { ACTION_TYPES, type ActionRequest, type ActionType, type ProjectAction } from '../domain/actions';
import type { Actor, ProjectDetails } from '../domain/project';
import type { OnboardingFacts } from '../domain/onboarding';
import type { ActionResult, ProjectState, Task } from '../domain/state';
import type { ProjectSnapshot } from '../domain/state';
import {
  BLOCKER_ACTION_TYPES,
  type BlockerActionType,
  type BlockerChange,
  type BlockerRecord,
  type BlockerRequest,
  type BlockerResult,
  type BlockerStart,
  type BlockerState,
} from '../domain/blockers';

export const PROJECT_WORKFLOW_TYPE = 'projectLifecycle';

export interface ProjectLifecycleInput {
  projectId: string;
  details: ProjectDetails;
  policy: Policy;
  createdBy: Actor;
  /** Facts of a project entered beyond DRAFT (domain/onboarding.ts), checked before the workflow starts. */
  onboarding?: OnboardingFacts | undefined;
  /** Present after continue-as-new: the whole state of the previous run. */
  state?: ProjectState;
  /** Tests force an early continue-as-new at this history length; production follows Temporal's suggestion. */
  continueAsNewAtHistoryLength?: number;
}

export type ProjectView = ProjectSnapshot & { tasks: Task[] };

export type ActionUpdate<K extends ActionType> = ReturnType<
  typeof defineUpdate<ActionResult, [ActionRequest<Extract<ProjectAction, { type: K }>>]>
>;

export const actionUpdates = Object.fromEntries(
  ACTION_TYPES.map((t) => [t, defineUpdate<ActionResult, [ActionRequest]>(t)]),
) as { [K in ActionType]: ActionUpdate<K> };

export const getProjectQuery = defineQuery<ProjectView>('getProject');

// ---------------------------------------------------------------------------------------------- blockers

export const BLOCKER_WORKFLOW_TYPE = 'projectBlocker';

export interface ProjectBlockerInput {
  start: BlockerStart;
  policy: Policy;
  /** Present after continue-as-new. */
  state?: BlockerState;
}

/** A blocker as its workflow knows it: the record, its tasks (resolution and confirmation rounds). */
export interface BlockerView {
  projectId: string;
  blocker: BlockerRecord;
  tasks: Task[];
  escalationLevel: number;
  overdue: boolean;
  seq: number;
}

export const blockerUpdates = Object.fromEntries(
  BLOCKER_ACTION_TYPES.map((t) => [t, defineUpdate<BlockerResult, [BlockerRequest]>(t)]),
) as { [K in BlockerActionType]: ReturnType<typeof defineUpdate<BlockerResult, [BlockerRequest]>> };

export const getBlockerQuery = defineQuery<BlockerView>('getBlocker');

/** From a blocker's workflow to its project's workflow. */
export const blockerChangedSignal = defineSignal<[BlockerChange]>('blockerChanged');
