import type { NextFunction, Request, Response } from 'express';
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { Actor } from '../domain/project';
import { ApiError } from './problem';

export const ROLES = ['applicant', 'reviewer', 'leader', 'supervisor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const ClaimsSchema = z.object({
  sub: z.string().min(1).max(200),
  name: z.string().max(200).optional(),
  org: z.string().min(1).max(100),
  roles: z.array(z.enum(ROLES)).min(1),
});

export interface AuthConfig {
  /** HS256 shared secret for local use. */
  jwtSecret?: string | undefined;
  /** When set, tokens are verified against this OIDC provider's JWKS instead. */
  jwksUrl?: string | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
  knownOrgs: ReadonlySet<string>;
}

/** Asymmetric algorithms an OIDC provider signs with. */
const PROVIDER_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

export interface AuthedRequest extends Request {
  actor: Actor & { roles: Role[] };
}

/** Verifies `Authorization: Bearer <JWT>`; the actor handed to workflows comes only from here. */
export function authenticate(cfg: AuthConfig) {
  let key: Uint8Array | JWTVerifyGetKey;
  if (cfg.jwksUrl) {
    // A provider's keys sign tokens for many applications: only those issued by it for this API are accepted.
    if (!cfg.issuer || !cfg.audience)
      throw new Error('OIDC_JWKS_URL needs OIDC_ISSUER and OIDC_AUDIENCE: tokens are checked against both');
    key = createRemoteJWKSet(new URL(cfg.jwksUrl));
  } else if (cfg.jwtSecret) key = new TextEncoder().encode(cfg.jwtSecret);
  else throw new Error('authentication needs JWT_SECRET or OIDC_JWKS_URL');
  return async (req: Request, _res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header);
    if (!m?.[1]) return next(new ApiError(401, 'unauthenticated', 'Unauthenticated', 'missing bearer token'));
    try {
      const { payload } = await jwtVerify(m[1], key as Uint8Array, {
        // The provider's keys are public keys: a token signed with a shared secret (HS*) is never one of its own,
        // and the local secret signs HS256 only. `alg: none` is refused by jose whatever this list says.
        algorithms: cfg.jwksUrl ? PROVIDER_ALGORITHMS : ['HS256'],
        issuer: cfg.issuer,
        audience: cfg.audience,
        // A token without an expiry would be valid for ever.
        requiredClaims: ['exp', 'sub'],
      });
      const claims = ClaimsSchema.parse(payload);
      if (!cfg.knownOrgs.has(claims.org)) throw new Error(`unknown organisation ${claims.org}`);
      (req as AuthedRequest).actor = {
        userId: claims.sub,
        name: claims.name,
        org: claims.org,
        roles: claims.roles,
      };
      next();
    } catch {
      next(
        new ApiError(
          401,
          'unauthenticated',
          'Unauthenticated',
          'the token is invalid, expired or not for this service',
        ),
      );
    }
  };
}

export function requireRole(req: Request, ...roles: Role[]): AuthedRequest['actor'] {
  const actor = actorOf(req);
  if (!roles.some((r) => actor.roles.includes(r))) {
    throw new ApiError(403, 'forbidden', 'Forbidden', `requires one of the roles: ${roles.join(', ')}`);
  }
  return actor;
}

export function actorOf(req: Request): AuthedRequest['actor'] {
  return (req as unknown as AuthedRequest).actor;
}

/** A local HS256 token (`npm run token`, the console's local sign-in). */
export async function signLocalToken(
  secret: string,
  claims: { sub: string; org: string; roles: string[]; name?: string | undefined },
  ttl = '8h',
): Promise<string> {
  return new SignJWT({ org: claims.org, roles: claims.roles, ...(claims.name ? { name: claims.name } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(ttl)
    .sign(new TextEncoder().encode(secret));
}
