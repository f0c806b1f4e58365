/**
 * OWASP API4:2023 Unrestricted Resource Consumption — rate limits per caller (429 with Retry-After), the upload
 * limit, pagination caps, and a decompression-bomb workbook refused before it is unzipped.
 * (The JSON body limit, 413 `body-too-large`, is covered in api-e2e.test.ts.)
 */
import { constants, crc32, deflateRawSync } from 'node:zlib';
import request from 'supertest';
import type { Express } from 'express';
import { startTestSystem, type TestSystem } from '../support/harness';
import { testApp, token } from '../support/api';

let sys: TestSystem;
let app: Express;
let smallUploadApp: Express;
let throttledApp: Express;

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const PROBLEMS = 'https://project-pipeline.dev/problems/';
const WINDOW_MS = 60_000;

beforeAll(async () => {
  sys = await startTestSystem();
  // The import limits as configured by default: 20mb uploads, unzipping to at most 100mb.
  app = testApp(sys);
  smallUploadApp = testApp(sys, { imports: { maxBytes: '64kb', maxRows: 5000, ratePerSecond: 20 } });
  throttledApp = testApp(sys, {
    rateLimits: { windowMs: WINDOW_MS, perCaller: 5, perAddressUnauthenticated: 3 },
  });
});
afterAll(async () => {
  await sys?.close();
});

const bearer = async (sub: string, org = 'finance', role = 'reviewer') =>
  `Bearer ${await token(sub, org, role)}`;

function expectThrottled(res: request.Response): void {
  expect(res.status).toBe(429);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body.type).toBe(`${PROBLEMS}throttled`);
  expect(res.body.detail).toMatch(/too many requests; retry after \d+ s/);
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
}

describe('rate limits', () => {
  test('a caller over its limit gets 429 with Retry-After; another caller from the same address does not', async () => {
    const busy = await bearer('busy-reviewer');
    for (let i = 0; i < 5; i++) {
      expect((await request(throttledApp).get('/api/v1/orgs').set('Authorization', busy)).status).toBe(200);
    }

    const over = await request(throttledApp).get('/api/v1/orgs').set('Authorization', busy);

    expectThrottled(over);
    // Counted per token subject: a colleague behind the same address is not held back.
    const colleague = await bearer('quiet-reviewer');
    expect((await request(throttledApp).get('/api/v1/orgs').set('Authorization', colleague)).status).toBe(
      200,
    );
    // The same subject with a freshly minted token is the same caller.
    expectThrottled(
      await request(throttledApp)
        .get('/api/v1/orgs')
        .set('Authorization', await bearer('busy-reviewer')),
    );
  });

  test('requests without a valid token are counted per address: guessing tokens and the sign-in are throttled', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push(
        (await request(throttledApp).get('/api/v1/orgs').set('Authorization', `Bearer guessed.token.${i}`))
          .status,
      );
    }
    expect(statuses).toEqual([401, 401, 401]);

    expectThrottled(
      await request(throttledApp).get('/api/v1/orgs').set('Authorization', 'Bearer guessed.token.4'),
    );
    expectThrottled(await request(throttledApp).get('/api/v1/session/config'));
    // A caller with a valid token is counted by its subject, not by the address the guesses came from.
    const valid = await bearer('reviewer-after-guesses');
    expect((await request(throttledApp).get('/api/v1/orgs').set('Authorization', valid)).status).toBe(200);
  });

  test('the default limits let a busy client through (60 requests in a burst on one token)', async () => {
    const auth = await bearer('console-user', 'yaodu', 'applicant');
    const statuses = await Promise.all(
      Array.from({ length: 60 }, () => request(app).get('/api/v1/orgs').set('Authorization', auth)),
    );
    expect(statuses.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
  });
});

describe('upload and page limits', () => {
  test('an upload over the import limit is refused with 413 before it is read', async () => {
    const auth = await bearer('importer', 'yaodu', 'applicant');
    const res = await request(smallUploadApp)
      .post('/api/v1/imports')
      .set('Authorization', auth)
      .set('Content-Type', 'text/csv')
      .send(Buffer.alloc(65 * 1024, 'a'));
    expect(res.status).toBe(413);
    expect(res.body.type).toBe(`${PROBLEMS}body-too-large`);
  });

  test('a page larger than the cap is refused, naming the parameter; the cap itself is served', async () => {
    const auth = await bearer('supervisor', 'project-center', 'supervisor');
    const cases: [string, string][] = [
      ['/projects?limit=201', 'limit'],
      ['/projects?limit=0', 'limit'],
      ['/projects?limit=1000000', 'limit'],
      ['/reports?pageSize=201', 'pageSize'],
      ['/supervision/overdue?pageSize=100000', 'pageSize'],
    ];
    for (const [path, param] of cases) {
      const res = await request(app).get(`/api/v1${path}`).set('Authorization', auth);
      expect({ path, status: res.status, type: res.body.type }).toEqual({
        path,
        status: 400,
        type: `${PROBLEMS}validation`,
      });
      expect((res.body.errors as { path: string }[]).map((e) => e.path)).toContain(param);
    }
    expect((await request(app).get('/api/v1/projects?limit=200').set('Authorization', auth)).status).toBe(
      200,
    );
  });
});

// ---- a decompression bomb: a real .xlsx whose sheet is under 4 MB zipped and a gigabyte unzipped ----

interface ZipEntry {
  name: string;
  /** Raw deflate data. */
  data: Buffer;
  crc: number;
  size: number;
  /** What the zip says the entry unzips to (a lying bomb declares less than `size`). */
  declaredSize?: number;
}

