import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import { NOTIFICATION_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signBody } from './signing';

export interface SmtpSettings {
  host: string;
  port: number;
  secure?: boolean;
  /** Envelope and header sender, e.g. `重大项目管理系统 <noreply@example.gov.cn>`. */
  from: string;
  auth?: { user: string; pass: string };
}

/** A failed send; `permanent` failures (rejected request, unknown mailbox) are not retried. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** Origin and path only: robot webhook URLs carry their access token in the query string. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

export interface WebhookBody {
  notificationId: string;
  template: string;
  recipient: { org?: string; headOf?: string; person?: { id?: string; name?: string } };
  subject: string;
  text: string;
  payload: Record<string, unknown>;
}

/**
 * POSTs one notification as JSON signed with the channel's secret. 2xx is success; 408, 429, 5xx and network
 * errors are retryable; any other status (a rejected or misaddressed request) is permanent.
 */
export async function postWebhook(opts: {
  url: string;
  secret: string;
  body: WebhookBody;
  timeoutMs: number;
}): Promise<void> {
  const raw = JSON.stringify(opts.body);
  const where = redactUrl(opts.url);
  let res: Response;
  try {
    res = await fetch(opts.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs),
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        [NOTIFICATION_ID_HEADER]: opts.body.notificationId,
        [TIMESTAMP_HEADER]: String(Date.now()),
        [SIGNATURE_HEADER]: signBody(opts.secret, raw),
      },
      body: raw,
    });
  } catch (err) {
    throw new DeliveryError(`webhook ${where}: ${networkReason(err)}`, false);
  }
  // Release the connection; the receiver's answer body carries nothing we use.
  await res.body?.cancel().catch(() => undefined);
  if (res.ok) return;
  const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
  throw new DeliveryError(`webhook ${where}: HTTP ${res.status}`, !retryable);
}

// Duck-typed rather than `instanceof Error`: fetch's errors may come from another realm (e.g. under jest).
function networkReason(err: unknown): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    name?: string;
    message?: string;
    code?: string;
    cause?: { code?: string; message?: string };
  };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out';
  return e.cause?.code ?? e.cause?.message ?? e.message ?? e.code ?? String(err);
}

export interface EmailMessage {
  notificationId: string;
  to: string;
  subject: string;
  text: string;
}

export interface EmailSender {
  send(msg: EmailMessage): Promise<void>;
}

/** The Message-ID is derived from the outbox id, so a resend after a lost reply can be recognised as a duplicate. */
export function stableMessageId(notificationId: string, from: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'project-pipeline.local';
  const hash = createHash('sha256').update(notificationId).digest('hex').slice(0, 32);
  return `<${hash}@${domain}>`;
}

/** SMTP mailbox errors that no retry will fix (no such user, mailbox name not allowed). */
const PERMANENT_SMTP_CODES = new Set([550, 551, 553]);

export function createEmailSender(smtp: SmtpSettings, timeoutMs: number): EmailSender {
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure ?? false,
    ...(smtp.auth ? { auth: smtp.auth } : {}),
    // Bounded so one attempt ends well inside the activity's start-to-close timeout (no overlapping attempts).
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  return {
    async send(msg) {
      try {
        await transport.sendMail({
          from: smtp.from,
          to: msg.to,
          subject: msg.subject,
          text: msg.text,
          messageId: stableMessageId(msg.notificationId, smtp.from),
          headers: { [NOTIFICATION_ID_HEADER]: msg.notificationId },
        });
      } catch (err) {
        const { responseCode: code, response } = err as { responseCode?: number; response?: string };
        const reason = code ? `SMTP ${response ?? code}` : networkReason(err);
        throw new DeliveryError(
          `email ${msg.to}: ${reason}`,
          code !== undefined && PERMANENT_SMTP_CODES.has(code),
        );
      }
    },
  };
}
