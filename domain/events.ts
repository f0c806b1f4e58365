import type { Actor, Stage } from './project';
import type { TaskLedger } from './state';

/** Appends an audit event to the read-model outbox; `stageBefore` is the stage when the action began. */
export function recordEvent(
  s: TaskLedger,
  e: {
    type: string;
    actor?: Actor | undefined;
    requestId?: string | undefined;
    stageBefore: Stage;
    at: number;
    data: Record<string, unknown>;
  },
): void {
  s.seq += 1;
  s.outbox.events.push({
    seq: s.seq,
    type: e.type,
    at: e.at,
    actor: e.actor,
    stageBefore: e.stageBefore,
    stageAfter: s.stage,
    requestId: e.requestId,
    data: JSON.parse(JSON.stringify(e.data)) as Record<string, unknown>,
  });
}
