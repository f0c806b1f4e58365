/**
 * A lightweight webhook receiver for benchmarks: one loopback HTTP server, one path per organisation
 * (`/hook/<org>`, so each organisation is its own channel). It keeps only what the benchmark reports — the first
 * arrival time per notification id, repeats, bad signatures, misrouted bodies — not the bodies themselves.
 * The HMAC is checked here independently of notifications/signing.ts.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const MAX_BODY_BYTES = 256 * 1024;

export class WebhookSink {
  /** First arrival (epoch ms) of each notification id. */
  readonly firstArrival = new Map<string, number>();
  /** Ids that arrived more than once, with how many times in all. */
  readonly repeated = new Map<string, number>();
  /** Accepted requests per organisation path. */
  readonly perOrg = new Map<string, number>();
  received = 0;
  badSignatures = 0;
  misrouted = 0;
  malformed = 0;
  lastArrivalAt = 0;
  private server?: http.Server;
  private port = 0;

  constructor(private readonly secret: string) {}

  async listen(): Promise<void> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 30_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
  }

  urlFor(org: string): string {
    if (!this.port) throw new Error('webhook sink not listening');
    return `http://127.0.0.1:${this.port}/hook/${encodeURIComponent(org)}`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      const at = Date.now();
      const org = decodeURIComponent(/^\/hook\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? '');
      const raw = Buffer.concat(chunks).toString('utf8');
      const id = String(req.headers['x-notification-id'] ?? '');
      let body: { notificationId?: unknown; recipient?: { org?: unknown } } | undefined;
      try {
        body = JSON.parse(raw) as typeof body;
      } catch {
        body = undefined;
      }
      if (req.method !== 'POST' || !org || !id || size > MAX_BODY_BYTES || body?.notificationId !== id) {
        this.malformed += 1;
        res.statusCode = 400;
        res.end('bad request');
        return;
      }
      const expected = Buffer.from(
        'sha256=' + createHmac('sha256', this.secret).update(raw, 'utf8').digest('hex'),
      );
      const got = Buffer.from(String(req.headers['x-signature'] ?? ''));
      if (got.length !== expected.length || !timingSafeEqual(got, expected)) this.badSignatures += 1;
      if (body.recipient?.org !== org) this.misrouted += 1;
      this.received += 1;
      this.lastArrivalAt = at;
      this.perOrg.set(org, (this.perOrg.get(org) ?? 0) + 1);
      if (this.firstArrival.has(id)) this.repeated.set(id, (this.repeated.get(id) ?? 1) + 1);
      else this.firstArrival.set(id, at);
      res.statusCode = 200;
      res.setHeader('Content-Type', 'application/json');
      res.end('{"errcode":0}');
    });
  }

  /** Deliveries beyond the first of each id. */
  get duplicates(): number {
    let n = 0;
    for (const count of this.repeated.values()) n += count - 1;
    return n;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
