/**
 * The SQL port's listener: accepts connections, hands each to a Connection, and keeps the
 * cancel keys (BackendKeyData) so a CancelRequest on another connection reaches the right
 * session.
 *
 * @see https://www.postgresql.org/docs/15/protocol-flow.html#PROTOCOL-FLOW-CANCELING-REQUESTS
 */
import { createServer, type Server, type Socket } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { silentLogger } from '../util/logger.ts';
import type { PgServer, PgServerOptions } from './index.ts';
import { Connection, type ConnectionContext } from './connection.ts';

/** Creates the SQL port server (not yet listening). */
export function createPgServer(options: PgServerOptions): PgServer {
  const logger = options.logger ?? silentLogger;
  const keys = new Map<number, { secret: number; cancel: () => void }>();
  const connections = new Set<Connection>();
  let nextPid = 10000 + Math.floor(Math.random() * 10000);

  const ctx: ConnectionContext = {
    warehouse: options.warehouse,
    logger,
    serverVersion: options.serverVersion ?? '15.0',
    auth: options.auth ?? 'scram-sha-256',
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
