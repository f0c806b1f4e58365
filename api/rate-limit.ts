import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { actorOf } from './auth';
import { ApiError, sendProblem } from './problem';

/**
 * How many requests one caller may make in a window (OWASP API4, unrestricted resource consumption). A caller
 * with a token is counted by its subject (`sub`), wherever it calls from; a caller without one — the console's
 * sign-in, and every request whose token is refused — by its address.
 */
export interface RateLimitSettings {
  /** The window the counts cover, in milliseconds. */
  windowMs: number;
  /** Requests one token subject may make per window. */
  perCaller: number;
  /** Requests without a valid token one address may make per window. */
  perAddressUnauthenticated: number;
}

/**
 * Generous enough that people, the console and the benchmarks (some tens of requests a second over several
 * tokens) never meet them; a script looping on one token does.
 */
export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  windowMs: 10_000,
  perCaller: 600,
  perAddressUnauthenticated: 300,
};

function throttled(windowMs: number, who: string) {
  return (_req: Request, res: Response) => {
    const retryAfter = res.getHeader('Retry-After') ?? Math.ceil(windowMs / 1000);
    sendProblem(
      res,
      new ApiError(
        429,
        'throttled',
        'Too many requests',
        `${who} made too many requests; retry after ${String(retryAfter)} s`,
      ),
    );
  };
}

/** Counts authenticated requests per token subject; mount after authentication. */
export function callerRateLimit(settings: RateLimitSettings): RequestHandler {
  return rateLimit({
    windowMs: settings.windowMs,
    limit: settings.perCaller,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // The actor comes from the verified token: a forged subject never reaches this counter.
    keyGenerator: (req) => `sub:${actorOf(req).userId}`,
    handler: throttled(settings.windowMs, 'this caller'),
  });
}

/** Counts requests without a valid token per client address (IPv6 addresses by their /56). */
export function addressRateLimit(settings: RateLimitSettings): RequestHandler {
  return rateLimit({
    windowMs: settings.windowMs,
    limit: settings.perAddressUnauthenticated,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (req) => `ip:${ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown')}`,
    handler: throttled(settings.windowMs, 'this address'),
  });
}

/**
 * An error handler placed right after authentication: a refused token (401) counts against the caller's
 * address, so guessing tokens is throttled like any other anonymous traffic; the 401 follows unless the
 * address is over its limit.
 */
export function countRefusedTokens(limiter: RequestHandler) {
  return (err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!(err instanceof ApiError && err.status === 401)) return next(err);
    void limiter(req, res, () => next(err));
  };
}
