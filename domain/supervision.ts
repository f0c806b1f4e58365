/** The supervision jobs of the 督办推进机制, each a scheduled workflow run with an immutable report. */
export type SupervisionKind =
  'MONTHLY_DISPATCH' | 'QUARTERLY_ADJUSTMENT' | 'QUARTERLY_BULLETIN' | 'ANNUAL_ASSESSMENT';
