/**
 * Server settings: command-line flags win over environment variables, which win over the
 * config file, which wins over the embedded defaults.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { createLocalObjectStore, createS3ObjectStore, type ObjectStore } from '../lake/index.ts';
import type { Logger } from '../util/logger.ts';
import type { CreateDeliveryStreamInput } from '../delivery/index.ts';

const accessKey = z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) });

/** The config file (`--config FILE`), JSON. */
export const configFileSchema = z
  .object({
    dataDir: z.string().optional(),
    host: z.string().optional(),
    awsPort: z.number().int().min(0).max(65535).optional(),
    sqlPort: z.number().int().min(0).max(65535).optional(),
    consolePort: z.number().int().min(0).max(65535).optional(),
    region: z.string().optional(),
    accountId: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
    accessKeys: z.array(accessKey).optional(),
    tls: z.object({ certFile: z.string(), keyFile: z.string() }).optional(),
    /** The SQL port: sign-in method (md5 and cleartext only for old clients) and whether TLS is required. */
    sql: z
      .object({
        auth: z.enum(['scram-sha-256', 'md5', 'password']).optional(),
        requireTls: z.boolean().optional(),
      })
      .strict()
      .optional(),
    metricsToken: z.string().min(16).optional(),
    /** The web console: a slippy-map tile URL template for base maps (SLUICE_TILE_URL wins). */
    console: z
      .object({
        tileUrl: z
          .string()
          .url()
          .refine((url) => ['{z}', '{x}', '{y}'].every((part) => url.includes(part)), {
            message: 'must be a tile URL template with {z}, {x} and {y}',
          })
          .optional(),
      })
      .strict()
      .optional(),
    warehouse: z
      .object({
        memoryLimit: z.string().optional(),
        threads: z.number().int().min(1).optional(),
        statementTimeoutSeconds: z.number().min(0).optional(),
      })
      .strict()
      .optional(),
    log: z
      .object({
        maxBytes: z.number().int().positive().optional(),
        maxPendingBytes: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    /** The S3 API: days after which an unfinished multipart upload is removed (default 7). */
    s3: z.object({ multipartUploadExpiryDays: z.number().positive().optional() }).strict().optional(),
    /** The lake on an S3 endpoint instead of the local directory. */
    lake: z
      .object({
        endpoint: z.string().url().optional(),
        region: z.string().default('us-east-1'),
        accessKeyId: z.string().optional(),
        secretAccessKey: z.string().optional(),
        forcePathStyle: z.boolean().optional(),
        bucketMap: z.record(z.string(), z.string()).optional(),
      })
      .strict()
      .optional(),
    deliveryStreams: z.array(z.record(z.string(), z.unknown())).optional(),
  })
  .strict();

/** A parsed config file. */
export type ConfigFile = z.infer<typeof configFileSchema>;

/** Everything the server needs to start. */
export interface ServerSettings {
  readonly dataDir: string;
  readonly host: string;
  readonly awsPort: number;
  readonly sqlPort: number;
  readonly consolePort: number;
  readonly region: string;
  readonly accountId: string;
  readonly accessKeys: readonly { accessKeyId: string; secretAccessKey: string }[];
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** SQL port sign-in: method and whether TLS is required (needs `tls`). */
  readonly sql: { readonly auth: 'scram-sha-256' | 'md5' | 'password'; readonly requireTls: boolean };
  readonly metricsToken?: string;
  /** The web console: the base-map tile URL template, if any. */
  readonly console?: { readonly tileUrl?: string };
  readonly warehouse: { memoryLimit?: string; threads?: number; statementTimeoutMs?: number };
  readonly log: { maxBytes?: number; maxPendingBytes?: number };
  /** The S3 API: age at which an unfinished multipart upload is removed. */
  readonly s3: { multipartExpiryMs?: number };
  readonly deliveryStreams: readonly CreateDeliveryStreamInput[];
  /** The S3-backed lake, when configured; otherwise the local directory under the data directory. */
  readonly lake?: NonNullable<ConfigFile['lake']>;
  readonly user: string;
  readonly password?: string;
}

/** Flags of `sluice up` and `sluice demo`. */
export interface ServerFlags {
  readonly dataDir?: string;
  readonly config?: string;
  readonly host?: string;
  readonly awsPort?: string;
  readonly sqlPort?: string;
  readonly consolePort?: string;
}

/** Parses a port flag or variable. */
function port(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`${name} must be a port number, not '${value}'.`);
  return n;
}

/** Reads and validates a config file. */
export async function readConfigFile(path: string): Promise<ConfigFile> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read config file ${path}: ${(error as Error).message}`);
  }
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`Config file ${path}: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Opens the lake the settings name: an S3 endpoint, or the local directory in the data directory. */
export function openLake(settings: Pick<ServerSettings, 'lake' | 'dataDir'>, logger?: Logger): ObjectStore {
  const lake = settings.lake;
  if (!lake)
    return createLocalObjectStore({
      root: join(resolve(settings.dataDir), 'lake'),
      ...(logger ? { logger } : {}),
    });
  return createS3ObjectStore({
    region: lake.region,
    ...(lake.endpoint ? { endpoint: lake.endpoint } : {}),
    ...(lake.accessKeyId && lake.secretAccessKey
      ? { credentials: { accessKeyId: lake.accessKeyId, secretAccessKey: lake.secretAccessKey } }
      : {}),
    ...(lake.forcePathStyle !== undefined ? { forcePathStyle: lake.forcePathStyle } : {}),
    ...(lake.bucketMap ? { bucketMap: lake.bucketMap } : {}),
  });
}

/** True for a host name or address that stays on this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Resolves the settings from flags, environment and config file. */
export async function resolveSettings(
  flags: ServerFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServerSettings> {
  const file = flags.config ? await readConfigFile(flags.config) : ({} as ConfigFile);
  const envKeys =
    env.SLUICE_ACCESS_KEY_ID && env.SLUICE_SECRET_ACCESS_KEY
      ? [{ accessKeyId: env.SLUICE_ACCESS_KEY_ID, secretAccessKey: env.SLUICE_SECRET_ACCESS_KEY }]
      : [];
  const tls = file.tls
    ? { cert: await readFile(file.tls.certFile), key: await readFile(file.tls.keyFile) }
    : undefined;
  const statementTimeout = file.warehouse?.statementTimeoutSeconds;
  return {
    dataDir: flags.dataDir ?? env.SLUICE_DATA_DIR ?? file.dataDir ?? './.sluice',
    host: flags.host ?? env.SLUICE_HOST ?? file.host ?? '127.0.0.1',
    awsPort:
      port(flags.awsPort, '--aws-port') ??
      port(env.SLUICE_AWS_PORT, 'SLUICE_AWS_PORT') ??
      file.awsPort ??
      4566,
    sqlPort:
      port(flags.sqlPort, '--sql-port') ??
      port(env.SLUICE_SQL_PORT, 'SLUICE_SQL_PORT') ??
      file.sqlPort ??
      5439,
    consolePort:
      port(flags.consolePort, '--console-port') ??
      port(env.SLUICE_CONSOLE_PORT, 'SLUICE_CONSOLE_PORT') ??
      file.consolePort ??
      8080,
    region: file.region ?? env.AWS_REGION ?? 'us-east-1',
    accountId: file.accountId ?? '000000000000',
    accessKeys: envKeys.length > 0 ? envKeys : (file.accessKeys ?? []),
    ...(tls ? { tls } : {}),
    sql: { auth: file.sql?.auth ?? 'scram-sha-256', requireTls: file.sql?.requireTls ?? false },
    ...(env.SLUICE_METRICS_TOKEN || file.metricsToken
      ? { metricsToken: env.SLUICE_METRICS_TOKEN ?? file.metricsToken }
      : {}),
    console: {
      ...(env.SLUICE_TILE_URL || file.console?.tileUrl
        ? { tileUrl: env.SLUICE_TILE_URL || file.console?.tileUrl }
        : {}),
    },
    warehouse: {
      ...(file.warehouse?.memoryLimit ? { memoryLimit: file.warehouse.memoryLimit } : {}),
      ...(file.warehouse?.threads ? { threads: file.warehouse.threads } : {}),
      ...(statementTimeout !== undefined ? { statementTimeoutMs: statementTimeout * 1000 } : {}),
    },
    log: { ...file.log },
    s3: file.s3?.multipartUploadExpiryDays
      ? { multipartExpiryMs: file.s3.multipartUploadExpiryDays * 24 * 60 * 60 * 1000 }
      : {},
    deliveryStreams: (file.deliveryStreams ?? []) as unknown as CreateDeliveryStreamInput[],
    ...(file.lake ? { lake: file.lake } : {}),
    user: env.SLUICE_USER ?? 'awsuser',
    ...(env.SLUICE_PASSWORD ? { password: env.SLUICE_PASSWORD } : {}),
  };
}
