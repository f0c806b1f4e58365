import type { Actor } from './project';
import type { RemovalReason, ReviewDecision } from './state';
import type { FundingState } from './funding';
import type {
  ExpertRef,
  FundAllocation,
  SpecialistDimension,
  SpecialistOutcome,
} from './stages/review-outputs';

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
  | { type: 'checkStart'; decision: 'CONFIRM' | 'REFUSE'; opinion?: string | undefined }
  | { type: 'inviteExperts'; taskId: string; experts: ExpertRef[] }
  | {
      type: 'decideSpecialistReview';
      taskId: string;
      outcome: SpecialistOutcome;
      assessments: Record<SpecialistDimension, string>;
      expertOpinions?: { expertId: string; opinion: string }[] | undefined;
    }
  | {
      type: 'decideComprehensiveReview';
      taskId: string;
      /** The joint meeting that decided (its month, and the day it was held — postponed or not). */
      meeting: { month: string; date: string };
      included?: boolean | undefined;
      returned?: boolean | undefined;
      opinion?: string | undefined;
      fundAllocation?: FundAllocation | undefined;
    }
  | { type: 'setProvincialKey'; provincialKey: boolean; documentNumber: string }
  | {
      type: 'recordFundingSource';
      /** A new source names its type; a later state of a recorded one names its id. */
      sourceId?: string | undefined;
      sourceType?: string | undefined;
      state: FundingState;
      amountYuan: number;
      date: string;
      documentNumber?: string | undefined;
      securedBy?: string | undefined;
    }
  | { type: 'rescheduleMeetingTasks'; meetingMonth: string; date: string }
  | { type: 'approveStartException'; reason: string }
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
  'checkStart',
  'approveStartException',
  'inviteExperts',
  'decideSpecialistReview',
  'decideComprehensiveReview',
  'setProvincialKey',
  'rescheduleMeetingTasks',
  'recordFundingSource',
];

/** The argument of every action update: who acts (from the token, never the body), and a request id. */
export interface ActionRequest<A extends ProjectAction = ProjectAction> {
  requestId: string;
  actor: Actor;
  action: A;
}

export const PROJECT_CODE_PATTERN = /^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$/;
