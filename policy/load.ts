import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { PolicySchema, type Policy } from './schema';

function resolveDefaultPath(): string {
  // Sources live in policy/, compiled code in dist/policy/; the YAML stays in the source tree.
  const beside = path.join(__dirname, 'default-policy.yaml');
  return existsSync(beside) ? beside : path.join(__dirname, '..', '..', 'policy', 'default-policy.yaml');
}

export class PolicyError extends Error {
  constructor(
    message: string,
    public readonly problems: string[],
  ) {
    super(`${message}\n  ${problems.join('\n  ')}`);
    this.name = 'PolicyError';
  }
}

/** Parses and validates a policy document (YAML or JSON); errors name each offending path. */
export function parsePolicy(text: string, source = 'policy'): Policy {
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (err) {
    throw new PolicyError(`${source} is not valid YAML/JSON`, [(err as Error).message]);
  }
  const parsed = PolicySchema.safeParse(raw);
  if (!parsed.success) {
    throw new PolicyError(
      `${source} is not a valid policy`,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  return parsed.data;
}

export function loadPolicy(policyPath?: string): Policy {
  const file = policyPath ?? resolveDefaultPath();
  return parsePolicy(readFileSync(file, 'utf8'), file);
}
