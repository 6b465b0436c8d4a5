/**
 * The composition root: opens the lake, the warehouse and the delivery streams over the
 * data directory, and serves the AWS endpoint (Firehose; S3 in a later stage) and the
 * console port. `sluice up` and `sluice demo` both start the server through here.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { createDeliveryStreams, FirehoseMetrics, type DeliveryStreamService } from '../delivery/index.ts';
import { createFirehoseApi } from '../ingest/index.ts';
import { createS3Api } from '../s3api/index.ts';
import { createPgServer } from '../pgwire/index.ts';
import type { ObjectStore } from '../lake/index.ts';
import { createDuckDbWarehouse, type Warehouse } from '../warehouse/index.ts';
import { createConsoleServer } from '../console/index.ts';
import type { Logger } from '../util/logger.ts';
import { isLoopbackHost, openLake, type ServerSettings } from './settings.ts';

/** A running Sluice server. */
export interface RunningServer {
  readonly settings: ServerSettings;
  readonly objectStore: ObjectStore;
  readonly warehouse: Warehouse;
  readonly streams: DeliveryStreamService;
  /** The warehouse user's password (as configured or stored). */
  readonly password: string;
  /** Base URLs of the endpoints. */
  readonly urls: { readonly aws: string; readonly console: string; readonly sql: string };
  /** Stops accepting records, delivers what is buffered, and closes everything. */
  close(): Promise<void>;
}

/** Where the generated warehouse password is kept. */
export function credentialsPath(dataDir: string): string {
  return join(resolve(dataDir), 'credentials.json');
}

/**
 * Returns the warehouse password: SLUICE_PASSWORD when set; otherwise the one stored in
 * the data directory, generated (and announced once) on first start.
 */
