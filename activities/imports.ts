import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { ProjectClient } from '../client/project-client';
import type { Models } from '../db/models';
import type { OnboardingFacts } from '../domain/onboarding';
import type { Actor, ProjectDetails } from '../domain/project';

/** One row of an import as the API stored it: a create-project body (`ownerOrg`, `onboarding` when onboarded). */
type ImportedBody = Omit<ProjectDetails, 'ownerOrg'> & { ownerOrg?: string; onboarding?: OnboardingFacts };

const START_CONCURRENCY = 8;

export interface ImportActivityDeps {
  models: Models;
  projects: ProjectClient;
}

/** Bulk import: starting the workflows of one batch of rows, and recording the end. */
export function createImportActivities({ models, projects }: ImportActivityDeps) {
  return {
    /**
     * Starts the project workflow of rows [from, to) of an import. Project ids derive from the import and the
     * row, so a retried batch finds the projects it already started instead of creating them twice.
     */
    async createImportBatch(input: { importId: string; from: number; to: number }): Promise<number> {
      const job = await models.ImportJob.findById(input.importId).lean();
      if (!job) throw new Error(`import ${input.importId} not found`);
      const actor = job.actor as unknown as Actor;
      let started = 0;
      const items = job.items.slice(input.from, input.to);
      let next = 0;
      // A few starts in flight at once: each is one round trip to Temporal; the workflow bounds the overall rate.
      const lane = async () => {
        for (let item = items[next++]; item; item = items[next++]) {
          // A DRAFT row is the importing organisation's; an onboarded row names its applying unit.
          const { onboarding, ownerOrg, ...declared } = item.body as ImportedBody;
          const details: ProjectDetails = { ...declared, ownerOrg: ownerOrg ?? job.org };
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
        { $max: { created: Math.min(input.to, job.items.length) }, $set: { updatedAt: new Date() } },
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
