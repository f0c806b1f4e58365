import { ActivityFailure, proxyActivities, sleep } from '@temporalio/workflow';
import type { createImportActivities } from '../activities/imports';

const { createImportBatch, finishImport, stageImportRows } = proxyActivities<
  ReturnType<typeof createImportActivities>
>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 20,
  },
});

export interface ProjectImportInput {
  importId: string;
  rows: number;
  batchSize: number;
  /** Projects started per second at most, so an import never floods Temporal or the read model. */
  ratePerSecond: number;
}

/** One bulk import (workflow id `import-<importId>`): creates its projects batch by batch at a bounded rate. */
export async function projectImport(input: ProjectImportInput): Promise<{ created: number }> {
  const batchMs = Math.ceil((input.batchSize / input.ratePerSecond) * 1000);
  let created = 0;
  try {
    // The rows move out of the job document into one document per batch first: each batch reads only its own.
    await stageImportRows({ importId: input.importId, batchSize: input.batchSize });
    for (let from = 0; from < input.rows; from += input.batchSize) {
      const began = Date.now();
      created += await createImportBatch({
        importId: input.importId,
        from,
        to: Math.min(input.rows, from + input.batchSize),
      });
      const left = batchMs - (Date.now() - began);
      if (left > 0 && from + input.batchSize < input.rows) await sleep(left);
    }
  } catch (err) {
    const reason = err instanceof ActivityFailure ? (err.cause?.message ?? err.message) : String(err);
    await finishImport({ importId: input.importId, error: reason });
    throw err;
  }
  await finishImport({ importId: input.importId });
  return { created };
}
