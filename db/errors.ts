/** MongoDB's duplicate key error (E11000), as FerretDB reports it too: an insert or upsert lost a race. */
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}
