/**
 * The SQL port's listener: accepts connections, hands each to a Connection, and keeps the
 * cancel keys (BackendKeyData) so a CancelRequest on another connection reaches the right
 * session.
 *
 * @see https://www.postgresql.org/docs/15/protocol-flow.html#PROTOCOL-FLOW-CANCELING-REQUESTS
 */
import { createServer, type Server, type Socket } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { silentLogger } from '../util/logger.ts';
import type { PgServer, PgServerOptions } from './index.ts';
import { Connection, type ConnectionContext } from './connection.ts';

/** Creates the SQL port server (not yet listening). */
export function createPgServer(options: PgServerOptions): PgServer {
  const logger = options.logger ?? silentLogger;
  if (options.requireTls && !options.tls)
    throw new Error(
      'The SQL port cannot require TLS without a certificate: configure tls.certFile and tls.keyFile.',
    );
  const keys = new Map<number, { secret: number; cancel: () => void }>();
  const connections = new Set<Connection>();
  let nextPid = 10000 + Math.floor(Math.random() * 10000);

  const failures = new SignInFailures();
  const ctx: ConnectionContext = {
    signInFailed: (address) => failures.failed(address),
    signInSucceeded: (address) => failures.succeeded(address),
    warehouse: options.warehouse,
    logger,
    serverVersion: options.serverVersion ?? '15.0',
    auth: options.auth ?? 'scram-sha-256',
    ...(options.tls ? { tls: createSecureContext({ cert: options.tls.cert, key: options.tls.key }) } : {}),
    requireTls: options.requireTls ?? false,
    register(secret, cancel) {
      do nextPid = nextPid >= 0x7ffffff0 ? 10000 : nextPid + 1;
      while (keys.has(nextPid));
      keys.set(nextPid, { secret, cancel });
      return nextPid;
    },
    unregister(pid) {
      keys.delete(pid);
    },
    cancel(pid, secret) {
      const key = keys.get(pid);
      const a = Buffer.alloc(4);
      const b = Buffer.alloc(4);
      a.writeInt32BE(secret, 0);
      b.writeInt32BE(key?.secret ?? 0, 0);
      if (key && timingSafeEqual(a, b)) {
        logger.info({ pid }, 'SQL statement cancelled by CancelRequest');
        key.cancel();
      }
    },
  };

  const server: Server = createServer((socket: Socket) => {
    const connection = new Connection(socket, ctx);
    connections.add(connection);
    socket.on('close', () => connections.delete(connection));
  });

  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address();
          const bound = typeof address === 'object' && address ? address.port : port;
          logger.info({ host, port: bound }, 'SQL port listening');
          resolve(bound);
        });
      });
    },
    async close() {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...connections].map((c) => c.shutdown()));
      await closing;
    },
  };
}

/**
 * Failed sign-ins per client address: after FREE_FAILURES within WINDOW_MS, each further
 * failure is answered after a delay that doubles up to MAX_DELAY_MS, so guessing passwords
 * is slow while a user who mistypes once is not held up.
 */
export class SignInFailures {
  static readonly FREE_FAILURES = 3;
  static readonly WINDOW_MS = 60_000;
  static readonly MAX_DELAY_MS = 5_000;
  /** Bounds memory when many addresses fail. */
  static readonly MAX_ADDRESSES = 10_000;
  private readonly byAddress = new Map<string, { count: number; last: number }>();

  /** Records a failure; returns the delay (ms) before answering it. */
  failed(address: string, now = Date.now()): number {
    const entry = this.byAddress.get(address);
    const count = entry && now - entry.last < SignInFailures.WINDOW_MS ? entry.count + 1 : 1;
    this.byAddress.delete(address);
    if (this.byAddress.size >= SignInFailures.MAX_ADDRESSES) {
      const oldest = this.byAddress.keys().next().value;
      if (oldest !== undefined) this.byAddress.delete(oldest);
    }
    this.byAddress.set(address, { count, last: now });
    const over = count - SignInFailures.FREE_FAILURES;
    return over <= 0 ? 0 : Math.min(SignInFailures.MAX_DELAY_MS, 250 * 2 ** (over - 1));
  }

  /** Forgets an address's failures. */
  succeeded(address: string): void {
    this.byAddress.delete(address);
  }
}
