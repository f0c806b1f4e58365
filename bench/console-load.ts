/**
 * `npm run bench:console`: the console's bundle size and first-load time in Debian's Chromium against the stack as
 * `npm start` starts it (cold cache each run). Prints the built files' sizes (raw and gzip), and per page the
 * median of `--runs` loads: time to DOMContentLoaded, to load, to the page's content, and bytes on the wire.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { buildLikeNpmStart, startStack } from '../test/e2e/stack';
import { launchBrowser } from '../test/e2e/browser';
import { repoRoot } from '../infra/local-stack';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);

function bundleSizes(): { file: string; bytes: number; gzip: number }[] {
  const dir = path.join(repoRoot(), 'console', 'dist', 'assets');
  return readdirSync(dir)
    .filter((f) => /\.(js|css)$/.test(f))
    .map((f) => {
      const p = path.join(dir, f);
      return { file: f, bytes: statSync(p).size, gzip: gzipSync(readFileSync(p)).length };
    })
    .sort((a, b) => b.bytes - a.bytes);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  buildLikeNpmStart(); // what `npm start` would serve
  const sizes = bundleSizes();
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  console.log('bundle (console/dist/assets):');
  for (const s of sizes)
    console.log(`  ${s.file.padEnd(40)} ${kb(s.bytes).padStart(12)}  gzip ${kb(s.gzip).padStart(10)}`);
  console.log(
    `  total ${kb(sizes.reduce((a, s) => a + s.bytes, 0))}, gzip ${kb(sizes.reduce((a, s) => a + s.gzip, 0))}`,
  );

  const stack = await startStack();
  try {
    const res = await fetch(`${stack.baseUrl}/api/v1/session/local`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ org: 'project-center', role: 'supervisor', userId: 'bench', name: '基准' }),
    });
    const { token } = (await res.json()) as { token: string };
    const pages = [
      { name: 'sign-in', path: '/sign-in', ready: 'text=本地登录', token: false },
      {
        name: 'dashboard (supervisor)',
        path: '/supervision/dashboard',
        ready: 'text=四库项目分布',
        token: true,
      },
    ];
    for (const p of pages) {
      const figures: { dcl: number; load: number; ready: number; bytes: number }[] = [];
      for (let i = 0; i < runs; i++) {
        const browser = await launchBrowser(); // a fresh profile: nothing cached
        const page = await browser.newPage();
        let bytes = 0;
        // Bytes on the wire (compressed bodies and headers), not decoded sizes.
        page.on('requestfinished', (req) => {
          void req.sizes().then(
            (sz) => (bytes += sz.responseBodySize + sz.responseHeadersSize),
            () => undefined,
          );
        });
        // Signed in before the first byte, so nothing is cached by a sign-in page first.
        if (p.token)
          await page.addInitScript(
            `sessionStorage.setItem('project-pipeline.token', ${JSON.stringify(token)})`,
          );
        const started = Date.now();
        await page.goto(`${stack.baseUrl}${p.path}`, { waitUntil: 'load' });
        await page.locator(p.ready).first().waitFor();
        const ready = Date.now() - started;
        const nav = JSON.parse(
          await page.evaluate('JSON.stringify(performance.getEntriesByType("navigation")[0])'),
        ) as { domContentLoadedEventEnd: number; loadEventEnd: number };
        figures.push({ dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, ready, bytes });
        await browser.close();
      }
      console.log(
        `${p.name}: DOMContentLoaded ${median(figures.map((f) => f.dcl)).toFixed(0)} ms, load ${median(
          figures.map((f) => f.load),
        ).toFixed(0)} ms, content shown ${median(figures.map((f) => f.ready))} ms, ${kb(
          median(figures.map((f) => f.bytes)),
        )} transferred (median of ${runs}, cold profile)`,
      );
    }
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
