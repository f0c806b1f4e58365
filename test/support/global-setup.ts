import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { readToolPaths, repoRoot, startFerretDb, startTemporalDevServer } from '../../infra/local-stack';
import { freePort } from '../../infra/processes';
import { prepareNamespace } from '../../infra/temporal-setup';
import type { ManagedProcess } from '../../infra/processes';

/** One real Temporal dev server and one FerretDB for the whole run, on free ports in a temporary directory. */
export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pp-test-'));
  const tools = readToolPaths(path.join(repoRoot(), 'data', 'tools.json'), {
    temporal: process.env.TEMPORAL_CLI_PATH,
    ferretdb: process.env.FERRETDB_PATH,
    ferretdbIdIndex: process.env.FERRETDB_ID_INDEX_PATH,
  });
  const temporalPort = await freePort();
  const mongoPort = await freePort();
  const [temporal, ferret, bundle] = await Promise.all([
    startTemporalDevServer({
      binary: tools.temporal,
      host: '127.0.0.1',
      port: temporalPort,
      uiPort: undefined,
      dbFile: path.join(dir, 'temporal.db'),
      namespace: 'default',
      output: { logFile: path.join(dir, 'temporal.log') },
    }),
    startFerretDb({
      binary: tools.ferretdb,
      idIndexer: tools.ferretdbIdIndex,
      host: '127.0.0.1',
      port: mongoPort,
      dataDir: path.join(dir, 'ferretdb'),
      output: { logFile: path.join(dir, 'ferretdb.log') },
    }),
    bundleWorkflowCode({
      workflowsPath: require.resolve('../../workflows'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m) => console.error(m) },
    }),
  ]);
  const address = `127.0.0.1:${temporalPort}`;
  await prepareNamespace(address, 'default', 30);
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  (globalThis as { __stack?: ManagedProcess[] }).__stack = [ferret, temporal];
  process.env.TEST_TEMPORAL_ADDRESS = address;
  process.env.TEST_MONGO_URI_BASE = `mongodb://127.0.0.1:${mongoPort}`;
  process.env.TEST_WORKFLOW_BUNDLE = bundlePath;
  process.env.TEST_STACK_DIR = dir;
}
