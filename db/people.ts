import { Schema, type Connection, type Model } from 'mongoose';

// The people directory: 包联领导, unit heads (负责人) and anyone else an escalation names, with their own
// delivery channels. Webhook URLs and secrets are credentials: they live only here (like `orgChannels`) and are
// read at send time; the API never returns a secret, and returns URLs without their query string.

export interface PersonWebhook {
  url: string;
  secret: string;
}

export interface PersonDoc {
  _id: string; // person id, e.g. `vm-zhang`; projects name their 包联领导 by it
  name: string;
  /** 职务, e.g. 副市长, 局长. */
  post: string;
  /** The organisation (policy org id) the person belongs to. */
  org: string;
  /** The organisations whose head (负责人) the person is; at most one head per organisation. */
  headOf: string[];
  channels: { emails: string[]; webhooks: PersonWebhook[] };
  updatedAt: Date;
  updatedBy: string;
}

/** Idempotent per connection: the API's and the worker's models may share one connection. */
export function createPeopleModel(conn: Connection): Model<PersonDoc> {
  const existing = (conn.models as Partial<{ Person: Model<PersonDoc> }>).Person;
  if (existing) return existing;
  return conn.model<PersonDoc>(
    'Person',
    new Schema<PersonDoc>(
      {
        _id: String,
        name: String,
        post: String,
        org: String,
        headOf: [String],
        channels: Schema.Types.Mixed,
        updatedAt: Date,
        updatedBy: String,
      },
      { versionKey: false, minimize: false, collection: 'people' },
    ),
  );
}

/**
 * The head (负责人) of an organisation, if the directory names one. FerretDB answers this with a scan of
 * `people`, which holds one small document per official (hundreds), so an L1 escalation pays little for it.
 * Should two people claim the same organisation (two concurrent writes), the lowest id wins, always the same.
 */
export async function headOf(People: Model<PersonDoc>, org: string): Promise<PersonDoc | null> {
  const [head] = await People.find({ headOf: org }).sort({ _id: 1 }).limit(1).lean();
  return head ?? null;
}

/** Which of these ids the directory lacks (one query for a whole import file). */
export async function unknownPersonIds(People: Model<PersonDoc>, ids: readonly string[]): Promise<string[]> {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return [];
  const found = new Set((await People.find({ _id: { $in: wanted } }, { _id: 1 }).lean()).map((p) => p._id));
  return wanted.filter((id) => !found.has(id));
}

/** Creates or replaces one person (an administrator's action, also used by tests). */
export async function putPerson(
  People: Model<PersonDoc>,
  person: Omit<PersonDoc, 'updatedAt' | 'updatedBy'> & { updatedBy?: string },
): Promise<PersonDoc> {
  for (const w of person.channels.webhooks) {
    if (!/^https?:\/\//.test(w.url)) throw new Error(`webhook of ${person._id}: expected an http(s) URL`);
    if (w.secret.length < 16)
      throw new Error(`webhook of ${person._id}: the signing secret needs ≥ 16 characters`);
  }
  const doc: PersonDoc = {
    ...person,
    channels: {
      emails: person.channels.emails.map((e) => e.trim()).filter((e) => e !== ''),
      webhooks: person.channels.webhooks,
    },
    updatedAt: new Date(),
    updatedBy: person.updatedBy ?? 'system',
  };
  await People.replaceOne({ _id: doc._id }, doc, { upsert: true });
  return doc;
}
