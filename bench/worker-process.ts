/**
 * The project-pipeline worker in a process of its own, so a benchmark can measure its memory apart from the
 * load generator. It is built exactly as test/support/harness.ts builds it (worker/create-worker.ts with all
 * activities and the prebuilt workflow bundle; e-mail to a closed port). Started by bench/worker-control.ts
 * through `fork`; reports over IPC and stops on a `shutdown` message, SIGTERM, or when its parent goes away.
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createSupervisionModels } from '../db/supervision-models';
import { loadPolicy } from '../policy/load';
import { createCalendarModels } from '../db/calendar-models';
import { connectMongo, createModels } from '../db/models';
import { createNotificationModels } from '../db/notification-models';
import { createWorker } from '../worker/create-worker';

export interface WorkerProcessEnv {
  BENCH_TEMPORAL_ADDRESS: string;
  BENCH_MONGO_URI: string;
  BENCH_WORKFLOW_BUNDLE: string;
  BENCH_TASK_QUEUE: string;
  /** An SMTP server on 127.0.0.1 to send e-mail to (default: none, a closed port). */
  BENCH_SMTP_PORT?: string;
}

export type WorkerProcessMessage =
  | { type: 'ready' }
  | {
      type: 'memory';
      at: number;
      rss: number;
      heapUsed: number;
      heapTotal: number;
      external: number;
      arrayBuffers: number;
    }
  | { type: 'stopped' }
  | { type: 'failed'; message: string };

const MEMORY_REPORT_MS = 1000;

function send(msg: WorkerProcessMessage): void {
  if (process.connected) process.send?.(msg);
}

function env(name: keyof WorkerProcessEnv): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (this process is started by bench/worker-control.ts)`);
  return v;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const address = env('BENCH_TEMPORAL_ADDRESS');
  const taskQueue = env('BENCH_TASK_QUEUE');
  const mongo = await connectMongo(env('BENCH_MONGO_URI'));
  const native = await NativeConnection.connect({ address });
  const clientConnection = await Connection.connect({ address });
  const worker = await createWorker({
    connection: native,
    namespace: 'default',
    taskQueue,
    models: createModels(mongo),
    calendarModels: createCalendarModels(mongo),
    supervisionModels: createSupervisionModels(mongo),
    policy: loadPolicy(),
    notifications: {
      // As in the test harness: no SMTP server unless the benchmark runs one (bench/faults.ts).
      smtp: {
        host: '127.0.0.1',
        port: Number(process.env.BENCH_SMTP_PORT ?? 1),
        from: 'bench <bench@localhost>',
      },
      models: createNotificationModels(mongo),
      client: new Client({ connection: clientConnection, namespace: 'default' }),
      taskQueue,
    },
    workflowBundle: { codePath: env('BENCH_WORKFLOW_BUNDLE') },
  });

  const stop = () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'shutdown') stop();
  });
  process.on('disconnect', stop); // the parent died or let go: never linger as an orphan

  const report = () => {
    const m = process.memoryUsage();
    send({ type: 'memory', at: Date.now(), ...m });
  };
  const timer = setInterval(report, MEMORY_REPORT_MS);
  const running = worker.run(); // the SDK also shuts down gracefully on SIGINT/SIGTERM
  send({ type: 'ready' });
  if (!process.connected) stop();
  report();
  try {
    await running;
  } finally {
    clearInterval(timer);
    await native.close().catch(() => undefined);
    await clientConnection.close().catch(() => undefined);
    await mongo.close().catch(() => undefined);
  }
  send({ type: 'stopped' });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  },
);
