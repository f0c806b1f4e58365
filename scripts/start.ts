/**
 * `npm start`: the whole stack on one machine — Temporal dev server, FerretDB, the worker and the API —
 * with data under DATA_DIR, stopped cleanly (no orphan process) on Ctrl-C or SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config';
import {
  startFerretDb,
  startTemporalDevServer,
  readToolPaths,
  repoRoot as findRepoRoot,
} from '../infra/local-stack';
import { isPortOpen, spawnManaged, waitForPort, type ManagedProcess } from '../infra/processes';
import { prepareNamespace } from '../infra/temporal-setup';

const repoRoot = findRepoRoot();

function localJwtSecret(dataDir: string): string {
  const file = path.join(dataDir, 'jwt-secret');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

async function main(): Promise<void> {
  const config = loadConfig();
  mkdirSync(config.dataDir, { recursive: true });
  const tools = readToolPaths(path.join(repoRoot, 'data', 'tools.json'), {
    temporal: config.tools.temporalCliPath,
    ferretdb: config.tools.ferretDbPath,
    ferretdbIdIndex: config.tools.ferretDbIdIndexPath,
  });
  const [temporalHost = '127.0.0.1', temporalPortText = '7233'] = config.temporal.address.split(':');
  const temporalPort = Number(temporalPortText);
  const mongoUrl = new URL(config.mongo.uri);
  const mongoHost = mongoUrl.hostname;
  const mongoPort = Number(mongoUrl.port || 27017);
  for (const [what, host, port] of [
    ['Temporal (TEMPORAL_ADDRESS)', temporalHost, temporalPort],
    ['Temporal Web UI (TEMPORAL_UI_PORT)', temporalHost, config.temporal.uiPort],
    ['FerretDB (MONGO_URI)', mongoHost, mongoPort],
    ['API (API_PORT)', config.api.host, config.api.port],
  ] as const) {
    if (await isPortOpen(host, port))
      throw new Error(
        `${what}: port ${host}:${port} is already in use; stop what holds it or choose another port`,
      );
  }

  const running: ManagedProcess[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    for (const p of [...running].reverse()) await p.stop();
    console.log('stopped');
    process.exit(code);
  };
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));
  const watch = (p: ManagedProcess) => {
    p.child.once('exit', (code, signal) => {
      if (stopping) return;
      console.error(`${p.name} exited unexpectedly (code ${code}, signal ${signal}); stopping the stack`);
      void stopAll(1);
    });
    running.push(p);
  };

  try {
    console.log('starting Temporal dev server…');
    watch(
      await startTemporalDevServer({
        binary: tools.temporal,
        host: temporalHost,
        port: temporalPort,
        uiPort: config.temporal.uiPort,
        dbFile: path.join(config.dataDir, 'temporal', 'temporal.db'),
        namespace: config.temporal.namespace,
        output: { logFile: path.join(config.dataDir, 'logs', 'temporal.log') },
      }),
    );
    await prepareNamespace(config.temporal.address, config.temporal.namespace, config.temporal.retentionDays);
    console.log('starting FerretDB…');
    watch(
      await startFerretDb({
        binary: tools.ferretdb,
        idIndexer: tools.ferretdbIdIndex,
        host: mongoHost,
        port: mongoPort,
        dataDir: path.join(config.dataDir, 'ferretdb'),
        output: { logFile: path.join(config.dataDir, 'logs', 'ferretdb.log') },
      }),
    );
    // Local mode: the secret kept under DATA_DIR, and with it the console's local sign-in page.
    const localMode = !config.auth.jwtSecret && !config.auth.jwksUrl;
    const env = {
      ...process.env,
      JWT_SECRET: localMode ? localJwtSecret(config.dataDir) : config.auth.jwtSecret,
      LOCAL_SIGN_IN: localMode ? 'true' : 'false',
    };
    watch(
      spawnManaged({
        name: 'worker',
        command: process.execPath,
        args: [path.join(repoRoot, 'dist', 'worker', 'main.js')],
        env,
        output: 'inherit',
      }),
    );
    const api = spawnManaged({
      name: 'api',
      command: process.execPath,
      args: [path.join(repoRoot, 'dist', 'api', 'main.js')],
      env,
      output: 'inherit',
    });
    watch(api);
    await waitForPort('API', config.api.host, config.api.port, 60_000, api);
    console.log(
      [
        '',
        'project-pipeline is running:',
        `  Console            http://${config.api.host}:${config.api.port}/${localMode ? '   (local sign-in)' : ''}`,
        `  API                http://${config.api.host}:${config.api.port}/api/v1   (health: /healthz, /readyz)`,
        `  Temporal frontend  ${config.temporal.address}  namespace "${config.temporal.namespace}", task queue "${config.temporal.taskQueue}"`,
        `  Temporal Web UI    ${config.temporal.uiUrl}`,
        `  MongoDB (FerretDB) ${config.mongo.uri}`,
        `  data               ${config.dataDir}   logs: ${path.join(config.dataDir, 'logs')}`,
        '  a token for local use: npm run token -- --sub alice --org yaodu --role applicant',
        'Ctrl-C stops everything.',
      ].join('\n'),
    );
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    await stopAll(1);
  }
}

void main();
