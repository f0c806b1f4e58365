/**
 * The expert pool (专家库, seed annex 1 二(一)1): experts and third-party institutions admitted by field, each for a
 * term (届) of `policy.experts.termYears` years, exited with a reason (动态准入+退出), renewed for a new term. The
 * review workflow keeps its own record of each invited expert (ExpertRef); this module is where the pool lives.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { ExpertRef } from '../domain/stages/review-outputs';
import type { ExpertDoc, ExpertTerm, ReviewModels } from '../db/review-models';
import { isDuplicateKey } from '../db/errors';

/** The last day of a term of `years` years starting on `startsOn`: 2025-03-01 + 2 years − 1 day = 2027-02-28. */
export function termEndOf(startsOn: string, years: number): string {
  const [y, m, d] = startsOn.split('-').map(Number) as [number, number, number];
  // Date.UTC rolls 29 February of a non-leap year over to 1 March; the day before is then 28 February.
  return new Date(Date.UTC(y + years, m - 1, d) - 86_400_000).toISOString().slice(0, 10);
}

/** The term in force on `day`, else the latest one already begun; undefined when none has begun. */
export function termOn(expert: Pick<ExpertDoc, 'terms'>, day: string): ExpertTerm | undefined {
  const begun = expert.terms.filter((t) => t.startsOn <= day);
  return begun.find((t) => t.endsOn >= day) ?? begun.at(-1);
}

/** What an invitation records of an expert: the pool's facts on `day`, with the term in force then. */
export function expertRefOf(expert: ExpertDoc, day: string): ExpertRef | undefined {
  const term = termOn(expert, day);
  if (!term) return undefined;
  return {
    expertId: expert._id,
    name: expert.name,
    field: expert.field,
    institution: expert.institution,
    kind: expert.kind,
    termEndsOn: term.endsOn,
    status: expert.status,
  };
}

export interface ExpertView {
  id: string;
  name: string;
  kind: ExpertDoc['kind'];
  field: string;
  institution?: string | undefined;
  title?: string | undefined;
  status: ExpertDoc['status'];
  /** ACTIVE and within a term today: may be invited. */
  invitable: boolean;
  term: ExpertTerm | null;
  terms: ExpertTerm[];
  exit?: ExpertDoc['exit'];
  admittedBy: string;
  admittedByOrg: string;
  createdAt: Date;
  updatedAt: Date;
}

export function expertView(e: ExpertDoc, today: string): ExpertView {
  const term = termOn(e, today) ?? null;
  return {
    id: e._id,
    name: e.name,
    kind: e.kind,
    field: e.field,
    institution: e.institution,
    title: e.title,
    status: e.status,
    invitable: e.status === 'ACTIVE' && term !== null && term.endsOn >= today,
    term,
    terms: e.terms,
    exit: e.exit,
    admittedBy: e.admittedBy,
    admittedByOrg: e.admittedByOrg,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}

export class ExpertPoolError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'EXITED' | 'TERM_OVERLAPS',
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface Admission {
  name: string;
  kind: ExpertDoc['kind'];
  field: string;
  institution?: string | undefined;
  title?: string | undefined;
  termNumber: number;
  termStartsOn: string;
}

export function createExpertPool(models: ReviewModels, termYears: number) {
  const { Expert } = models;
  const now = () => new Date();

  return {
    /** 准入. With an idempotency key the id derives from it, so a retried admission finds the same expert. */
    async admit(a: Admission, by: { userId: string; org: string }, key?: string): Promise<ExpertDoc> {
      const id = key
        ? 'EX' + createHash('sha256').update(`${by.org}\n${key}`).digest('hex').slice(0, 16)
        : 'EX' + randomUUID().replace(/-/g, '').slice(0, 16);
      const at = now();
      const doc: ExpertDoc = {
        _id: id,
        name: a.name,
        kind: a.kind,
        field: a.field,
        ...(a.institution ? { institution: a.institution } : {}),
        ...(a.title ? { title: a.title } : {}),
        status: 'ACTIVE',
        terms: [
          {
            number: a.termNumber,
            startsOn: a.termStartsOn,
            endsOn: termEndOf(a.termStartsOn, termYears),
            by: by.userId,
            at,
          },
        ],
        admittedBy: by.userId,
        admittedByOrg: by.org,
        createdAt: at,
        updatedAt: at,
      };
      try {
        await Expert.create(doc);
        return doc;
      } catch (err) {
        if (!key || !isDuplicateKey(err)) throw err;
        return (await Expert.findById(id).lean())!;
      }
    },

    async get(id: string): Promise<ExpertDoc> {
      const e = await Expert.findById(id).lean();
      if (!e) throw new ExpertPoolError('NOT_FOUND', `no expert ${id} in the pool`);
      return e;
    },

    /** The pool is small (hundreds): a filtered scan, sorted by field and name. */
    async list(filter: {
      field?: string | undefined;
      kind?: string | undefined;
      status?: string | undefined;
    }) {
      const q: Record<string, string> = {};
      if (filter.field) q.field = filter.field;
      if (filter.kind) q.kind = filter.kind;
      if (filter.status) q.status = filter.status;
      const docs = await Expert.find(q).lean();
      return docs.sort((a, b) => a.field.localeCompare(b.field) || a.name.localeCompare(b.name, 'zh'));
    },

    /** 退出: the expert stays on record with the reason; an exited expert can no longer be invited. */
    async exit(id: string, reason: string, by: string): Promise<ExpertDoc> {
      const at = now();
      const res = await Expert.updateOne(
        { _id: id, status: 'ACTIVE' },
        { $set: { status: 'EXITED', exit: { reason, by, at }, updatedAt: at } },
      );
      if (res.matchedCount === 0) {
        const e = await this.get(id);
        throw new ExpertPoolError('EXITED', `expert ${e.name} (${id}) has already exited the pool`);
      }
      return this.get(id);
    },

    /** 续聘: a new term after the current one (by default the next 届, from the day after the current term ends). */
    async renew(
      id: string,
      next: { termNumber?: number | undefined; termStartsOn?: string | undefined },
      by: string,
    ): Promise<ExpertDoc> {
      const e = await this.get(id);
      if (e.status === 'EXITED')
        throw new ExpertPoolError('EXITED', `expert ${e.name} (${id}) has exited the pool; admit them anew`);
      const current = e.terms.at(-1)!;
      const startsOn = next.termStartsOn ?? dayAfter(current.endsOn);
      const number = next.termNumber ?? current.number + 1;
      if (startsOn <= current.endsOn)
        throw new ExpertPoolError(
          'TERM_OVERLAPS',
          `the new term starts after the current one ends (${current.endsOn})`,
          'termStartsOn',
        );
      if (number <= current.number)
        throw new ExpertPoolError('TERM_OVERLAPS', `the new 届 follows 第${current.number}届`, 'termNumber');
      const at = now();
      const term: ExpertTerm = { number, startsOn, endsOn: termEndOf(startsOn, termYears), by, at };
      // Guarded by the term count read above: two renewals at once add one term.
      const res = await Expert.updateOne(
        { _id: id, status: 'ACTIVE', terms: { $size: e.terms.length } },
        { $push: { terms: term }, $set: { updatedAt: at } },
      );
      if (res.matchedCount === 0)
        throw new ExpertPoolError(
          'TERM_OVERLAPS',
          'the expert changed meanwhile; read it again',
          'termNumber',
        );
      return this.get(id);
    },
  };
}

function dayAfter(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

export type ExpertPool = ReturnType<typeof createExpertPool>;
