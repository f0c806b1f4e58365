import type { Actor } from './project';
import type { RemovalReason, ReviewDecision } from './state';

/** Every human action on a project; each becomes one Temporal Update of the same name. */
export type ProjectAction =
  | { type: 'submit' }
  | { type: 'decideReview'; taskId: string; decision: ReviewDecision; opinion: string }
  | {
      type: 'completeTask';
      taskId: string;
      documentNumber: string;
      date: string;
      approvedEstimateYuan?: number | undefined;
      note?: string | undefined;
    }
  | { type: 'recordPlanInclusion'; planName: string; documentNumber: string; date: string }
  | { type: 'recordProjectCode'; code: string }
  | { type: 'confirmFunding'; amountYuan: number; documentNumber: string; date: string }
  | {
      type: 'startConstruction';
      date: string;
      emergencyOverride?: { reason: string; approver: string } | undefined;
    }
  | {
      type: 'recordProgress';
      period: string;
      ytdInvestmentYuan: number;
      cumulativeInvestmentYuan: number;
      fundsReceivedYuan: number;
      physicalProgress: string;
      nextMonthPlan?: string | undefined;
      problems?: string | undefined;
    }
  | { type: 'recordPayment'; amountYuan: number; date: string; basis: string }
  | { type: 'acceptCompletion'; documentNumber: string; date: string }
  | { type: 'suspend'; reason: string }
  | { type: 'resume'; reason: string }
  | { type: 'remove'; reason: RemovalReason; explanation: string; approver: string }
  | { type: 'withdraw'; reason: string }
  | { type: 'extendDeadline'; taskId: string; units: number; reason: string }
  | { type: 'pauseClock'; taskId: string; reason: PauseReason; note?: string | undefined }
  | { type: 'resumeClock'; taskId: string; note?: string | undefined }
  | {
      type: 'editDetails';
      patch: Record<string, unknown>;
      expectedVersion: number;
      reason?: string | undefined;
    }
  | { type: 'requestChange'; changes: Record<string, unknown>; reason: string; expectedVersion: number }
  | { type: 'decideChange'; taskId: string; decision: 'APPROVE' | 'REFUSE'; opinion: string }
  | {
      type: 'raiseBlocker';
      category: string;
      level: string;
      responsibleOrg: string;
      description: string;
    };

/** Why a clock stops (补正 waiting for the applicant's documents, expert review, hearing). */
export type PauseReason = 'SUPPLEMENT' | 'EXPERT_REVIEW' | 'HEARING';

export type ActionType = ProjectAction['type'];

export const ACTION_TYPES: readonly ActionType[] = [
  'submit',
  'decideReview',
  'completeTask',
  'recordPlanInclusion',
  'recordProjectCode',
  'confirmFunding',
  'startConstruction',
  'recordProgress',
  'recordPayment',
  'acceptCompletion',
  'suspend',
  'resume',
  'remove',
  'withdraw',
  'extendDeadline',
  'pauseClock',
  'resumeClock',
  'raiseBlocker',
  'editDetails',
  'requestChange',
  'decideChange',
];

/** The argument of every action update: who acts (from the token, never the body), and a request id. */
export interface ActionRequest<A extends ProjectAction = ProjectAction> {
  requestId: string;
  actor: Actor;
  action: A;
}

export const PROJECT_CODE_PATTERN = /^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$/;
