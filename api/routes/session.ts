import { z } from 'zod';
import type { ApiDeps } from '../app';
import { ApiError } from '../problem';
import { route, type AnyRouteSpec } from '../registry';
import { ROLES, signLocalToken } from '../auth';

/** How the console signs people in: the local page (local mode) or the city's OIDC provider. */
export interface SignInSettings {
  /** The local sign-in page: anyone who reaches the API names an organisation and a role. Local mode only. */
  localSignIn: boolean;
  /** The HS256 secret the local sign-in signs with (the one under DATA_DIR). */
  jwtSecret?: string | undefined;
  oidc?: { issuer: string; clientId: string; scope: string } | undefined;
  /** Lifetime of a locally signed token. */
  localTokenTtl?: string;
}

const LocalSignInBody = z.strictObject({
  org: z.string().min(1).max(100),
  role: z.enum(ROLES),
  userId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{2,64}$/, '2–64 letters, digits, dots, dashes or underscores')
    .describe('the sign-in name, kept as the actor id in every trail entry'),
  name: z.string().trim().min(1).max(50).describe('the name shown beside each decision (姓名)'),
});

const SignInConfig = z.object({
  mode: z.enum(['local', 'oidc', 'token']),
  oidc: z.object({ issuer: z.string(), clientId: z.string(), scope: z.string() }).optional(),
  organisations: z
    .array(z.object({ id: z.string(), name: z.string(), kind: z.string() }))
    .optional()
    .describe('local mode only: the organisations one may sign in as'),
  roles: z.array(z.enum(ROLES)),
  temporalUiUrl: z.string(),
});

/** The console's sign-in: public, since they come before a token. */
export function sessionRoutes(deps: ApiDeps): AnyRouteSpec[] {
  const settings = deps.signIn ?? { localSignIn: false };
  const mode = settings.oidc ? 'oidc' : settings.localSignIn && settings.jwtSecret ? 'local' : 'token';
  return [
    route({
      method: 'get',
      path: '/session/config',
      public: true,
      roles: [],
      summary:
        '登录方式：how the console signs in — `oidc` (the provider, authorization code with PKCE), `local` (the local sign-in page) or `token` (a token from the operator)',
      tag: 'Session',
      success: { status: 200, description: 'The sign-in mode', schema: SignInConfig },
      handler: () =>
        Promise.resolve({
          mode,
          ...(mode === 'oidc' ? { oidc: settings.oidc } : {}),
          ...(mode === 'local'
            ? {
                organisations: deps.projects.policy.organisations.map((o) => ({
                  id: o.id,
                  name: o.name,
                  kind: o.kind,
                })),
              }
            : {}),
          roles: [...ROLES],
          temporalUiUrl: deps.temporalUiUrl,
        }),
    }),
    route({
      method: 'post',
      path: '/session/local',
      public: true,
      roles: [],
      summary:
        '本地登录：local mode only — a token for the organisation, role and person named (no password: the stack runs on one machine); 404 when the local sign-in is off',
      tag: 'Session',
      body: LocalSignInBody,
      bodyExample: { org: 'yaodu', role: 'applicant', userId: 'wang.li', name: '王丽' },
      success: {
        status: 201,
        description: 'A token for this browser tab',
        schema: z.object({ token: z.string(), expiresAt: z.string() }),
      },
      problems: [404],
      handler: async ({ body }) => {
        if (mode !== 'local' || !settings.jwtSecret)
          throw new ApiError(
            404,
            'not-found',
            'Not found',
            'the local sign-in is off: sign in through the provider',
          );
        if (!deps.orgIndex.has(body.org))
          throw new ApiError(400, 'validation', 'Validation failed', 'unknown organisation', {
            errors: [{ in: 'body', path: 'org', message: `no organisation ${body.org} in the policy` }],
          });
        const ttl = settings.localTokenTtl ?? '8h';
        const token = await signLocalToken(
          settings.jwtSecret,
          { sub: body.userId, org: body.org, roles: [body.role], name: body.name },
          ttl,
        );
        const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as {
          exp: number;
        };
        return { token, expiresAt: new Date(payload.exp * 1000).toISOString() };
      },
    }),
  ];
}
