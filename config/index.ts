import path from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65535);

/** Every setting the processes read, one variable each; nothing else reads process.env. */
export const EnvSchema = z.object({
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^:\s]+:\d+$/, 'expected host:port')
    .default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('project-pipeline'),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_UI_URL: z.url().optional(),
  /** Days a closed project's workflow history stays in Temporal (the dev server defaults to 1). */
  TEMPORAL_RETENTION_DAYS: z.coerce.number().int().min(1).max(36500).default(3650),
  MONGO_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'expected a mongodb:// URI')
    .default('mongodb://127.0.0.1:27017/project-pipeline'),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  POLICY_PATH: z.string().min(1).optional(),
  JWT_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  OIDC_JWKS_URL: z.url().optional(),
  OIDC_ISSUER: z.string().min(1).optional(),
  OIDC_AUDIENCE: z.string().min(1).optional(),
  /** The console's OIDC client (authorization code with PKCE); the provider is OIDC_ISSUER. */
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_SCOPE: z.string().min(1).default('openid profile'),
  /**
   * The console's local sign-in (anyone who reaches the API picks an organisation and a role): `npm start` turns it
   * on only when the HS256 secret is the one it keeps under DATA_DIR and no OIDC provider is configured.
   */
  LOCAL_SIGN_IN: z.enum(['true', 'false']).default('false'),
  /** The built console the API serves at `/`; empty turns it off. */
  CONSOLE_DIR: z.string().optional(),
  CORS_ORIGINS: z.string().default(''),
  API_UPDATE_TIMEOUT_MS: z.coerce.number().int().min(1000).max(120_000).default(10_000),
  API_BODY_LIMIT: z
    .string()
    .regex(/^\d+(kb|mb)$/)
    .default('100kb'),
  IMPORT_MAX_BYTES: z
    .string()
    .regex(/^\d+(kb|mb)$/)
    .default('20mb'),
  /** What an uploaded .xlsx may expand to once unzipped (a decompression bomb is refused before it is read). */
  IMPORT_MAX_UNCOMPRESSED: z
    .string()
    .regex(/^\d+(kb|mb)$/)
    .default('100mb'),
  IMPORT_MAX_ROWS: z.coerce.number().int().min(1).max(50_000).default(5000),
  IMPORT_RATE_PER_SECOND: z.coerce.number().int().min(1).max(1000).default(20),
  /** Rate limits (429 with Retry-After): requests per window per token subject, and per address without a token. */
  RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1000).max(3_600_000).default(10_000),
  RATE_LIMIT_PER_CALLER: z.coerce.number().int().min(1).max(1_000_000).default(600),
  RATE_LIMIT_PER_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(300),
  SMTP_HOST: z.string().min(1).default('127.0.0.1'),
  SMTP_PORT: port.default(25),
  SMTP_SECURE: z.enum(['true', 'false']).default('false'),
  SMTP_FROM: z.string().min(3).default('重大项目全链条管理系统 <noreply@localhost>'),
  SMTP_USER: z.string().min(1).optional(),
  SMTP_PASSWORD: z.string().min(1).optional(),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  FERRETDB_PATH: z.string().min(1).optional(),
  FERRETDB_ID_INDEX_PATH: z.string().min(1).optional(),
});

export type Env = z.infer<typeof EnvSchema>;

