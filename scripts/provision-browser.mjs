#!/usr/bin/env node
// The console's browser tests drive Debian's Chromium (never a browser downloaded by a test library) and need
// CJK fonts, without which Chinese renders as empty boxes. `npm test` runs this first; it installs both with
// apt-get where they are missing (as root, as on CI machines) and says what to do otherwise.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function hasCjkFont() {
  const r = spawnSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim().length > 0;
}

const missing = [];
if (!existsSync(CHROMIUM)) missing.push('chromium');
if (!hasCjkFont()) missing.push('fonts-noto-cjk');
if (missing.length === 0) {
  console.log(`browser: ${CHROMIUM} and CJK fonts present`);
  process.exit(0);
}
if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
  console.error(
    `browser: missing ${missing.join(', ')}; install them with \`sudo apt-get install -y chromium fonts-noto-cjk\`` +
      ' (or set CHROMIUM_PATH to a Chromium of the system)',
  );
  process.exit(1);
}
console.log(`browser: installing ${missing.join(', ')} from Debian's packages…`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium', 'fonts-noto-cjk'], {
  stdio: 'inherit',
  env,
});
