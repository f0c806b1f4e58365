import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import helmet from 'helmet';

/**
 * The built console (console/dist) at `/`: hashed assets cached for a year, everything else answered with
 * index.html (the console routes in the browser), which is never cached so a new build shows at once.
 * Paths of the API and the probes never reach here (they are mounted first).
 */
export function consoleRouter(dir: string, opts: { connectSources?: string[] | undefined } = {}): Router {
  const router = express.Router();
  const index = path.join(dir, 'index.html');
  router.use(
    helmet.contentSecurityPolicy({
      useDefaults: true,
      directives: {
        // The sign-in through the provider exchanges the code from the browser.
        'connect-src': ["'self'", ...(opts.connectSources ?? [])],
        // Ant Design writes its styles at run time; ECharts draws on canvas.
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:', 'blob:'],
        'upgrade-insecure-requests': null,
      },
    }),
  );
  router.use(
    '/assets',
    express.static(path.join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false }),
  );
  router.use(express.static(dir, { index: false, maxAge: 0 }));
  router.get(/.*/, (req: Request, res: Response, next: NextFunction) => {
    if (req.path.startsWith('/assets/') || !existsSync(index) || !req.accepts('html')) return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}