async function resolvePassword(
  settings: ServerSettings,
  logger: Logger,
  announce: (line: string) => void,
): Promise<string> {
  if (settings.password) return settings.password;
  const path = credentialsPath(settings.dataDir);
  try {
    const stored = JSON.parse(await readFile(path, 'utf8')) as { user: string; password: string };
    if (stored.user === settings.user) {
      announce(`Warehouse user ${settings.user}: password stored in ${path}`);
      return stored.password;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const password = randomBytes(18).toString('base64url');
  await writeFile(path, JSON.stringify({ user: settings.user, password }, null, 2) + '\n', { mode: 0o600 });
  logger.info({ path }, 'Generated the warehouse password.');
  announce(
    `Warehouse user ${settings.user}, password ${password} (shown this once; stored in ${path}, mode 0600)`,
  );
  return password;
}

/** Listens on a port; resolves with the bound port. */
function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolvePort(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** Starts Sluice; `announce` receives the lines a person should see on start. */
export async function startServer(
  settings: ServerSettings,
  logger: Logger,
  announce: (line: string) => void,
): Promise<RunningServer> {
  if (!isLoopbackHost(settings.host)) {
    if (settings.accessKeys.length === 0) {
      throw new Error(
        `Refusing to listen on ${settings.host} without AWS access keys: set SLUICE_ACCESS_KEY_ID and SLUICE_SECRET_ACCESS_KEY (or accessKeys in the config file), or bind to 127.0.0.1.`,
      );
    }
    if (!settings.tls) {
      throw new Error(
        `Refusing to serve HTTP on ${settings.host} without TLS: configure tls.certFile and tls.keyFile.`,
      );
    }
  }
  const dataDir = resolve(settings.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await stat(dataDir);

  let ready = false;
  const objectStore = openLake(settings, logger.child({ stage: 'lake' }));
  const warehouse = await createDuckDbWarehouse({
    dir: join(dataDir, 'warehouse'),
    objectStore,
    logger: logger.child({ stage: 'warehouse' }),
    ...settings.warehouse,
  });
  const password = await resolvePassword(settings, logger, announce);
  await warehouse.ensureUser(settings.user, password, { superuser: true });

  const metrics = new FirehoseMetrics();
  const localNames = new Set(['localhost', '127.0.0.1', '::1', hostname(), settings.host]);
  const streams = await createDeliveryStreams({
    dir: join(dataDir, 'streams'),
    objectStore,
    warehouse,
    metrics,
    logger: logger.child({ stage: 'delivery' }),
    region: settings.region,
    accountId: settings.accountId,
    isEmbedded: (host, port) =>
      port === settings.sqlPort && (localNames.has(host) || host.startsWith('127.')),
    ...(settings.log.maxBytes ? { logMaxBytes: settings.log.maxBytes } : {}),
    ...(settings.log.maxPendingBytes ? { logMaxPendingBytes: settings.log.maxPendingBytes } : {}),
  });
  await streams.apply(settings.deliveryStreams);

  const firehose = createFirehoseApi({
    streams,
    credentials: settings.accessKeys,
    region: settings.region,
    accountId: settings.accountId,
    logger: logger.child({ stage: 'ingest' }),
  });
  const s3 = createS3Api({
    store: objectStore,
    credentials: settings.accessKeys,
    region: settings.region,
    logger: logger.child({ stage: 's3' }),
    multipartDir: join(dataDir, 'multipart'),
    ...settings.s3,
  });
  // One port, two protocols: Firehose requests carry X-Amz-Target; everything else is S3.
  const handleAws = (req: IncomingMessage, res: ServerResponse): void => {
    if (firehose.isFirehoseRequest(req)) return firehose.handle(req, res);
    s3.handle(req, res);
  };
  const awsServer = settings.tls
    ? createHttpsServer({ ...settings.tls }, handleAws)
    : createHttpServer(handleAws);
  awsServer.keepAliveTimeout = 65_000;
  const consoleApp = createConsoleServer({
    warehouse,
    streams,
    metrics,
    objectStore,
    // A base-map tile URL for the console's maps, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png
    ...(settings.console?.tileUrl ? { tileUrl: settings.console.tileUrl } : {}),
    logger: logger.child({ stage: 'console' }),
    serviceUser: settings.user,
    // The same certificate as the other ports: passwords and session cookies never cross in clear.
    ...(settings.tls ? { tls: settings.tls } : {}),
    ready: () => ready,
    ...(settings.metricsToken ? { metricsToken: settings.metricsToken } : {}),
  });

  if (settings.sql.requireTls && !settings.tls)
    throw new Error('sql.requireTls needs a certificate: configure tls.certFile and tls.keyFile.');
  const pg = createPgServer({
    warehouse,
    logger: logger.child({ stage: 'pgwire' }),
    auth: settings.sql.auth,
    requireTls: settings.sql.requireTls,
    ...(settings.tls ? { tls: settings.tls } : {}),
  });

  const awsPort = await listen(awsServer, settings.awsPort, settings.host);
  const sqlPort = await pg.listen(settings.sqlPort, settings.host);
  await consoleApp.listen({ port: settings.consolePort, host: settings.host });
  const consoleAddress = consoleApp.server.address();
  const consolePort =
    typeof consoleAddress === 'object' && consoleAddress ? consoleAddress.port : settings.consolePort;
  const scheme = settings.tls ? 'https' : 'http';
  const hostPart = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  const urls = {
    aws: `${scheme}://${hostPart}:${awsPort}`,
    console: `${scheme}://${hostPart}:${consolePort}`,
    sql: `postgresql://${settings.user}@${hostPart}:${sqlPort}/dev`,
  };
  ready = true;

  let closing: Promise<void> | undefined;
  return {
    settings,
    objectStore,
    warehouse,
    streams,
    password,
    urls,
    close() {
      closing ??= (async () => {
        ready = false;
        s3.close();
        awsServer.close();
        awsServer.closeIdleConnections();
        await streams.close({ flush: true, timeoutMs: 30_000 });
        await consoleApp.close();
        await pg.close();
        awsServer.closeAllConnections();
        await warehouse.close();
      })();
      return closing;
    },
  };
}
