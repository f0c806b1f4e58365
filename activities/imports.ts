import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { ProjectClient } from '../client/project-client';
import type { ImportRowsDoc, Models } from '../db/models';
import type { OnboardingFacts } from '../domain/onboarding';
import type { Actor, ProjectDetails } from '../domain/project';

/** One row of an import as the API stored it: a create-project body (`ownerOrg`, `onboarding` when onboarded). */
type ImportedBody = Omit<ProjectDetails, 'ownerOrg'> & { ownerOrg?: string; onboarding?: OnboardingFacts };

const START_CONCURRENCY = 8;

export interface ImportActivityDeps {
  models: Models;
  projects: ProjectClient;
}

/** The `importRows` document of the batch of an import that starts at row index `from`. */
export function importRowsId(importId: string, from: number): string {
  return `${importId}:${from}`;
}

/** Bulk import: staging the rows, starting the workflows of one batch of rows, and recording the end. */
export function createImportActivities({ models, projects }: ImportActivityDeps) {
  /** The rows [from, to) with who imports them, from their staged batch. */
  async function batchOf(input: { importId: string; from: number; to: number }) {
    const rows = await models.ImportRows.findById(importRowsId(input.importId, input.from)).lean();
    if (!rows) throw new Error(`import ${input.importId}: rows from ${input.from} not staged`);
    return { org: rows.org, actor: rows.actor, items: rows.items.slice(0, input.to - input.from) };
  }

  return {
    /**
     * Moves the rows' create-project bodies out of the job into one `importRows` document per batch, so each batch
     * reads only its own rows by `_id`; the job keeps each row's project id (GET /imports/{id} lists them), and
     * the progress polls and updates of a 2,000-row job read and rewrite kilobytes instead of a megabyte.
     * Idempotent: a retry rewrites the same batches, and a job already staged is left as it is.
     */
    async stageImportRows(input: { importId: string; batchSize: number }): Promise<void> {
      const job = await models.ImportJob.findById(input.importId).lean();
      if (!job) throw new Error(`import ${input.importId} not found`);
      if (job.items.every((i) => i.body === undefined)) return;
      for (let from = 0; from < job.items.length; from += input.batchSize) {
        const doc: Omit<ImportRowsDoc, '_id'> = {
          importId: job._id,
          from,
          org: job.org,
          actor: job.actor,
          items: job.items.slice(from, from + input.batchSize).map(({ row, projectId, body }) => {
            if (!body) throw new Error(`import ${job._id}: row ${row} has no body`);
            return { row, projectId, body };
          }),
        };
        await models.ImportRows.replaceOne({ _id: importRowsId(job._id, from) }, doc, { upsert: true });
      }
      await models.ImportJob.updateOne(
        { _id: job._id },
        {
          $set: {
            items: job.items.map(({ row, projectId }) => ({ row, projectId })),
            updatedAt: new Date(),
          },
        },
      );
    },

    /**
     * Starts the project workflow of rows [from, to) of an import. Project ids derive from the import and the
     * row, so a retried batch finds the projects it already started instead of creating them twice. Nothing is
     * read from or waited for in the read model per row: each project's own first sync writes its record.
     */
    async createImportBatch(input: { importId: string; from: number; to: number }): Promise<number> {
      const batch = await batchOf(input);
      const actor = batch.actor as unknown as Actor;
      let started = 0;
      const { items } = batch;
      let next = 0;
      // A few starts in flight at once: each is one round trip to Temporal; the workflow bounds the overall rate.
      const lane = async () => {
        for (let item = items[next++]; item; item = items[next++]) {
          // A DRAFT row is the importing organisation's; an onboarded row names its applying unit.
          const { onboarding, ownerOrg, ...declared } = item.body as ImportedBody;
          const details: ProjectDetails = { ...declared, ownerOrg: ownerOrg ?? batch.org };
          try {
            await projects.start(item.projectId, details, actor, onboarding ? { onboarding } : {});
            started += 1;
          } catch (err) {
            if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          }
          Context.current().heartbeat(item.row);
        }
      };
      await Promise.all(Array.from({ length: Math.min(START_CONCURRENCY, items.length) }, lane));
      await models.ImportJob.updateOne(
        { _id: input.importId },
        { $max: { created: input.from + items.length }, $set: { updatedAt: new Date() } },
      );
      return started;
    },

    async finishImport(input: { importId: string; error?: string }): Promise<void> {
      const now = new Date();
      await models.ImportJob.updateOne(
        { _id: input.importId },
        {
          $set: {
            status: input.error ? 'FAILED' : 'COMPLETED',
            error: input.error ?? null,
            finishedAt: now,
            updatedAt: now,
          },
        },
      );
    },
  };
}
