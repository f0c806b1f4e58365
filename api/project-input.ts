import type { Model } from 'mongoose';
import { unknownPersonIds, type PersonDoc } from '../db/people';
import type { Organisation, Policy } from '../policy/schema';
import { ApiError } from './problem';
import type { CreateProjectBody } from './schemas';

/** Which kind of organisation each reference of a new project must name. */
const REFERENCE_KINDS = {
  county: ['COUNTY'],
  portfolio: ['SPECIAL_GROUP'],
  responsibleDept: ['DEPARTMENT'],
} as const;

/**
 * What the schema cannot check about a new project: its organisations exist in the policy with the right kind,
 * and its industry is one the policy screens. One function for `POST /projects` and the bulk import.
 */
export function referenceProblems(
  input: Pick<CreateProjectBody, 'county' | 'portfolio' | 'responsibleDept' | 'industry'>,
  policy: Policy,
  orgIndex: ReadonlyMap<string, Organisation>,
): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  for (const [field, kinds] of Object.entries(REFERENCE_KINDS)) {
    const o = orgIndex.get(input[field as keyof typeof REFERENCE_KINDS]);
    if (!o || !(kinds as readonly string[]).includes(o.kind))
      problems.push({ field, message: `must be an organisation of kind ${kinds.join('/')}` });
  }
  const industries = Object.keys(policy.review.tier1.byIndustry);
  if (!industries.includes(input.industry))
    problems.push({ field: 'industry', message: `one of ${industries.join(', ')}` });
  return problems;
}

const unknownLeader = (id: string) =>
  `no person "${id}" in the people directory: name the 包联领导 by the id GET /people lists`;

/**
 * What referenceProblems cannot check without Mongo: the 包联领导 (`assignedLeader`) is a person of the people
 * directory. For `POST /projects`, `PATCH /projects/{id}` and change requests (pass `body.changes` there).
 */
export async function directoryProblems(
  input: { assignedLeader?: string | null | undefined },
  People: Model<PersonDoc>,
): Promise<{ field: string; message: string }[]> {
  const id = input.assignedLeader;
  if (id === undefined || id === null) return [];
  const [unknown] = await unknownPersonIds(People, [id]);
  return unknown === undefined ? [] : [{ field: 'assignedLeader', message: unknownLeader(unknown) }];
}

/**
 * directoryProblems as the API answers them: 400, the field named in `errors` (under `prefix`, e.g. `changes.`
 * for a change request), as for any other invalid field. One line in a route handler.
 */
export async function assertKnownLeader(
  input: { assignedLeader?: string | null | undefined },
  People: Model<PersonDoc>,
  prefix = '',
): Promise<void> {
  const problems = await directoryProblems(input, People);
  if (problems.length > 0)
    throw new ApiError(400, 'validation', 'Validation failed', 'the request body is invalid', {
      errors: problems.map((p) => ({ in: 'body', path: prefix + p.field, message: p.message })),
    });
}

/**
 * directoryProblems for a whole import file in one query: a valid row naming an unknown 包联领导 becomes an
 * invalid one, reported under `column` like every other row problem.
 */
export async function refuseUnknownLeaders(
  validation: {
    valid: { row: number; body: { assignedLeader?: string | undefined } }[];
    problems: { row: number; column: string | null; message: string }[];
  },
  People: Model<PersonDoc>,
  column = '包联领导',
): Promise<void> {
  const named = validation.valid.flatMap((v) => (v.body.assignedLeader ? [v.body.assignedLeader] : []));
  const unknown = new Set(await unknownPersonIds(People, named));
  if (unknown.size === 0) return;
  const refused = validation.valid.filter((v) => v.body.assignedLeader && unknown.has(v.body.assignedLeader));
  validation.valid = validation.valid.filter((v) => !refused.includes(v));
  for (const v of refused)
    validation.problems.push({ row: v.row, column, message: unknownLeader(v.body.assignedLeader!) });
  validation.problems.sort((a, b) => a.row - b.row);
}

/** Organisation kinds that may own a project entered by the pipeline office. */
export const OWNER_KINDS: readonly string[] = ['COUNTY', 'OWNER'];

/**
 * Who owns a new project: an owner creating a DRAFT is its own organisation; an onboarded project names an
 * organisation of kind COUNTY or OWNER. One rule for `POST /projects` and the bulk import.
 */
export function ownerProblems(
  input: { ownerOrg?: string | undefined; onboarding?: unknown },
  creatorOrg: string,
  orgIndex: ReadonlyMap<string, Organisation>,
): { field: string; message: string }[] {
  if (input.onboarding === undefined) {
    return input.ownerOrg !== undefined && input.ownerOrg !== creatorOrg
      ? [{ field: 'ownerOrg', message: `a DRAFT is of the creating organisation (${creatorOrg})` }]
      : [];
  }
  if (input.ownerOrg === undefined)
    return [{ field: 'ownerOrg', message: 'an onboarded project names its applying unit' }];
  if (!OWNER_KINDS.includes(orgIndex.get(input.ownerOrg)?.kind ?? ''))
    return [{ field: 'ownerOrg', message: `must be an organisation of kind ${OWNER_KINDS.join('/')}` }];
  return [];
}

/**
 * Who may create which projects: a DRAFT by an applicant (role) for its own organisation; a project beyond DRAFT
 * by the organisations of policy `onboarding.organisations`. The refusal, if any, as a problem slug and text.
 */
export function creationRefusal(
  actor: { org: string; roles: readonly string[] },
  kind: 'DRAFT' | 'ONBOARDED',
  onboardingOrgs: readonly string[],
): { slug: string; title: string; detail: string } | undefined {
  if (kind === 'DRAFT' && !actor.roles.includes('applicant'))
    return {
      slug: 'draft-by-applicant',
      title: 'Only an applicant creates a draft',
      detail:
        'a DRAFT is created by the applying unit (role applicant); other organisations onboard projects beyond DRAFT',
    };
  if (kind === 'ONBOARDED' && !onboardingOrgs.includes(actor.org))
    return {
      slug: 'onboarding-not-allowed',
      title: 'Onboarding not allowed',
      detail: `projects are entered beyond DRAFT by ${onboardingOrgs.join(', ')} (policy onboarding.organisations); ${actor.org} is not among them`,
    };
  return undefined;
}
