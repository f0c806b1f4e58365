/** Reading failures: error classes worth counting, and a summary of the worker's log. */

/** A short class for an error message: the part worth counting. */
export function classify(message: string): string {
  if (/database is locked|SQLITE_BUSY/.test(message))
    return 'FerretDB/SQLite: database is locked (SQLITE_BUSY)';
  if (/E11000/.test(message)) return 'E11000 duplicate key';
  if (/timed out|timeout/i.test(message)) return 'timed out';
  return message.split('\n')[0]?.slice(0, 120) ?? '';
}

/** Counts the worker's warnings and errors by message, activity type and error class. */
export function summariseWorkerLog(text: string): Map<string, number> {
  const kinds = new Map<string, number>();
  for (const entry of text.split(/\n(?=\d{4}-\d\d-\d\dT)/)) {
    const head = /\[(WARN|ERROR)\] ([^{\n]*)/.exec(entry);
    if (!head) continue;
    const activity = /activityType: '([^']+)'/.exec(entry)?.[1];
    const error = /errmsg: '([^']*)'|message: '([^']*)'|Error: ([^\n]*)/.exec(entry);
    const detail = error ? classify(error[1] ?? error[2] ?? error[3] ?? '') : '';
    const what = [`${head[1]} ${(head[2] ?? '').trim()}`, activity, detail].filter(Boolean).join(' — ');
    kinds.set(what, (kinds.get(what) ?? 0) + 1);
  }
  return kinds;
}
