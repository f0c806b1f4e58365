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

/**
 * One part of a dispatch snapshot's stage map (`<snapshotId>:stages:<part>`): the stage of up to
 * STAGES_PER_PART projects when the report ran, which the next period's conversion figures start from. Kept out
 * of the snapshot document, which would near MongoDB's 16 MiB limit at about 100,000 projects.
 */
export interface SnapshotStagesDoc {
  _id: string;
  snapshotId: string;
  part: number;
  parts: number;
  stages: Record<string, string>;
}

export interface SupervisionModels {
  ReportSnapshot: Model<ReportSnapshotDoc>;
  SnapshotStages: Model<SnapshotStagesDoc>;
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
    SnapshotStages: conn.model<SnapshotStagesDoc>(
      'SnapshotStages',
      new Schema<SnapshotStagesDoc>(
        { _id: String, snapshotId: String, part: Number, parts: Number, stages: mixed },
        { ...opts, collection: 'snapshotStages' },
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

export const STAGES_PER_PART = 10_000;

const stagesPartId = (snapshotId: string, part: number) => `${snapshotId}:stages:${part}`;

/** Stores a snapshot's stage map in parts, before the snapshot itself (a retry rewrites the same parts). */
export async function writeSnapshotStages(
  sm: SupervisionModels,
  snapshotId: string,
  stages: Record<string, string>,
): Promise<void> {
  const entries = Object.entries(stages);
  const parts = Math.max(1, Math.ceil(entries.length / STAGES_PER_PART));
  for (let part = 0; part < parts; part++) {
    const slice = entries.slice(part * STAGES_PER_PART, (part + 1) * STAGES_PER_PART);
    await sm.SnapshotStages.replaceOne(
      { _id: stagesPartId(snapshotId, part) },
      { snapshotId, part, parts, stages: Object.fromEntries(slice) },
      { upsert: true },
    );
  }
}

/** The stage map stored in parts under `snapshotId`, or undefined when it has none. */
async function stagesInParts(
  sm: SupervisionModels,
  snapshotId: string,
): Promise<Record<string, string> | undefined> {
  const first = await sm.SnapshotStages.findById(stagesPartId(snapshotId, 0)).lean();
  if (!first) return undefined;
  const stages = { ...first.stages };
  for (let part = 1; part < first.parts; part++) {
    const doc = await sm.SnapshotStages.findById(stagesPartId(snapshotId, part)).lean();
    if (!doc) throw new Error(`snapshot ${snapshotId}: stage part ${part} of ${first.parts} is missing`);
    Object.assign(stages, doc.stages);
  }
  return stages;
}

/**
 * The stage map of a snapshot: its parts, or `report.stages` of a snapshot stored before the map moved out
 * (read alone); `{}` for a snapshot without one, undefined when there is no such snapshot.
 */
export async function snapshotStages(
  sm: SupervisionModels,
  snapshotId: string,
): Promise<Record<string, string> | undefined> {
  const parts = await stagesInParts(sm, snapshotId);
  if (parts) return parts;
  const legacy = await sm.ReportSnapshot.findById(snapshotId, { 'report.stages': 1 }).lean();
  return legacy ? (legacy.report?.stages ?? {}) : undefined;
}

/** A snapshot as it was stored before its stage map moved out: `report.stages` in place (GET /reports/:id). */
export async function withStages<T extends Pick<ReportSnapshotDoc, '_id' | 'report'>>(
  sm: SupervisionModels,
  snap: T,
): Promise<T> {
  if (snap.report.stages) return snap;
  const stages = await stagesInParts(sm, snap._id);
  return stages ? { ...snap, report: { ...snap.report, stages } } : snap;
}
