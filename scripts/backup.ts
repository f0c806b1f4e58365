/**
 * `npm run backup -- [--out FILE.tar.gz | --out DIR]`: one tar.gz of DATA_DIR (Temporal's and FerretDB's SQLite
 * databases, FerretDB's state, the local JWT secret) with a manifest of times, versions and checksums, taken while
 * the stack is stopped so that the workflows and the read model come from the same moment (infra/data-safety.ts).
 * Default: backups/project-pipeline-<UTC time>.tar.gz beside DATA_DIR. Exit 1 on any refusal or failure.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { createBackup, defaultArchivePath, stackEndpoints, toolBinaries } from '../infra/data-safety';

/** Paths given on the command line are the caller's, not npm's (npm runs scripts from the package root). */
const callerPath = (p: string) => path.resolve(process.env.INIT_CWD ?? process.cwd(), p);

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    console.log('usage: npm run backup -- [--out FILE.tar.gz | --out DIR]   (the stack must be stopped)');
    return;
  }
  const config = loadConfig();
  const out = values.out ?? positionals[0];
  let archive = defaultArchivePath(config.dataDir);
  if (out !== undefined) {
    const resolved = callerPath(out);
    const isDir = out.endsWith('/') || (existsSync(resolved) && statSync(resolved).isDirectory());
    archive = isDir ? path.join(resolved, path.basename(archive)) : resolved;
  }
  console.log(`backing up ${config.dataDir} …`);
  const started = Date.now();
  const manifest = await createBackup({
    dataDir: config.dataDir,
    archive,
    endpoints: stackEndpoints(config),
    tools: toolBinaries(config),
    log: (line) => console.log(line),
  });
  const bytes = manifest.files.reduce((n, f) => n + f.size, 0);
  console.log(
    `backup written: ${archive}\n  ${manifest.files.length} files, ${bytes} bytes before compression, ` +
      `${statSync(archive).size} bytes in the archive, ${Date.now() - started} ms`,
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
