import { createHmac, timingSafeEqual } from 'node:crypto';

export const NOTIFICATION_ID_HEADER = 'X-Notification-Id';
export const SIGNATURE_HEADER = 'X-Signature';
export const TIMESTAMP_HEADER = 'X-Timestamp';

const PREFIX = 'sha256=';

/** `sha256=<hex>` HMAC-SHA256 of the exact bytes sent, so receivers verify the raw body before parsing it. */
export function signBody(secret: string, rawBody: string): string {
  return PREFIX + createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex');
}

/** Constant-time check of a received `X-Signature` header against the raw body. */
export function verifySignature(secret: string, rawBody: string, header: string | undefined): boolean {
  if (!header?.startsWith(PREFIX)) return false;
  const expected = Buffer.from(signBody(secret, rawBody));
  const received = Buffer.from(header);
  return expected.length === received.length && timingSafeEqual(expected, received);
}