export interface AppConfig {
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    uiUrl: string;
    uiPort: number;
    retentionDays: number;
  };
  mongo: { uri: string };
  api: {
    host: string;
    port: number;
    corsOrigins: string[];
    bodyLimit: string;
    updateTimeoutMs: number;
    imports: ImportSettings;
    rateLimits: { windowMs: number; perCaller: number; perAddressUnauthenticated: number };
  };
  auth: {
    jwtSecret: string | undefined;
    jwksUrl: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
    /** The console signs in through the provider (PKCE) when set. */
    oidcClientId: string | undefined;
    oidcScope: string;
    /** The console's local sign-in page (local mode only; off with OIDC). */
    localSignIn: boolean;
  };
  /** The built console served at `/`, or undefined when there is none. */
  consoleDir: string | undefined;
  smtp: { host: string; port: number; secure: boolean; from: string; auth?: { user: string; pass: string } };
  dataDir: string;
  logLevel: Env['LOG_LEVEL'];
  policyPath: string | undefined;
  tools: {
    temporalCliPath: string | undefined;
    ferretDbPath: string | undefined;
    ferretDbIdIndexPath: string | undefined;
  };
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once, at the edge; the error names each offending variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  if (e.OIDC_JWKS_URL && (!e.OIDC_ISSUER || !e.OIDC_AUDIENCE))
    throw new ConfigError([
      `${!e.OIDC_ISSUER ? 'OIDC_ISSUER' : 'OIDC_AUDIENCE'}: required with OIDC_JWKS_URL (tokens are checked against the issuer and audience)`,
    ]);
  const temporalHost = e.TEMPORAL_ADDRESS.split(':')[0] ?? '127.0.0.1';
  return {
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiPort: e.TEMPORAL_UI_PORT,
      uiUrl: (e.TEMPORAL_UI_URL ?? `http://${temporalHost}:${e.TEMPORAL_UI_PORT}`).replace(/\/$/, ''),
      retentionDays: e.TEMPORAL_RETENTION_DAYS,
    },
    mongo: { uri: e.MONGO_URI },
    api: {
      host: e.API_HOST,
      port: e.API_PORT,
      corsOrigins: e.CORS_ORIGINS.split(',')
        .map((o) => o.trim())
        .filter(Boolean),
      bodyLimit: e.API_BODY_LIMIT,
      updateTimeoutMs: e.API_UPDATE_TIMEOUT_MS,
      imports: {
        maxBytes: e.IMPORT_MAX_BYTES,
        maxUncompressed: e.IMPORT_MAX_UNCOMPRESSED,
        maxRows: e.IMPORT_MAX_ROWS,
        ratePerSecond: e.IMPORT_RATE_PER_SECOND,
      },
      rateLimits: {
        windowMs: e.RATE_LIMIT_WINDOW_MS,
        perCaller: e.RATE_LIMIT_PER_CALLER,
        perAddressUnauthenticated: e.RATE_LIMIT_PER_ADDRESS,
      },
    },
    auth: {
      jwtSecret: e.JWT_SECRET,
      jwksUrl: e.OIDC_JWKS_URL,
      issuer: e.OIDC_ISSUER,
      audience: e.OIDC_AUDIENCE,
      oidcClientId: e.OIDC_CLIENT_ID,
      oidcScope: e.OIDC_SCOPE,
      localSignIn: e.LOCAL_SIGN_IN === 'true' && !e.OIDC_JWKS_URL,
    },
    consoleDir: e.CONSOLE_DIR === '' ? undefined : path.resolve(e.CONSOLE_DIR ?? 'console/dist'),
    smtp: {
      host: e.SMTP_HOST,
      port: e.SMTP_PORT,
      secure: e.SMTP_SECURE === 'true',
      from: e.SMTP_FROM,
      ...(e.SMTP_USER && e.SMTP_PASSWORD ? { auth: { user: e.SMTP_USER, pass: e.SMTP_PASSWORD } } : {}),
    },
    dataDir: path.resolve(e.DATA_DIR),
    logLevel: e.LOG_LEVEL,
    policyPath: e.POLICY_PATH,
    tools: {
      temporalCliPath: e.TEMPORAL_CLI_PATH,
      ferretDbPath: e.FERRETDB_PATH,
      ferretDbIdIndexPath: e.FERRETDB_ID_INDEX_PATH,
    },
  };
}

/** Bulk import limits: the upload size, rows per file, and how fast its projects are created. */
export interface ImportSettings {
  maxBytes: string;
  /** What an .xlsx may expand to when unzipped (default 100mb); absent, the default. */
  maxUncompressed?: string;
  maxRows: number;
  ratePerSecond: number;
}
