import type { z } from 'zod';
import { seesEveryProject } from '../domain/access';
import type { Actor } from '../domain/project';
import type { ApiDeps } from './app';
import { ApiError } from './problem';
import type { ListProjectsQuery } from './schemas';

const SORT_FIELDS = { updatedAt: 'updatedAt', createdAt: 'createdAt', name: 'details.name' } as const;

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface Cursor {
  v: string | number;
  id: string;
}

function decodeCursor(c: string): Cursor {
  try {
    const parsed = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as Cursor;
    if (typeof parsed.id !== 'string' || (typeof parsed.v !== 'string' && typeof parsed.v !== 'number'))
      throw new Error('shape');
    return parsed;
  } catch {
    throw new ApiError(400, 'validation', 'Validation failed', 'invalid cursor', {
      errors: [{ in: 'query', path: 'cursor', message: 'invalid' }],
    });
  }
}

/** Lists projects from the read model: those the caller may read (domain/access.ts). */
export async function listProjects(deps: ApiDeps, actor: Actor, q: z.infer<typeof ListProjectsQuery>) {
  const and: Record<string, unknown>[] = [];
  if (!seesEveryProject(actor, deps.projects.policy.leadingGroup)) {
    // The access rule of domain/access.ts; records written before `readers` existed fall back to what they hold.
    and.push({
      $or: [
        { readers: actor.org },
        { readers: { $exists: false }, 'details.ownerOrg': actor.org },
        { readers: { $exists: false }, 'details.responsibleDept': actor.org },
        { readers: { $exists: false }, 'details.portfolio': actor.org },
        { readers: { $exists: false }, 'openTasks.assigneeOrg': actor.org },
      ],
    });
  }
  if (q.stage) and.push({ stage: { $in: q.stage.split(',') } });
  if (q.library) and.push({ library: q.library });
  if (q.county) and.push({ 'details.county': q.county });
  if (q.portfolio) and.push({ 'details.portfolio': q.portfolio });
  if (q.org)
    and.push({
      $or: [
        { 'details.ownerOrg': q.org },
        { 'details.responsibleDept': q.org },
        { 'openTasks.assigneeOrg': q.org },
      ],
    });
  if (q.overdue !== undefined) and.push({ 'flags.overdue': q.overdue });
  if (q.stale !== undefined) and.push({ 'flags.stale': q.stale });
  if (q.flag) and.push({ [`flags.${q.flag}`]: true });
  if (q.q) and.push({ $or: [{ 'details.name': { $regex: escapeRegex(q.q) } }, { _id: q.q }] });
  const desc = q.sort.startsWith('-');
  const field = SORT_FIELDS[q.sort.replace('-', '') as keyof typeof SORT_FIELDS];
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    const v = field === 'details.name' ? c.v : new Date(c.v);
    const op = desc ? '$lt' : '$gt';
    and.push({ $or: [{ [field]: { [op]: v } }, { [field]: v, _id: { [op]: c.id } }] });
  }
  const dir = desc ? -1 : 1;
  const docs = await deps.models.Project.find(and.length ? { $and: and } : {}, { state: 0 })
    .sort({ [field]: dir, _id: dir })
    .limit(q.limit + 1)
    .lean();
  const page = docs.slice(0, q.limit);
  const last = page[page.length - 1];
  const value = (d: (typeof page)[number]) =>
    field === 'details.name' ? (d.details.name as string) : new Date(d[field]).toISOString();
  return {
    projects: page.map((d) => ({
      projectId: d._id,
      name: d.details.name,
      stage: d.stage,
      library: d.library,
      county: d.details.county,
      portfolio: d.details.portfolio,
      ownerOrg: d.details.ownerOrg,
      totalInvestmentYuan: d.details.totalInvestmentYuan,
      flags: d.flags,
      openTasks: d.openTasks.length,
      updatedAt: d.updatedAt,
    })),
    nextCursor:
      docs.length > q.limit && last
        ? Buffer.from(JSON.stringify({ v: value(last), id: last._id })).toString('base64url')
        : null,
  };
}
