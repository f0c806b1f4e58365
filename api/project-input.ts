import type { Organisation, Policy } from '../policy/schema';
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
