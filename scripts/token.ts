/** `npm run token -- --sub <id> --org <org> --role <role> [--role …] [--name …] [--ttl 8h]`: a local HS256 token. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { ROLES, signLocalToken } from '../api/auth';
import { loadPolicy } from '../policy/load';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      org: { type: 'string' },
      role: { type: 'string', multiple: true },
      name: { type: 'string' },
      ttl: { type: 'string', default: '8h' },
    },
  });
  const config = loadConfig();
  const policy = loadPolicy(config.policyPath);
  const roles = values.role ?? [];
  const problems: string[] = [];
  if (!values.sub) problems.push('--sub <user id> is required');
  if (!values.org || !policy.organisations.some((o) => o.id === values.org)) {
    problems.push(`--org must be one of: ${policy.organisations.map((o) => o.id).join(', ')}`);
  }
  if (roles.length === 0 || roles.some((r) => !(ROLES as readonly string[]).includes(r))) {
    problems.push(`--role must be one or more of: ${ROLES.join(', ')}`);
  }
  const secretFile = path.join(config.dataDir, 'jwt-secret');
  const secret =
    config.auth.jwtSecret ?? (existsSync(secretFile) ? readFileSync(secretFile, 'utf8').trim() : undefined);
  if (!secret) problems.push(`no JWT_SECRET configured and no ${secretFile} (run npm start once)`);
  if (problems.length) {
    console.error(problems.join('\n'));
    process.exit(2);
  }
  console.log(
    await signLocalToken(
      secret!,
      { sub: values.sub!, org: values.org!, roles, name: values.name },
      values.ttl,
    ),
  );
}

if (require.main === module) void main();
