import type { ManagedProcess } from '../../infra/processes';

export default async function globalTeardown(): Promise<void> {
  for (const p of (globalThis as { __stack?: ManagedProcess[] }).__stack ?? []) await p.stop();
}
