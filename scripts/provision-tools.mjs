#!/usr/bin/env node
// Makes sure the Temporal CLI and FerretDB binaries, and our FerretDB index helper, exist; idempotent.
// Plain JavaScript on purpose: it runs before anything is compiled (npm pretest / prestart).
// Order per tool: explicit path from the environment → a binary on PATH reporting the right version →
// a build with `go install` into a cache outside the clone, reused by later clones and CI.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const TOOLS = [
  {
    name: 'temporal',
    envVar: 'TEMPORAL_CLI_PATH',
    version: '1.5.1',
    versionArgs: ['--version'],
    // Later CLI tags carry a replace directive and cannot be `go install`ed; these are tried in order.
    modules: [
      'github.com/temporalio/cli/cmd/temporal@v1.5.1',
      'github.com/temporalio/cli/cmd/temporal@v1.4.1',
      'github.com/temporalio/cli/cmd/temporal@v1.3.0',
    ],
  },
  {
    name: 'ferretdb',
    envVar: 'FERRETDB_PATH',
    version: '1.24.2',
    versionArgs: ['--version'],
    modules: ['github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2'],
    // The published module lacks build/version/version.txt, so a plain `go install` builds a binary that
    // panics at start; build from the module source with that file written in.
    sourceBuild: {
      module: 'github.com/FerretDB/FerretDB',
      version: 'v1.24.2',
      pkg: './cmd/ferretdb',
      versionFile: 'build/version/version.txt',
    },
  },
];

const cacheDir = resolve(
  process.env.PROJECT_PIPELINE_TOOLS_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'project-pipeline', 'bin'),
);
const here = dirname(fileURLToPath(import.meta.url));
const manifestPath = join(here, '..', 'data', 'tools.json');

function say(msg) {
  process.stderr.write(`[provision] ${msg}\n`);
}

function fail(msg) {
  process.stderr.write(`[provision] ERROR: ${msg}\n`);
  process.exit(1);
}

function reportedVersion(path, args) {
  const r = spawnSync(path, args, { encoding: 'utf8', timeout: 20_000 });
  if (r.error || r.status !== 0) return undefined;
  return `${r.stdout}\n${r.stderr}`;
}

function versionMatches(output, version) {
  // `go install` builds have no release ldflags, so also accept the module version embedded in the binary.
  return output !== undefined && output.includes(version);
}

function embeddedModuleVersion(path) {
  const r = spawnSync('go', ['version', '-m', path], { encoding: 'utf8', timeout: 20_000 });
  if (r.error || r.status !== 0) return undefined;
  const mod = r.stdout.split('\n').find((l) => l.trim().startsWith('mod\t'));
  return mod?.trim().split('\t')[2]?.replace(/^v/, '');
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function acceptable(tool, path) {
  const out = reportedVersion(path, tool.versionArgs);
  if (versionMatches(out, tool.version)) return true;
  return embeddedModuleVersion(path) === tool.version;
}

/** The binary the environment names for `tool`, if any; a path that does not exist is an error. */
function explicitPath(tool) {
  const explicit = process.env[tool.envVar];
  if (!explicit) return undefined;
  if (!existsSync(explicit))
    fail(`${tool.envVar}=${explicit} does not exist. Unset it to let this script build ${tool.name}.`);
  say(`${tool.name}: using ${explicit} from ${tool.envVar}`);
  return explicit;
}

function provision(tool) {
  const explicit = explicitPath(tool);
  if (explicit) return explicit;
  const cached = join(cacheDir, tool.name);
  if (existsSync(cached) && acceptable(tool, cached)) {
    say(`${tool.name}: cached ${cached}`);
    return cached;
  }
  const found = onPath(tool.name);
  if (found && acceptable(tool, found)) {
    say(`${tool.name}: found ${found} (v${tool.version}) on PATH`);
    return found;
  }
  const go = onPath('go');
  if (!go) {
    fail(
      `${tool.name} v${tool.version} is missing and Go is not installed to build it. ` +
        `Install Go >= 1.25, or set ${tool.envVar} to a ${tool.name} binary.`,
    );
  }
  mkdirSync(cacheDir, { recursive: true });
  if (tool.sourceBuild) {
    const started = Date.now();
    say(
      `${tool.name}: building ${tool.sourceBuild.module}@${tool.sourceBuild.version} into ${cacheDir} (the first build takes a few minutes)…`,
    );
    if (buildFromModuleSource(go, tool.sourceBuild, cached) && acceptable(tool, cached)) {
      say(`${tool.name}: built in ${Math.round((Date.now() - started) / 1000)} s`);
      return cached;
    }
    fail(
      `could not build ${tool.name}. Check that the Go module proxy is reachable (GOPROXY=${process.env.GOPROXY ?? 'default'}), ` +
        `or set ${tool.envVar} to an existing ${tool.name} v${tool.version} binary.`,
    );
  }
  for (const mod of tool.modules) {
    say(`${tool.name}: building ${mod} into ${cacheDir} (the first build takes a few minutes)…`);
    const started = Date.now();
    const r = spawnSync(go, ['install', mod], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, GOBIN: cacheDir, GOFLAGS: process.env.GOFLAGS ?? '-buildvcs=false' },
    });
    if (r.status === 0 && existsSync(cached)) {
      say(`${tool.name}: built in ${Math.round((Date.now() - started) / 1000)} s`);
      if (!mod.endsWith(`@v${tool.version}`)) say(`${tool.name}: WARNING built ${mod}, not v${tool.version}`);
      return cached;
    }
    say(`${tool.name}: ${mod} did not build (exit ${r.status}).`);
  }
  fail(
    `could not build ${tool.name}. Check that the Go module proxy is reachable (GOPROXY=${process.env.GOPROXY ?? 'default'}), ` +
      `or set ${tool.envVar} to an existing ${tool.name} v${tool.version} binary.`,
  );
}

