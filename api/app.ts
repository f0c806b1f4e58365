import { randomUUID } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import compression from 'compression';
import cors from 'cors';
import helmet from 'helmet';
import type { Models } from '../db/models';
import type { CalendarModels } from '../db/calendar-models';
import type { SupervisionModels } from '../db/supervision-models';
import { supervisionRoutes } from './routes/supervision';
import type { Organisation } from '../policy/schema';
import type { ProjectClient } from '../client/project-client';
import { authenticate, type AuthConfig } from './auth';
import { ApiError, problemHandler } from './problem';
import { projectRoutes } from './routes/projects';
import { actionRoutes } from './routes/actions';
import { adminRoutes } from './routes/admin';
import { peopleRoutes } from './routes/people';
import { blockerRoutes } from './routes/blockers';
import { DEFAULT_IMPORT_SETTINGS, importRoutes } from './routes/imports';
import { revisionRoutes } from './routes/revisions';
import { reviewRoutes } from './routes/reviews';
import { sessionRoutes, type SignInSettings } from './routes/session';
import { dashboardRoutes } from './routes/dashboard';
import { consoleRouter } from './console';
import { IMPORT_CONTENT_TYPES } from '../imports/project-file';
import type { ImportSettings } from '../config';
import { mountRoutes, type AnyRouteSpec } from './registry';
import { buildOpenApi } from './openapi';
import { docsRouter } from './docs';
import { createLogger, type Logger } from './logger';
import {
  addressRateLimit,
  callerRateLimit,
  countRefusedTokens,
  DEFAULT_RATE_LIMITS,
  type RateLimitSettings,
} from './rate-limit';

export interface HealthProbes {
  temporal(): Promise<boolean>;
  mongo(): Promise<boolean>;
}

export interface ApiDeps {
  projects: ProjectClient;
  models: Models;
  health: HealthProbes;
  auth: Omit<AuthConfig, 'knownOrgs'>;
  orgIndex: ReadonlyMap<string, Organisation>;
  corsOrigins: string[];
  bodyLimit: string;
  /** Bulk import limits (defaults: 20mb, 5000 rows, 20 projects per second). */
  imports?: ImportSettings;
  temporalUiUrl: string;
  namespace: string;
  /** How long an action may wait for the workflow's answer before the API answers 504. */
  updateTimeoutMs?: number;
  /** How long an action waits for the read model to show it before answering (read your writes); 10 s. */
  readYourWritesMs?: number;
  calendarModels: CalendarModels;
  supervisionModels: SupervisionModels;
  /** The worker's task queue, for jobs the API starts (manual supervision runs). */
  taskQueue: string;
  logger?: Logger;
  /** How the console signs in (default: with a token only). */
  signIn?: SignInSettings;
  /** The built console (console/dist) served at `/`; absent, `/` answers 404. */
  consoleDir?: string | undefined;
  /** Requests per caller and window before 429 (defaults: DEFAULT_RATE_LIMITS, far above normal use). */
  rateLimits?: RateLimitSettings;
}

/** Query parameters that may carry a credential (a token pasted into a URL, an OAuth code): never logged. */
const SECRET_PARAMS =
  /^(access_token|id_token|refresh_token|token|code|password|secret|client_secret|api_key)$/i;

