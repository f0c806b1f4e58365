/** The typed refusals shared by workflow validators, activities and the API's error mapping. */
export const DOMAIN_ERROR_TYPES = [
  'WRONG_STAGE',
  'NOT_ASSIGNEE',
  'ALREADY_DECIDED',
  'GATE_NOT_MET',
  'OVER_ESTIMATE',
  'INVALID_DATA',
  'UNKNOWN_TASK',
  'STALE_VERSION',
  'CHANGE_REQUEST_REQUIRED',
] as const;
export type DomainErrorType = (typeof DOMAIN_ERROR_TYPES)[number];

export class DomainError extends Error {
  constructor(
    public readonly type: DomainErrorType,
    message: string,
    public readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export function isDomainErrorType(t: unknown): t is DomainErrorType {
  return typeof t === 'string' && (DOMAIN_ERROR_TYPES as readonly string[]).includes(t);
}