function buildFromModuleSource(go, spec, output) {
  const dl = spawnSync(go, ['mod', 'download', '-json', `${spec.module}@${spec.version}`], {
    encoding: 'utf8',
  });
  if (dl.status !== 0) {
    say(`go mod download failed: ${dl.stderr || dl.stdout}`);
    return false;
  }
  const { Dir } = JSON.parse(dl.stdout);
  const work = mkdtempSync(join(tmpdir(), 'pp-build-'));
  try {
    const src = join(work, 'src');
    cpSync(Dir, src, { recursive: true });
    chmodRecursive(src);
    writeFileSync(join(src, spec.versionFile), `${spec.version}\n`);
    const r = spawnSync(go, ['build', '-o', output, spec.pkg], {
      cwd: src,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, GOFLAGS: process.env.GOFLAGS ?? '-buildvcs=false' },
    });
    return r.status === 0 && existsSync(output);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function chmodRecursive(dir) {
  // The module cache is read-only; the copy must be writable to add the version file and be removed later.
  spawnSync('chmod', ['-R', 'u+w', dir]);
}

// Our own helper, built from this repository's source: the binary's name carries a hash of that source, so a
// changed helper is rebuilt and a cached one is reused by every clone.
const LOCAL_TOOLS = [
  {
    name: 'ferretdb-id-index',
    envVar: 'FERRETDB_ID_INDEX_PATH',
    dir: join(here, '..', 'tools', 'ferretdb-id-index'),
    files: ['go.mod', 'go.sum', 'main.go'],
  },
];

function provisionLocal(tool) {
  const explicit = explicitPath(tool);
  if (explicit) return explicit;
  const hash = createHash('sha256');
  for (const f of tool.files) hash.update(f).update(readFileSync(join(tool.dir, f)));
  const output = join(cacheDir, `${tool.name}-${hash.digest('hex').slice(0, 12)}`);
  if (existsSync(output)) {
    say(`${tool.name}: cached ${output}`);
    return output;
  }
  const go = onPath('go');
  if (!go)
    fail(`${tool.name} must be built and Go is not installed. Install Go >= 1.24, or set ${tool.envVar}.`);
  mkdirSync(cacheDir, { recursive: true });
  say(`${tool.name}: building ${tool.dir} into ${cacheDir}…`);
  const started = Date.now();
  const partial = `${output}.partial-${process.pid}`;
  const r = spawnSync(go, ['build', '-o', partial, '.'], {
    cwd: tool.dir,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOFLAGS: process.env.GOFLAGS ?? '-buildvcs=false' },
  });
  if (r.status !== 0 || !existsSync(partial)) {
    rmSync(partial, { force: true });
    fail(
      `could not build ${tool.name}. Check that the Go module proxy is reachable (GOPROXY=${process.env.GOPROXY ?? 'default'}), ` +
        `or set ${tool.envVar} to a built ${tool.name}.`,
    );
  }
  // Renamed into place only once complete: a concurrent or interrupted run never sees half a binary.
  execFileSync('mv', ['-f', partial, output]);
  say(`${tool.name}: built in ${Math.round((Date.now() - started) / 1000)} s`);
  return output;
}

const paths = {};
for (const tool of TOOLS) paths[tool.envVar] = provision(tool);
for (const tool of LOCAL_TOOLS) paths[tool.envVar] = provisionLocal(tool);
mkdirSync(dirname(manifestPath), { recursive: true });
writeFileSync(manifestPath, JSON.stringify(paths, null, 2) + '\n');
say(`tool paths written to ${manifestPath}`);
if (process.argv.includes('--print')) execFileSync('cat', [manifestPath], { stdio: 'inherit' });