/** The request's URL as the log shows it: credentials in its query replaced by `[redacted]`. */
export function withoutSecrets(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((p) => {
      const eq = p.indexOf('=');
      const name = eq < 0 ? p : p.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        /* a malformed name is logged as it came */
      }
      return eq >= 0 && SECRET_PARAMS.test(decoded) ? `${name}=[redacted]` : p;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

/** Builds the HTTP API; `listen` happens elsewhere so tests drive the same app. */
export function createApp(deps: ApiDeps): Express {
  const app = express();
  const logger = deps.logger ?? createLogger('info');
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((req: Request, res: Response, next: NextFunction) => {
    const incoming = req.get('x-request-id');
    const id = incoming && /^[A-Za-z0-9._-]{1,100}$/.test(incoming) ? incoming : randomUUID();
    res.setHeader('x-request-id', id);
    const started = process.hrtime.bigint();
    (req as Request & { log: Logger['log'] }).log = (level, msg, extra) =>
      logger.log(level, msg, { requestId: id, ...extra });
    res.on('finish', () =>
      logger.log('info', 'request', {
        requestId: id,
        method: req.method,
        path: withoutSecrets(req.originalUrl),
        status: res.statusCode,
        ms: Number((process.hrtime.bigint() - started) / 1_000_000n),
      }),
    );
    next();
  });
  app.use(helmet());
  // The console's scripts shrink to a third gzipped; JSON lists too.
  app.use(compression());
  app.use(
    cors({
      origin: deps.corsOrigins.length ? deps.corsOrigins : false,
      exposedHeaders: ['Location', 'x-request-id'],
    }),
  );

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const [temporal, mongo] = await Promise.all([
      deps.health.temporal().catch(() => false),
      deps.health.mongo().catch(() => false),
    ]);
    const down = [...(temporal ? [] : ['temporal']), ...(mongo ? [] : ['mongo'])];
    res
      .status(down.length ? 503 : 200)
      .json({ status: down.length ? 'unavailable' : 'ready', temporal, mongo, down });
  });

  const specs: AnyRouteSpec[] = [
    ...projectRoutes(deps),
    ...actionRoutes(deps),
    ...adminRoutes(deps),
    ...peopleRoutes(deps),
    ...supervisionRoutes(deps),
    ...blockerRoutes(deps),
    ...importRoutes(deps),
    ...revisionRoutes(deps),
    ...reviewRoutes(deps),
    ...sessionRoutes(deps),
    ...dashboardRoutes(deps),
  ];
  const openapi = buildOpenApi(specs, deps.projects.policy.version);
  const api = express.Router();
  // Answers are per caller and change with every transition: never stored by a browser or proxy, and never a 304.
  // (The project's ETag names its details version for If-Match; a conditional GET on it would answer 304 with a
  // body whose stage and tasks had moved on.)
  api.use((req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Cache-Control', 'no-store');
    delete req.headers['if-none-match'];
    delete req.headers['if-modified-since'];
    next();
  });
  api.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  api.use('/docs', docsRouter());
  api.use(
    express.json({ limit: deps.bodyLimit, strict: true, type: ['application/json', 'application/*+json'] }),
  );
  const limits = deps.rateLimits ?? DEFAULT_RATE_LIMITS;
  const byAddress = addressRateLimit(limits);
  const publicSpecs = specs.filter((s) => s.public);
  // Without a token a caller is counted by its address: the sign-in routes, and every refused token.
  if (publicSpecs.length) api.use([...new Set(publicSpecs.map((s) => s.path))], byAddress);
  mountRoutes(api, publicSpecs);
  api.use(authenticate({ ...deps.auth, knownOrgs: new Set(deps.orgIndex.keys()) }));
  api.use(countRefusedTokens(byAddress));
  api.use(callerRateLimit(limits));
  // Uploads (the bulk import) arrive as raw bytes: only on the import route, and only once the caller is known.
  api.use(
    '/imports',
    express.raw({
      limit: deps.imports?.maxBytes ?? DEFAULT_IMPORT_SETTINGS.maxBytes,
      type: Object.keys(IMPORT_CONTENT_TYPES),
    }),
  );
  mountRoutes(
    api,
    specs.filter((s) => !s.public),
  );
  api.use((req: Request) => {
    throw new ApiError(404, 'not-found', 'Not found', `no route ${req.method} ${req.path}`);
  });
  app.use('/api/v1', api);
  if (deps.consoleDir) {
    const issuer = deps.signIn?.oidc?.issuer;
    app.use(consoleRouter(deps.consoleDir, { connectSources: issuer ? [new URL(issuer).origin] : [] }));
  }
  app.use((req: Request) => {
    throw new ApiError(404, 'not-found', 'Not found', `no route ${req.method} ${req.path}`);
  });
  app.use(problemHandler);
  return app;
}
