import { Schema, type Connection, type Model } from 'mongoose';
import type { Actor } from '../domain/project';

// The expert pool and the lists tiers 2 and 3 produce. The lists are read by `_id` (FerretDB pushes only `_id`
// equality down): one `reviewLists` document per list names the projects (or tasks) to read, each then by `_id`.

/** One term (届) of an expert in the pool: two years by default (policy `experts.termYears`). */
export interface ExpertTerm {
  number: number; // 第 n 届
  startsOn: string; // YYYY-MM-DD
  endsOn: string; // YYYY-MM-DD, the term's last day
  by: string;
  at: Date;
}

/** A member of the expert pool (专家库): a person, or a third-party institution (第三方机构). */
export interface ExpertDoc {
  _id: string;
  name: string;
  kind: 'EXPERT' | 'THIRD_PARTY';
  field: string;
  institution?: string | undefined;
  /** 职称 / 资质 */
  title?: string | undefined;
  status: 'ACTIVE' | 'EXITED';
  /** Every term, oldest first; the last is the current one. */
  terms: ExpertTerm[];
  /** 退出: why, by whom, when; kept on record. */
  exit?: { reason: string; by: string; at: Date } | undefined;
  admittedBy: string;
  admittedByOrg: string;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * Where to look for a list's members: `group:<orgId>` (projects a special group reviewed), `year:<YYYY>` (projects
 * a joint meeting of that year decided), `meeting:<YYYY-MM>` (tier-3 tasks put to that meeting's decision). Written
 * before the decision is sent; each member is checked against the project's own record when the list is read, so
 * an entry whose decision was refused lists nothing.
 */
export interface ReviewListDoc {
  _id: string;
  entries: Record<string, Date>;
}

/** The annual 重点项目库 as the leading group approved it (审定): immutable, one document per version. */
export interface KeyProjectApprovalDoc {
  _id: string; // `${year}:v${version}`
  year: number;
  version: number;
  documentNumber: string;
  note?: string | undefined;
  approvedBy: Actor;
  approvedAt: Date;
  /** The list as approved (same shape as `GET /key-projects`). */
  list: Record<string, unknown>;
  /** What identifies the approved content: the decisions listed. */
  fingerprint: string;
  /** When its publication to departments, counties and special groups was started. */
  publishedAt: Date | null;
  noticeWorkflowId: string | null;
}

export interface ReviewModels {
  Expert: Model<ExpertDoc>;
  ReviewList: Model<ReviewListDoc>;
  KeyProjectApproval: Model<KeyProjectApprovalDoc>;
}

const cache = new WeakMap<Connection, ReviewModels>();

/** Idempotent per connection: the API derives them from the connection its other models use. */
export function createReviewModels(conn: Connection): ReviewModels {
  const known = cache.get(conn);
  if (known) return known;
  const mixed = Schema.Types.Mixed;
  const opts = { versionKey: false as const, minimize: false };
  const models: ReviewModels = {
    Expert: conn.model<ExpertDoc>(
      'Expert',
      new Schema<ExpertDoc>(
        {
          _id: String,
          name: String,
          kind: String,
          field: String,
          institution: String,
          title: String,
          status: String,
          terms: [mixed],
          exit: mixed,
          admittedBy: String,
          admittedByOrg: String,
          createdAt: Date,
          updatedAt: Date,
        },
        { ...opts, collection: 'experts' },
      ),
    ),
    ReviewList: conn.model<ReviewListDoc>(
      'ReviewList',
      new Schema<ReviewListDoc>({ _id: String, entries: mixed }, { ...opts, collection: 'reviewLists' }),
    ),
    KeyProjectApproval: conn.model<KeyProjectApprovalDoc>(
      'KeyProjectApproval',
      new Schema<KeyProjectApprovalDoc>(
        {
          _id: String,
          year: Number,
          version: Number,
          documentNumber: String,
          note: String,
          approvedBy: mixed,
          approvedAt: Date,
          list: mixed,
          fingerprint: String,
          publishedAt: Date,
          noticeWorkflowId: String,
        },
        { ...opts, collection: 'keyProjectApprovals' },
      ),
    ),
  };
  cache.set(conn, models);
  return models;
}
