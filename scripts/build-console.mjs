#!/usr/bin/env node
// Builds the console (console/dist) when it is missing or older than its sources; `--force` always builds.
// `npm start` runs it, so a fresh clone serves the console without a separate step.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const consoleDir = path.join(root, 'console');
const built = path.join(consoleDir, 'dist', 'index.html');

function newest(dir) {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const p = path.join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

// The console also shows the domain's labels, and the lock file pins its libraries.
const sources = Math.max(
  newest(consoleDir),
  newest(path.join(root, 'domain')),
  statSync(path.join(root, 'package-lock.json')).mtimeMs,
);
if (!process.argv.includes('--force') && existsSync(built) && statSync(built).mtimeMs >= sources) {
  console.log('console: up to date');
  process.exit(0);
}
console.log('console: building…');
const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
const result = spawnSync(
  process.execPath,
  [vite, 'build', '--config', path.join(consoleDir, 'vite.config.ts')],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
process.exit(result.status ?? 1);
