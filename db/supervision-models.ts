import { Schema, type Connection, type Model } from 'mongoose';

export type SupervisionKind =
  'MONTHLY_DISPATCH' | 'QUARTERLY_ADJUSTMENT' | 'QUARTERLY_BULLETIN' | 'ANNUAL_ASSESSMENT';

/** An immutable report: written once per kind and period (`$setOnInsert`), never updated. */
export interface ReportSnapshotDoc {
  _id: string; // `${kind}:${period}`
  kind: SupervisionKind;
  period: string; // 2025-10, 2025-Q4, 2025
  policyVersion: string;
  dataAsOf: Date;
  createdAt: Date;
  projectCount: number;
  report: Record<string, unknown>;
  /** Annual assessment results wait for the leading group's approval before they are published. */
  approval?: { status: 'AWAITING' | 'APPROVED'; approvedBy?: Record<string, unknown>; approvedAt?: Date };
}

/** A quarterly adjustment's proposal to remove a stale or blocked project; the leading group decides. */
export interface RemovalProposalDoc {
  _id: string; // `${period}:${projectId}`
  period: string;
  projectId: string;
  projectName: string;
  portfolio: string;
  why: string;
  status: 'PROPOSED' | 'APPROVED' | 'REJECTED';
  decidedBy?: string;
  decidedAt?: Date;
  reason?: string;
  explanation?: string;
  createdAt: Date;
}

/** A leader's postponement of one month's dispatch meeting (特殊情况顺延). */
export interface DispatchPostponementDoc {
  _id: string; // YYYY-MM
  postponedTo: string; // YYYY-MM-DD
  reason: string;
  by: string;
  at: Date;
}

export interface SupervisionModels {
  ReportSnapshot: Model<ReportSnapshotDoc>;
  RemovalProposal: Model<RemovalProposalDoc>;
  DispatchPostponement: Model<DispatchPostponementDoc>;
}

export function createSupervisionModels(conn: Connection): SupervisionModels {
  const mixed = Schema.Types.Mixed;
  const opts = { versionKey: false as const, minimize: false };
  return {
    ReportSnapshot: conn.model<ReportSnapshotDoc>(
      'ReportSnapshot',
      new Schema<ReportSnapshotDoc>(
        {
          _id: String,
          kind: String,
          period: String,
          policyVersion: String,
          dataAsOf: Date,
          createdAt: Date,
          projectCount: Number,
          report: mixed,
          approval: mixed,
        },
        { ...opts, collection: 'reportSnapshots' },
      ),
    ),
    RemovalProposal: conn.model<RemovalProposalDoc>(
      'RemovalProposal',
      new Schema<RemovalProposalDoc>(
        {
          _id: String,
          period: String,
          projectId: String,
          projectName: String,
          portfolio: String,
          why: String,
          status: String,
          decidedBy: String,
          decidedAt: Date,
          reason: String,
          explanation: String,
          createdAt: Date,
        },
        { ...opts, collection: 'removalProposals' },
      ),
    ),
    DispatchPostponement: conn.model<DispatchPostponementDoc>(
      'DispatchPostponement',
      new Schema<DispatchPostponementDoc>(
        { _id: String, postponedTo: String, reason: String, by: String, at: Date },
        { ...opts, collection: 'dispatchPostponements' },
      ),
    ),
  };
}
