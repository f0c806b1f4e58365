import type { Models } from '../db/models';
import { createReadModelActivities } from './read-model';

export interface ActivityDeps {
  models: Models;
}

/** All activities the worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createReadModelActivities({ models: deps.models }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
