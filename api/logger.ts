export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  log(level: Level, msg: string, extra?: Record<string, unknown>): void;
}

/** Structured JSON lines on stdout; one object per line for log shippers. */
export function createLogger(
  min: Level,
  write: (line: string) => void = (l) => process.stdout.write(l + '\n'),
): Logger {
  return {
    log(level, msg, extra = {}) {
      if (ORDER[level] < ORDER[min]) return;
      write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...extra }));
    },
  };
}