function deflated(name: string, text: string): ZipEntry {
  const raw = Buffer.from(text, 'utf8');
  return { name, data: deflateRawSync(raw), crc: crc32(raw), size: raw.length };
}

/**
 * A sheet of `megabytes` MiB: one deflate stream made of a compressed 1 MiB block of rows repeated (each piece
 * flushed, none final, so they chain), then the closing tags as the final piece.
 */
function bombSheet(megabytes: number): ZipEntry {
  const head = Buffer.from(
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
      '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>' +
      '<row r="1"><c r="A1" t="inlineStr"><is><t>名称</t></is></c></row>',
  );
  const rowXml = '<row r="2"><c r="A2" t="inlineStr"><is><t>临汾市城区供热管网改造工程</t></is></c></row>';
  const block = Buffer.from(rowXml.repeat(Math.floor((1024 * 1024) / Buffer.byteLength(rowXml))));
  const tail = Buffer.from('</sheetData></worksheet>');
  const flush = { finishFlush: constants.Z_SYNC_FLUSH };
  const blockDeflated = deflateRawSync(block, flush);
  let crc = crc32(head);
  for (let i = 0; i < megabytes; i++) crc = crc32(block, crc);
  crc = crc32(tail, crc);
  return {
    name: 'xl/worksheets/sheet1.xml',
    data: Buffer.concat([
      deflateRawSync(head, flush),
      ...Array.from({ length: megabytes }, () => blockDeflated),
      deflateRawSync(tail),
    ]),
    crc,
    size: head.length + block.length * megabytes + tail.length,
  };
}

function zip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const size = e.declaredSize ?? e.size;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(e.crc >>> 0, 14);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(e.crc >>> 0, 16);
    central.writeUInt32LE(e.data.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, e.data);
    centrals.push(central, name);
    offset += local.length + name.length + e.data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** A minimal valid workbook around `sheet`. */
function workbook(sheet: ZipEntry): Buffer {
  const ns = 'http://schemas.openxmlformats.org/';
  return zip([
    deflated(
      '[Content_Types].xml',
      `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="${ns}package/2006/content-types">` +
        `<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
        `<Default Extension="xml" ContentType="application/xml"/>` +
        `<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
        `<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
        `</Types>`,
    ),
    deflated(
      '_rels/.rels',
      `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="${ns}package/2006/relationships">` +
        `<Relationship Id="rId1" Type="${ns}officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>` +
        `</Relationships>`,
    ),
    deflated(
      'xl/workbook.xml',
      `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="${ns}spreadsheetml/2006/main" xmlns:r="${ns}officeDocument/2006/relationships">` +
        `<sheets><sheet name="项目导入" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    ),
    deflated(
      'xl/_rels/workbook.xml.rels',
      `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="${ns}package/2006/relationships">` +
        `<Relationship Id="rId1" Type="${ns}officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
        `</Relationships>`,
    ),
    sheet,
  ]);
}

describe('a decompression bomb', () => {
  async function importsOf(auth: string): Promise<number> {
    return ((await request(app).get('/api/v1/imports').set('Authorization', auth)).body.imports as unknown[])
      .length;
  }
  async function projectsOf(auth: string): Promise<number> {
    return (
      (await request(app).get('/api/v1/projects?limit=200').set('Authorization', auth)).body
        .projects as unknown[]
    ).length;
  }

  test('a workbook that unzips to a gigabyte is refused at once with 413, and nothing is imported', async () => {
    const auth = await bearer('bomber', 'yaodu', 'applicant');
    const bomb = workbook(bombSheet(1024));
    expect(bomb.length).toBeLessThan(4 * 1024 * 1024); // far under the 20mb upload limit: only unzipped is it huge
    const [imports, projects] = [await importsOf(auth), await projectsOf(auth)];

    const started = Date.now();
    const res = await request(app)
      .post('/api/v1/imports')
      .set('Authorization', auth)
      .set('Content-Type', XLSX)
      .send(bomb);

    expect(Date.now() - started).toBeLessThan(3000);
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toBe(`${PROBLEMS}file-too-large`);
    expect(res.body.detail).toMatch(/unzips to 10\d\d\.\d MB .*more than the 100\.0 MB an import may hold/);
    expect(await importsOf(auth)).toBe(imports);
    expect(await projectsOf(auth)).toBe(projects);
  });

  test('a workbook whose sheet lies about its unzipped size is stopped as soon as it passes it', async () => {
    const auth = await bearer('liar', 'yaodu', 'applicant');
    const liar = workbook({ ...bombSheet(1024), declaredSize: 2048 });
    const imports = await importsOf(auth);

    const started = Date.now();
    const res = await request(app)
      .post('/api/v1/imports')
      .set('Authorization', auth)
      .set('Content-Type', XLSX)
      .send(liar);

    expect(Date.now() - started).toBeLessThan(3000);
    expect(res.status).toBe(413);
    expect(res.body.type).toBe(`${PROBLEMS}file-too-large`);
    expect(res.body.detail).toMatch(
      /xl\/worksheets\/sheet1\.xml unzips to more than the 2048 bytes it declares/,
    );
    expect(await importsOf(auth)).toBe(imports);
  });

  test('the same small workbook without the bomb is read (the refusal is the size’s, not the format’s)', async () => {
    const auth = await bearer('honest', 'yaodu', 'applicant');
    const res = await request(app)
      .post('/api/v1/imports')
      .set('Authorization', auth)
      .set('Content-Type', XLSX)
      .send(workbook(bombSheet(1)));
    // Read and validated: its rows are not the template's columns, which is a 422 about the content.
    expect(res.status).toBe(422);
    expect(res.body.missingColumns).toContain('项目名称');
  });
});
