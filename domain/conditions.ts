import type { Condition, ConditionField } from '../policy/schema';
import type { ProjectDetails } from './project';

function fieldValue(
  d: ProjectDetails & { keyRecommended?: boolean },
  field: ConditionField,
): string | number | boolean {
  if (field.startsWith('flags.')) return d.flags[field.slice(6) as keyof ProjectDetails['flags']];
  // An optional flag absent from the record (e.g. procurementOnly) reads as false.
  return d[field as Exclude<ConditionField, `flags.${string}`>] ?? false;
}

/** Evaluates a policy condition against the project's declared record. */
export function holds(c: Condition, d: ProjectDetails & { keyRecommended?: boolean }): boolean {
  if ('always' in c) return true;
  if ('all' in c) return c.all.every((x) => holds(x, d));
  if ('any' in c) return c.any.some((x) => holds(x, d));
  if ('not' in c) return !holds(c.not, d);
  const v = fieldValue(d, c.field);
  if ('equals' in c) return v === c.equals;
  if ('gte' in c) return typeof v === 'number' && v >= c.gte;
  return typeof v === 'number' && v < c.lt;
}
