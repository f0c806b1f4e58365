import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import { createPeopleModel, type PersonDoc } from './people';

// FerretDB's SQLite backend pushes only `_id` equality down to SQL, so every hot path is keyed by `_id`:
// one project (`projects._id`), one task (`tasks._id`), a project's audit trail in chunks (`trailChunks._id`). An inbox
// is listed by reading its organisation's own collection (`inbox.<org>`, keyed by task id) whole: never a scan of
// every organisation's open tasks.

export interface ProjectDoc {
  _id: string;
  seq: number; // last transition applied; writes with an older seq are ignored
  stage: string;
  library: string;
  policyVersion: string;
  details: Record<string, unknown>;
  state: Record<string, unknown>; // workflow-owned facts (codes, funding, progress, payments…)
  openTasks: Record<string, unknown>[];
  /** Organisations that may read the project (domain/access.ts); absent on records of releases before 0.6. */
  readers?: string[];
  flags: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

export interface TaskDoc {
  _id: string; // task id
  projectId: string;
  seq: number;
  assigneeOrg: string;
  /** The organisations whose inbox may list the task (all but the assignee's are cleared after each write). */
  listedIn?: string[];
  status: string;
  task: Record<string, unknown>;
  updatedAt: Date;
}

/** One audit-trail entry; `transitionId` is `<projectId>:<seq>`, so a retried activity rewrites the same entry. */
export interface AuditEntry {
  transitionId: string;
  projectId: string;
  seq: number;
  type: string;
  at: Date;
  actor?: Record<string, unknown>;
  stageBefore: string;
  stageAfter: string;
  requestId?: string;
  data?: Record<string, unknown>;
}

/**
 * One open task in its assignee organisation's inbox (the department inbox); removed when the task closes.
 * One small document per task: a write never rewrites an organisation's whole inbox.
 */
export interface InboxItemDoc {
  _id: string; // task id
  org: string;
  projectId: string;
  projectName: string;
  kind: string;
  title: string;
  stage: string;
  tier: number | null;
  dueAt: Date | null;
  escalationLevel: number;
  openedAt: Date;
  /** Set on blocker tasks: the blocker to act on (resolve, confirm, reopen). */
  blockerId?: string;
}

/** An entry of an organisation's inbox collection (`inbox.<org>`): the collection names the organisation. */
export type InboxEntryDoc = Omit<InboxItemDoc, 'org'>;

/** The collection holding one organisation's inbox. */
export const inboxCollectionName = (org: string): string => `${INBOX_COLLECTION_PREFIX}${org}`;
export const INBOX_COLLECTION_PREFIX = 'inbox.';

/**
 * Before release 0.5 an organisation's inbox was one document (its open tasks keyed by task id). It grew with
 * every open task and each change rewrote all of it; `migrateLegacyInboxes` moves it to `inbox.<org>`.
 */
export interface InboxDoc {
  _id: string;
  open: Record<string, Record<string, unknown>>;
}

/**
 * Up to release 1.1, one project's (or blocker's) audit trail in one document (`events.<seq>`). Each new entry
 * rewrote all of it, and FerretDB's cost per write grows with every field it decodes; it is now read only.
 */
export interface EventLogDoc {
  _id: string;
  events: Record<string, AuditEntry>;
}

/**
 * Since release 1.2 a trail is kept in chunks of TRAIL_CHUNK_SIZE entries (`_id` `<trailId>#<k>`, entries
 * k·size+1 … (k+1)·size as `events.<seq>`): a write rewrites at most one small chunk, however long the trail, and a
 * reader still finds every chunk by `_id`.
 */
export interface TrailChunkDoc {
  _id: string;
  events: Record<string, AuditEntry>;
}
export const TRAIL_CHUNK_SIZE = 16;
export const trailChunkId = (trailId: string, chunk: number): string => `${trailId}#${chunk}`;
export const trailChunkOf = (seq: number): number => Math.floor((seq - 1) / TRAIL_CHUNK_SIZE);

/** One blocker (堵点) as its workflow last wrote it. */
export interface BlockerDoc {
  _id: string; // `<projectId>-B<n>`
  projectId: string;
  projectName: string;
  seq: number;
  number: number;
  category: string;
  level: string;
  responsibleOrg: string;
  description: string;
  raisedBy: Record<string, unknown>;
  raisedByOrg: string;
  raisedAt: Date;
  status: string;
  round: number;
  escalationLevel: number;
  overdue: boolean;
  openTask: Record<string, unknown> | null;
  dueAt: Date | null;
  resolutions: Record<string, unknown>[];
  reopenings: Record<string, unknown>[];
  closedAt: Date | null;
  closedBy: Record<string, unknown> | null;
  updatedAt: Date;
}

/** One bulk import: the validation report, the rows to create, and progress. */
export interface ImportJobDoc {
  _id: string;
  org: string;
  actor: Record<string, unknown>;
  fileName: string | null;
  fileSha256: string;
  kind: string;
  mode: 'all-or-nothing' | 'valid-only';
  status: 'REJECTED' | 'RUNNING' | 'COMPLETED' | 'FAILED';
  rows: number;
  valid: number;
  invalid: number;
  problems: { row: number; column: string | null; message: string }[];
  /** Each row's project; its create-project body moves to `importRows` once the import's workflow stages it. */
  items: { row: number; projectId: string; body?: Record<string, unknown> }[];
  toCreate: number;
  created: number;
  error: string | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

/**
 * The create-project bodies of one batch of an import (`<importId>:<from>`), staged from the job by its workflow:
 * each batch reads its own rows by `_id`, and the job document (read by every progress poll) stays small.
 */
export interface ImportRowsDoc {
  _id: string;
  importId: string;
  from: number;
  /** The importing organisation and user, as on the job. */
  org: string;
  actor: Record<string, unknown>;
  items: { row: number; projectId: string; body: Record<string, unknown> }[];
}

/**
 * What the supervision reports read of one project (`projectFacts`, keyed by project id): domain/supervision.ts
 * `projectFactsOf`, written with the project's record at the same seq. The facts are one JSON string (see there).
 */
export interface ProjectFactsDoc {
  _id: string;
  seq: number;
  /** REPORT_FACTS_VERSION of the shape the facts were written in. */
  v: number;
  facts: string;
}

/** A migration of the read model done at worker start (db/read-model-setup.ts), by name, with its version. */
export interface ReadModelMigrationDoc {
  _id: string;
  version: number;
  at: Date;
  written: number;
}

export interface Models {
  Project: Model<ProjectDoc>;
  Task: Model<TaskDoc>;
  /** Trails as written up to release 1.1 (one document each): read, never written. */
  EventLog: Model<EventLogDoc>;
  TrailChunk: Model<TrailChunkDoc>;
  Blocker: Model<BlockerDoc>;
  ImportJob: Model<ImportJobDoc>;
  /** One organisation's inbox (`inbox.<org>`): one document per open task assigned to it. */
  inboxOf(org: string): Model<InboxEntryDoc>;
  /** The 0.5–1.1 inbox of every organisation in one collection, read only to migrate it (db/read-model-setup.ts). */
  InboxItem: Model<InboxItemDoc>;
  /** The pre-0.5 inbox documents, read only to migrate them. */
  Inbox: Model<InboxDoc>;
  /** The people directory (包联领导, unit heads) with their channels: db/people.ts. */
  People: Model<PersonDoc>;
  ProjectFacts: Model<ProjectFactsDoc>;
  ImportRows: Model<ImportRowsDoc>;
  ReadModelMigration: Model<ReadModelMigrationDoc>;
}

const mixed = Schema.Types.Mixed;

export function createModels(conn: Connection): Models {
  const Project = conn.model<ProjectDoc>(
    'Project',
    new Schema<ProjectDoc>(
      {
        _id: String,
        seq: Number,
        stage: String,
        library: String,
        policyVersion: String,
        details: mixed,
        state: mixed,
        openTasks: [mixed],
        readers: { type: [String], default: undefined },
        flags: mixed,
        createdAt: Date,
        updatedAt: Date,
      },
      { versionKey: false, minimize: false, collection: 'projects' },
    ),
  );
  const Task = conn.model<TaskDoc>(
    'Task',
    new Schema<TaskDoc>(
      {
        _id: String,
        projectId: String,
        seq: Number,
        assigneeOrg: String,
        listedIn: { type: [String], default: undefined },
        status: String,
        task: mixed,
        updatedAt: Date,
      },
      { versionKey: false, minimize: false, collection: 'tasks' },
    ),
  );
  const Inbox = conn.model<InboxDoc>(
    'Inbox',
    new Schema<InboxDoc>(
      { _id: String, open: mixed },
      { versionKey: false, minimize: false, collection: 'inboxes' },
    ),
  );
  const inboxEntryFields = {
    _id: String,
    projectId: String,
    projectName: String,
    kind: String,
    title: String,
    stage: String,
    tier: { type: Number, default: null },
    dueAt: { type: Date, default: null },
    escalationLevel: Number,
    openedAt: Date,
    blockerId: String,
  };
  const InboxItem = conn.model<InboxItemDoc>(
    'InboxItem',
    new Schema<InboxItemDoc>(
      { ...inboxEntryFields, org: String },
      { versionKey: false, minimize: false, collection: 'inboxItems' },
    ),
  );
  // FerretDB on SQLite decodes every document a filter looks at: an organisation's inbox is its own collection,
  // so listing it reads its open tasks and no one else's.
  const inboxEntrySchema = new Schema<InboxEntryDoc>(inboxEntryFields, {
    versionKey: false,
    minimize: false,
  });
  const inboxOf = (org: string): Model<InboxEntryDoc> => {
    if (!/^[a-z][a-z0-9-]*$/.test(org))
      throw new RangeError(`not an organisation id: ${JSON.stringify(org)}`);
    const name = `Inbox:${org}`;
    return (
      (conn.models[name] as Model<InboxEntryDoc> | undefined) ??
      conn.model<InboxEntryDoc>(name, inboxEntrySchema, inboxCollectionName(org))
    );
  };
  const EventLog = conn.model<EventLogDoc>(
    'EventLog',
    new Schema<EventLogDoc>(
      { _id: String, events: mixed },
      { versionKey: false, minimize: false, collection: 'eventLogs' },
    ),
  );
  const TrailChunk = conn.model<TrailChunkDoc>(
    'TrailChunk',
    new Schema<TrailChunkDoc>(
      { _id: String, events: mixed },
      { versionKey: false, minimize: false, collection: 'trailChunks' },
    ),
  );
  const Blocker = conn.model<BlockerDoc>(
    'Blocker',
    new Schema<BlockerDoc>(
      {
        _id: String,
        projectId: String,
        projectName: String,
        seq: Number,
        number: Number,
        category: String,
        level: String,
        responsibleOrg: String,
        description: String,
        raisedBy: mixed,
        raisedByOrg: String,
        raisedAt: Date,
        status: String,
        round: Number,
        escalationLevel: Number,
        overdue: Boolean,
        openTask: mixed,
        dueAt: Date,
        resolutions: mixed,
        reopenings: mixed,
        closedAt: Date,
        closedBy: mixed,
        updatedAt: Date,
      },
      { versionKey: false, minimize: false, collection: 'blockers' },
    ),
  );
  const ImportJob = conn.model<ImportJobDoc>(
    'ImportJob',
    new Schema<ImportJobDoc>(
      {
        _id: String,
        org: String,
        actor: mixed,
        fileName: String,
        fileSha256: String,
        kind: String,
        mode: String,
        status: String,
        rows: Number,
        valid: Number,
        invalid: Number,
        problems: mixed,
        items: mixed,
        toCreate: Number,
        created: Number,
        error: String,
        createdAt: Date,
        updatedAt: Date,
        finishedAt: Date,
      },
      { versionKey: false, minimize: false, collection: 'imports' },
    ),
  );
  const ProjectFacts = conn.model<ProjectFactsDoc>(
    'ProjectFacts',
    new Schema<ProjectFactsDoc>(
      { _id: String, seq: Number, v: Number, facts: String },
      { versionKey: false, minimize: false, collection: 'projectFacts' },
    ),
  );
  const ImportRows = conn.model<ImportRowsDoc>(
    'ImportRows',
    new Schema<ImportRowsDoc>(
      { _id: String, importId: String, from: Number, org: String, actor: mixed, items: mixed },
      { versionKey: false, minimize: false, collection: 'importRows' },
    ),
  );
  const ReadModelMigration = conn.model<ReadModelMigrationDoc>(
    'ReadModelMigration',
    new Schema<ReadModelMigrationDoc>(
      { _id: String, version: Number, at: Date, written: Number },
      { versionKey: false, minimize: false, collection: 'readModelMigrations' },
    ),
  );
  return {
    Project,
    Task,
    EventLog,
    TrailChunk,
    inboxOf,
    InboxItem,
    Inbox,
    Blocker,
    ImportJob,
    People: createPeopleModel(conn),
    ProjectFacts,
    ImportRows,
    ReadModelMigration,
  };
}

export async function connectMongo(uri: string): Promise<Connection> {
  const conn = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: 5000,
    // FerretDB 1.x has no sessions/transactions; retryable writes would need them.
    retryWrites: false,
    autoIndex: false,
  });
  await conn.asPromise();
  return conn;
}
