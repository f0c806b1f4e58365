import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy in front of the test FerretDB that breaks the network at a chosen point of the MongoDB wire
 * conversation: a real fault for a real driver and a real server, placed exactly where a race or an outage
 * matters (an `insert` answered and then the connection gone; a write held while another process writes).
 */
export class MongoFaultProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private down = false;
  private rules: Rule[] = [];
  private readonly held: (() => void)[] = [];

  constructor(private readonly upstream: { host: string; port: number }) {}

  /** Listens on a free loopback port and returns it. */
  async listen(): Promise<number> {
    const server = net.createServer((client) => this.connect(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return (server.address() as AddressInfo).port;
  }

  /** Drops every connection and refuses new ones until restore(): Mongo is unreachable. */
  cut(): void {
    this.down = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  restore(): void {
    this.down = false;
  }

  /** Cuts (see cut()) as soon as the answer to the next `command` on `collection` has reached the client. */
  cutAfterReply(command: string, collection: string): void {
    this.rules.push({
      patterns: [commandBytes(command, collection)],
      action: 'cutAfterReply',
      hit: () => {},
    });
  }

  /** Closes the connection that sends the next `command` on `collection`, before the command reaches Mongo. */
  dropConnectionOn(command: string, collection: string): void {
    this.rules.push({ patterns: [commandBytes(command, collection)], action: 'drop', hit: () => {} });
  }

  /**
   * Holds the next of these commands (and what follows it on its connection) until release(); resolves once one
   * is held.
   */
  hold(commands: [command: string, collection: string][]): Promise<void> {
    return new Promise((resolve) =>
      this.rules.push({
        patterns: commands.map(([c, coll]) => commandBytes(c, coll)),
        action: 'hold',
        hit: resolve,
      }),
    );
  }

  release(): void {
    for (const forward of this.held.splice(0)) forward();
  }

  /** Forgets rules that did not fire. */
  disarm(): void {
    this.rules = [];
  }

  async close(): Promise<void> {
    this.release();
    this.cut();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private connect(client: net.Socket): void {
    if (this.down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.upstream.port, this.upstream.host);
    for (const [s, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(s);
      s.on('error', () => other.destroy());
      s.on('close', () => {
        this.sockets.delete(s);
        other.destroy();
      });
    }
    const fromClient = new WireFramer();
    const fromServer = new WireFramer();
    let waiting: Buffer[] | undefined;
    let cutOnReply = false;
    client.on('data', (chunk: Buffer) => {
      if (this.down) return;
      for (const msg of fromClient.push(chunk)) {
        if (waiting) {
          waiting.push(msg);
          continue;
        }
        const rule = this.take(msg);
        if (rule?.action === 'hold') {
          const queued = (waiting = [msg]);
          this.held.push(() => {
            waiting = undefined;
            for (const m of queued) upstream.write(m);
          });
          rule.hit();
          continue;
        }
        if (rule?.action === 'drop') {
          client.destroy();
          return;
        }
        if (rule?.action === 'cutAfterReply') cutOnReply = true;
        upstream.write(msg);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      for (const msg of fromServer.push(chunk)) {
        if (!cutOnReply) {
          client.write(msg);
          continue;
        }
        cutOnReply = false;
        // Nothing more reaches Mongo from now on; the answer is handed over before every connection goes.
        this.down = true;
        client.write(msg, () => this.cut());
      }
    });
  }

  private take(msg: Buffer): Rule | undefined {
    const i = this.rules.findIndex((r) => r.patterns.some((p) => msg.includes(p)));
    if (i < 0) return undefined;
    return this.rules.splice(i, 1)[0];
  }
}

interface Rule {
  patterns: Buffer[];
  action: 'hold' | 'cutAfterReply' | 'drop';
  hit: () => void;
}

/** The BSON element `command: "collection"` that opens a command document (e.g. `{ insert: "outbox", … }`). */
function commandBytes(command: string, collection: string): Buffer {
  const value = Buffer.from(`${collection}\0`, 'utf8');
  const length = Buffer.alloc(4);
  length.writeInt32LE(value.length);
  return Buffer.concat([Buffer.from([0x02]), Buffer.from(`${command}\0`, 'utf8'), length, value]);
}

/** Splits a byte stream into MongoDB wire messages (each starts with its length as an int32). */
class WireFramer {
  private pending = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = Buffer.concat([this.pending, chunk]);
    const messages: Buffer[] = [];
    while (this.pending.length >= 4) {
      const length = this.pending.readInt32LE(0);
      if (this.pending.length < length) break;
      messages.push(this.pending.subarray(0, length));
      this.pending = this.pending.subarray(length);
    }
    return messages;
  }
}
