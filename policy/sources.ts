import { FORMULAS } from '../reports/policy';
import type { Policy, RuleSource } from './schema';

/** One rule of the policy as a reader scans it: where it lives, its value, and where it comes from. */
export interface PolicyRule {
  path: string;
  value: unknown;
  /** `unmarked` only for a policy whose `sources` lack the rule (the default policy has none). */
  source: RuleSource['source'] | 'unmarked';
  law?: string;
  note?: string;
  /** The entry that gives the source when it is stated for a whole group (e.g. `reporting.weights`). */
  sourcePath?: string;
}

const DURATION_KEYS = new Set(['workingDays', 'calendarDays', 'seconds', 'nextMonthlyMeeting']);
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isDuration = (v: unknown): boolean =>
  isObject(v) && Object.keys(v).length === 1 && DURATION_KEYS.has(Object.keys(v)[0]!);

/** A list item's path segment: its `key` (matters, steps) or `level` (escalation), else its index. */
function segmentOf(item: unknown, index: number): string {
  if (isObject(item) && typeof item.key === 'string') return item.key;
  if (isObject(item) && typeof item.level === 'number') return String(item.level);
  return String(index);
}

// Fields that name an item rather than state a rule.
const IDENTIFIERS = new Set(['level']);

/**
 * Every number and every duration of the policy (a duration is one value: `{ workingDays: 20 }`), with its
 * path. These are the values that need a source; `sources` itself is not walked.
 */
export function ruleValues(policy: Policy): { path: string; value: unknown }[] {
  const out: { path: string; value: unknown }[] = [];
  const walk = (v: unknown, path: string[]) => {
    if (typeof v === 'number') out.push({ path: path.join('.'), value: v });
    else if (isDuration(v)) out.push({ path: path.join('.'), value: v });
    else if (Array.isArray(v)) v.forEach((item, i) => walk(item, [...path, segmentOf(item, i)]));
    else if (isObject(v))
      for (const [k, child] of Object.entries(v))
        if (!IDENTIFIERS.has(k) && !(path.length === 0 && k === 'sources')) walk(child, [...path, k]);
  };
  walk(policy, []);
  return out;
}

const FORMULA_PREFIX = 'formulas.';

/** The value at a rule path (`formulas.<name>` is the formula's text), or undefined when there is none. */
export function valueAt(policy: Policy, path: string): unknown {
  if (path.startsWith(FORMULA_PREFIX)) {
    const f = (FORMULAS as Record<string, { zh: string }>)[path.slice(FORMULA_PREFIX.length)];
    return f?.zh;
  }
  let v: unknown = policy;
  for (const seg of path.split('.')) {
    if (Array.isArray(v)) v = v.find((item, i) => segmentOf(item, i) === seg);
    else if (isObject(v) && Object.hasOwn(v, seg)) v = v[seg];
    else return undefined;
  }
  return v;
}

/** The entry of `sources` for a path: its own, else the nearest ancestor's. */
function entryFor(policy: Policy, path: string): { at: string; entry: RuleSource } | undefined {
  const segs = path.split('.');
  for (let n = segs.length; n > 0; n--) {
    const at = segs.slice(0, n).join('.');
    const entry = policy.sources?.[at];
    if (entry) return { at, entry };
  }
  return undefined;
}

function ruleOf(policy: Policy, path: string, value: unknown): PolicyRule {
  const found = entryFor(policy, path);
  if (!found) return { path, value, source: 'unmarked' };
  const { entry, at } = found;
  return {
    path,
    value,
    source: entry.source,
    ...('law' in entry ? { law: entry.law } : {}),
    ...(entry.note ? { note: entry.note } : {}),
    ...(at !== path ? { sourcePath: at } : {}),
  };
}

/**
 * The flat list GET /policy returns: every number and duration, every other value a source names (e.g. the
 * dispatch day, a scope), and every report formula — each with its source.
 */
export function policyRules(policy: Policy): PolicyRule[] {
  const rules = ruleValues(policy).map(({ path, value }) => ruleOf(policy, path, value));
  const listed = new Set(rules.map((r) => r.path));
  const isListedOrAbove = (p: string) => [...listed].some((l) => l === p || l.startsWith(`${p}.`));
  for (const path of Object.keys(policy.sources ?? {}).sort()) {
    const value = valueAt(policy, path);
    if (value !== undefined && !path.startsWith(FORMULA_PREFIX) && !isListedOrAbove(path))
      rules.push(ruleOf(policy, path, value));
  }
  for (const name of Object.keys(FORMULAS))
    rules.push(ruleOf(policy, `${FORMULA_PREFIX}${name}`, valueAt(policy, `${FORMULA_PREFIX}${name}`)));
  return rules;
}

/**
 * What is wrong with a policy's sources: values and formulas without one (`unsourced`), and entries whose path
 * names nothing (`dangling`, e.g. after a rename).
 */
export function sourceProblems(policy: Policy): { unsourced: string[]; dangling: string[] } {
  return {
    unsourced: policyRules(policy)
      .filter((r) => r.source === 'unmarked')
      .map((r) => r.path),
    dangling: Object.keys(policy.sources ?? {}).filter((p) => valueAt(policy, p) === undefined),
  };
}

/** The policy as workflows receive it: `sources` is for readers and would only weigh down every history. */
export function withoutSources(policy: Policy): Policy {
  if (!policy.sources) return policy;
  const { sources: _sources, ...rest } = policy;
  return rest;
}
