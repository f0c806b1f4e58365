import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedHook {
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: Record<string, unknown>;
  signatureValid: boolean;
  answered: number;
  /** When the request arrived (epoch ms), before any `delayMs`. */
  at: number;
}

/** A real HTTP webhook receiver that verifies the HMAC itself (independently of notifications/signing.ts). */
export class WebhookReceiver {
  readonly received: ReceivedHook[] = [];
  answer = 200;
  /** How long each answer waits (a slow receiver). */
  delayMs = 0;
  /** The most requests this receiver held at once. */
  maxInFlight = 0;
  private inFlight = 0;

  /** Requests held now (waiting for their answer). */
  get pending(): number {
    return this.inFlight;
  }
  private server?: http.Server;

  constructor(private readonly secret: string) {}

  async listen(port = 0): Promise<number> {
    const server = http.createServer((req, res) => {
      const arrived = Date.now();
      const chunks: Buffer[] = [];
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
        this.inFlight--;
        const raw = Buffer.concat(chunks).toString('utf8');
        const expected = Buffer.from(
          'sha256=' + createHmac('sha256', this.secret).update(raw, 'utf8').digest('hex'),
        );
        const got = Buffer.from(String(req.headers['x-signature'] ?? ''));
        this.received.push({
          headers: req.headers,
          raw,
          body: JSON.parse(raw) as Record<string, unknown>,
          signatureValid: got.length === expected.length && timingSafeEqual(got, expected),
          answered: this.answer,
          at: arrived,
        });
        res.statusCode = this.answer;
        res.end(this.answer === 200 ? '{"errcode":0}' : 'error');
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  accepted(): ReceivedHook[] {
    return this.received.filter((r) => r.answered >= 200 && r.answered < 300);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export interface ReceivedMail {
  to: string[];
  headers: Map<string, string>;
  raw: string;
  /** When the message was accepted (epoch ms). */
  at: number;
}

/** Decodes RFC 2047 encoded words (`=?UTF-8?B?…?=` / `?Q?`), joining adjacent words before decoding bytes. */
export function decodeMimeWords(value: string): string {
  const joined = value.replace(/\?=\s+=\?/g, '?==?');
  return joined.replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)+/g, (run) => {
    const bytes: Buffer[] = [];
    for (const m of run.matchAll(/=\?[^?]+\?([BbQq])\?([^?]*)\?=/g)) {
      const [, enc, text] = m;
      if (enc?.toUpperCase() === 'B') bytes.push(Buffer.from(text ?? '', 'base64'));
      else
        bytes.push(
          Buffer.from(
            (text ?? '')
              .replace(/_/g, ' ')
              .replace(/=([0-9A-Fa-f]{2})/g, (_s, h: string) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          ),
        );
    }
    return Buffer.concat(bytes).toString('utf8');
  });
}

function parseHeaders(raw: string): Map<string, string> {
  const head = raw.split(/\r?\n\r?\n/)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const headers = new Map<string, string>();
  for (const line of unfolded.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), decodeMimeWords(line.slice(i + 1).trim()));
  }
  return headers;
}

/** A real SMTP server on loopback that keeps every message it receives. */
export class SmtpReceiver {
  readonly mails: ReceivedMail[] = [];
  /** While true, every message is refused with a transient 451 at MAIL FROM (a server that is refusing). */
  refusing = false;
  /** Messages refused while `refusing`. */
  refused = 0;
  private readonly server: SMTPServer;

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onMailFrom: (_address, _session, callback) => {
        if (!this.refusing) return callback();
        this.refused += 1;
        callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          this.mails.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            headers: parseHeaders(raw),
            raw,
            at: Date.now(),
          });
          callback();
        });
      },
    });
    // A sender that dies mid-session (a worker SIGKILLed in the fault matrix) resets its connection: a real mail
    // server logs that and goes on; unhandled, the 'error' event would end the test process.
    this.server.on('error', (err: Error) => {
      this.connectionErrors.push(err.message);
    });
  }

  /** Connection errors seen (a sender gone mid-session); the server keeps serving. */
  readonly connectionErrors: string[] = [];

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    return (this.server.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
