import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Few and cheap: they serve the Temporal Web UI; lists and reports read the Mongo read model.
export const ProjectStageAttr = defineSearchAttributeKey('ProjectStage', SearchAttributeType.KEYWORD);
export const ProjectPortfolioAttr = defineSearchAttributeKey('ProjectPortfolio', SearchAttributeType.KEYWORD);
export const ProjectOverdueAttr = defineSearchAttributeKey('ProjectOverdue', SearchAttributeType.BOOL);
export const ProjectNextDeadlineAttr = defineSearchAttributeKey(
  'ProjectNextDeadline',
  SearchAttributeType.DATETIME,
);

export const ALL_SEARCH_ATTRIBUTES = [
  ProjectStageAttr,
  ProjectPortfolioAttr,
  ProjectOverdueAttr,
  ProjectNextDeadlineAttr,
] as const;
