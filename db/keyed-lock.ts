/**
 * Serialises async work per key within this process.
 *
 * Why: FerretDB 1.x on SQLite applies an update as read-modify-write without isolation, so two concurrent
 * updates of the same document lose one of them (measured: 100 concurrent `$set`s on one document kept 3–14).
 * Documents shared across projects (an organisation's inbox, a channel's health) are therefore written
 * through this lock. The local stack runs one worker process, so this makes those writes safe there;
 * MongoDB applies single-document updates atomically, so multi-worker production deployments are safe too.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(fn);
    this.tails.set(key, current);
    try {
      return await current;
    } finally {
      if (this.tails.get(key) === current) this.tails.delete(key);
    }
  }
}
