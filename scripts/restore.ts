/**
 * `npm run restore -- ARCHIVE.tar.gz [--force]`: puts a backup made by `npm run backup` back into DATA_DIR, after
 * verifying the manifest, every file's size and SHA-256, and SQLite's quick_check on each database. Refuses while
 * the stack runs, and refuses a DATA_DIR that holds data unless --force (which moves that data aside, to
 * DATA_DIR.replaced-<time>, rather than deleting it). `--check` only verifies the archive. Exit 1 on any refusal.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { restoreBackup, stackEndpoints, toolBinaries, verifyBackup } from '../infra/data-safety';

const callerPath = (p: string) => path.resolve(process.env.INIT_CWD ?? process.cwd(), p);
const USAGE = 'usage: npm run restore -- ARCHIVE.tar.gz [--force] [--check]   (the stack must be stopped)';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      force: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (positionals.length !== 1) throw new Error(USAGE);
  const archive = callerPath(positionals[0]!);
  const log = (line: string) => console.log(line);
  if (values.check) {
    console.log(`verifying ${archive} …`);
    const manifest = await verifyBackup(archive, log);
    console.log(`${archive}: ${manifest.files.length} files intact, taken ${manifest.createdAt}`);
    return;
  }
  const config = loadConfig();
  console.log(`restoring ${archive} into ${config.dataDir} …`);
  const result = await restoreBackup({
    archive,
    dataDir: config.dataDir,
    force: values.force,
    endpoints: stackEndpoints(config),
    tools: toolBinaries(config),
    log,
  });
  for (const w of result.warnings) console.warn(`warning: ${w}`);
  if (result.movedAside) console.log(`the data that was there is now in ${result.movedAside}`);
  console.log(
    `restored the backup taken ${result.manifest.createdAt} on ${result.manifest.host} ` +
      `(${result.manifest.files.length} files). Start the stack with \`npm start\`; ` +
      '`npm run check:consistency` then compares the workflows with the read model.',
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
