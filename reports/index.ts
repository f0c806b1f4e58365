/** Supervision reports over the `projects` read model: pure, deterministic, exact (see FORMULAS). */
export * from './format';
export * from './policy';
export {
  LIBRARIES,
  type LibraryName,
  type ProjectRecord,
  type ReportContext,
  type StageChange,
  type StageHistory,
} from './source';
export * from './dispatch';
export * from './overdue';
export * from './rankings';
export * from './quality';
export * from './targets';
export * from './export';
