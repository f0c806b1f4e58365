/**
 * OWASP API2:2023 Broken Authentication — hostile tokens, each refused with 401, in both ways the API verifies
 * tokens: the local HS256 secret and an OIDC provider's JWKS (served here by a real local HTTP server).
 * (Expired and wrongly signed HS256 tokens are covered in api-e2e.test.ts.)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { Express } from 'express';
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  UnsecuredJWT,
  type JWTPayload,
  type KeyLike,
} from 'jose';
import { ConfigError, loadConfig } from '../../config';
import { startTestSystem, type TestSystem } from '../support/harness';
import { testApp, TEST_JWT_SECRET } from '../support/api';

const ISSUER = 'https://idp.example.test/realms/linfen';
const AUDIENCE = 'project-pipeline-api';
const KID = 'provider-key-1';
const CLAIMS = { org: 'finance', roles: ['reviewer'] };
const now = () => Math.floor(Date.now() / 1000);

let sys: TestSystem;
let localApp: Express;
let providerApp: Express;
let jwks: Server;
let providerKey: KeyLike;
let providerPublicPem: string;

beforeAll(async () => {
  sys = await startTestSystem();
  const pair = await generateKeyPair('RS256', { extractable: true });
  providerKey = pair.privateKey;
  providerPublicPem = await exportSPKI(pair.publicKey);
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  jwks = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/certs`;
  localApp = testApp(sys);
  providerApp = testApp(sys, { auth: { jwksUrl, issuer: ISSUER, audience: AUDIENCE } });
});
afterAll(async () => {
  await new Promise((resolve) => jwks?.close(resolve));
  await sys?.close();
});

async function status(app: Express, token: string): Promise<{ status: number; type?: string }> {
  const res = await request(app).get('/api/v1/orgs').set('Authorization', `Bearer ${token}`);
  return res.status === 200 ? { status: 200 } : { status: res.status, type: res.body.type as string };
}
const REFUSED = { status: 401, type: 'https://project-pipeline.dev/problems/unauthenticated' };

/** A token of the local secret: valid unless `change` spoils it. */
function localToken(change: (t: SignJWT) => SignJWT = (t) => t, claims: JWTPayload = CLAIMS) {
  return change(
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u-1')
      .setIssuedAt()
      .setExpirationTime('1h'),
  ).sign(new TextEncoder().encode(TEST_JWT_SECRET));
}

/** A token of the provider: valid unless `change` spoils it. */
function providerToken(change: (t: SignJWT) => SignJWT = (t) => t, claims: JWTPayload = CLAIMS) {
  return change(
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: KID })
      .setSubject('u-1')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('1h'),
  ).sign(providerKey);
}

describe('with the local HS256 secret', () => {
  test('a well-formed token is accepted (the refusals below are the token’s, not the route’s)', async () => {
    expect(await status(localApp, await localToken())).toEqual({ status: 200 });
  });

  test('an unsigned token (alg: none) is refused', async () => {
    const unsigned = new UnsecuredJWT(CLAIMS)
      .setSubject('u-1')
      .setIssuedAt()
      .setExpirationTime('1h')
      .encode();
    expect(await status(localApp, unsigned)).toEqual(REFUSED);
  });

  test('a token signed with the secret under another algorithm than HS256 is refused', async () => {
    const hs512 = await new SignJWT(CLAIMS)
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('u-1')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(TEST_JWT_SECRET.repeat(2)));
    expect(await status(localApp, hs512)).toEqual(REFUSED);
  });

  test('a token not valid yet (nbf in the future) is refused', async () => {
    expect(await status(localApp, await localToken((t) => t.setNotBefore(now() + 3600)))).toEqual(REFUSED);
  });

  test('a token without an expiry is refused: it would be valid for ever', async () => {
    const eternal = await new SignJWT(CLAIMS)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u-1')
      .setIssuedAt()
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    expect(await status(localApp, eternal)).toEqual(REFUSED);
  });

  test('a token for an organisation the policy does not know, or with a role that does not exist, is refused', async () => {
    expect(
      await status(localApp, await localToken(undefined, { org: 'atlantis', roles: ['reviewer'] })),
    ).toEqual(REFUSED);
    expect(await status(localApp, await localToken(undefined, { org: 'finance', roles: ['root'] }))).toEqual(
      REFUSED,
    );
    expect(await status(localApp, await localToken(undefined, { org: 'finance', roles: [] }))).toEqual(
      REFUSED,
    );
  });
});

describe('with an OIDC provider’s JWKS', () => {
  test('the provider’s well-formed token is accepted', async () => {
    expect(await status(providerApp, await providerToken())).toEqual({ status: 200 });
  });

  test('HS/RS confusion: an HS256 token whose secret is the provider’s public key is refused', async () => {
    for (const secret of [providerPublicPem, JSON.stringify({ kid: KID })]) {
      const confused = await new SignJWT(CLAIMS)
        .setProtectedHeader({ alg: 'HS256', kid: KID })
        .setSubject('u-1')
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(secret));
      expect(await status(providerApp, confused)).toEqual(REFUSED);
    }
  });

  test('an unsigned token (alg: none) is refused', async () => {
    const unsigned = new UnsecuredJWT(CLAIMS)
      .setSubject('u-1')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('1h')
      .encode();
    expect(await status(providerApp, unsigned)).toEqual(REFUSED);
  });

  test('a token signed by another key under the provider’s key id is refused', async () => {
    const other = await generateKeyPair('RS256');
    const forged = await new SignJWT(CLAIMS)
      .setProtectedHeader({ alg: 'RS256', kid: KID })
      .setSubject('u-1')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('1h')
      .sign(other.privateKey);
    expect(await status(providerApp, forged)).toEqual(REFUSED);
  });

  test('a token of another issuer, for another audience, or for no audience is refused', async () => {
    expect(
      await status(providerApp, await providerToken((t) => t.setIssuer('https://evil.example.test'))),
    ).toEqual(REFUSED);
    expect(await status(providerApp, await providerToken((t) => t.setAudience('another-app')))).toEqual(
      REFUSED,
    );
    const noAudience = await new SignJWT(CLAIMS)
      .setProtectedHeader({ alg: 'RS256', kid: KID })
      .setSubject('u-1')
      .setIssuer(ISSUER)
      .setExpirationTime('1h')
      .sign(providerKey);
    expect(await status(providerApp, noAudience)).toEqual(REFUSED);
  });

  test('an expired token and a token not valid yet are refused', async () => {
    expect(
      await status(
        providerApp,
        await providerToken((t) => t.setIssuedAt(now() - 7200).setExpirationTime(now() - 3600)),
      ),
    ).toEqual(REFUSED);
    expect(await status(providerApp, await providerToken((t) => t.setNotBefore(now() + 3600)))).toEqual(
      REFUSED,
    );
  });

  test('a token for an organisation the policy does not know is refused', async () => {
    expect(
      await status(providerApp, await providerToken(undefined, { org: 'atlantis', roles: ['reviewer'] })),
    ).toEqual(REFUSED);
  });

  test('the provider’s keys are not trusted without an issuer and an audience to check', () => {
    expect(() => testApp(sys, { auth: { jwksUrl: 'http://127.0.0.1:1/certs', issuer: ISSUER } })).toThrow(
      /OIDC_AUDIENCE/,
    );
    expect(() => loadConfig({ OIDC_JWKS_URL: 'http://127.0.0.1:1/certs', OIDC_AUDIENCE: AUDIENCE })).toThrow(
      ConfigError,
    );
  });
});
