import express, { Router } from 'express';
import { getAbsoluteFSPath } from 'swagger-ui-dist';

const INDEX = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>project-pipeline API</title>
<link rel="stylesheet" href="./swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="./swagger-ui-bundle.js"></script><script src="./init.js"></script></body></html>`;

// A separate file rather than an inline script, so the strict Content-Security-Policy still holds.
const INIT = `window.ui = SwaggerUIBundle({ url: '../openapi.json', dom_id: '#swagger-ui', persistAuthorization: true });`;

/** Interactive documentation (Swagger UI served from the installed package, no CDN). */
export function docsRouter(): Router {
  const r = Router();
  r.get('/', (_req, res) => {
    res.type('html').send(INDEX);
  });
  r.get('/init.js', (_req, res) => {
    res.type('application/javascript').send(INIT);
  });
  r.use(express.static(getAbsoluteFSPath(), { index: false }));
  return r;
}
