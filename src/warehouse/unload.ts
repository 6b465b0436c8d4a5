/**
 * Redshift UNLOAD to the lake.
 *
 * DuckDB writes the query's result to a file in the warehouse's staging folder (the only
 * place it may write), in the format UNLOAD asks for; the bytes are then put into the
 * lake under Redshift's names: `<prefix>0000_part_00` (PARALLEL ON, the default) or
 * `<prefix>000` (PARALLEL OFF), with `.gz` or `.parquet` appended, and, with MANIFEST,
 * `<prefix>manifest` listing them. One machine writes one file.
 *
 * Without ALLOWOVERWRITE, an UNLOAD whose files already exist fails before it writes
 * anything, as Redshift does.
 *
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_UNLOAD.html
 * @see https://docs.aws.amazon.com/redshift/latest/dg/r_UNLOAD_command_examples.html
 */
import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { formatS3Url, parseS3Url, type ObjectStore } from '../lake/index.ts';
import { unloadCopyOptions, unloadFileKey, type UnloadStatement } from './dialect.ts';
import { SQLSTATE } from './errors.ts';
import { SqlError } from './index.ts';
import { quoteString } from './lexer.ts';

/** A result column, as the manifest's schema names it. */
export interface UnloadColumn {
  /** Column name. */
  readonly name: string;
  /** Redshift type name (`integer`, `character varying`, ...). */
  readonly type: string;
}

/** What an UNLOAD runs with. */
export interface UnloadEnv {
  /** Runs DuckDB SQL in the caller's session; returns the rows a COPY ... TO wrote. */
  readonly run: (sql: string) => Promise<number>;
  /** The result columns of a DuckDB query (for MANIFEST VERBOSE). */
  readonly describe: (sql: string) => Promise<readonly UnloadColumn[]>;
  /** The lake. */
  readonly store: ObjectStore;
  /** A folder DuckDB may write. */
  readonly scratchDir: string;
  /** Throws when the statement was cancelled or timed out. */
  readonly checkCancelled: () => void;
}

/** The manifest UNLOAD writes. @see https://docs.aws.amazon.com/redshift/latest/dg/r_UNLOAD.html#unload-manifest */
export interface UnloadManifest {
  /** One entry per data file. */
  readonly entries: readonly { readonly url: string; readonly meta: { readonly content_length: number } }[];
  /** With MANIFEST VERBOSE: the columns. */
  readonly schema?: { readonly elements: readonly { name: string; type: { base: string } }[] };
  /** With MANIFEST VERBOSE: totals. */
  readonly meta?: { readonly content_length: number; readonly record_count: number };
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'NoSuchKey' || code === 'NoSuchBucket';
}

async function exists(store: ObjectStore, bucket: string, key: string): Promise<boolean> {
  try {
    return (await store.headObject(bucket, key)) !== undefined;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/** Runs an UNLOAD; returns the rows written. */
export async function runUnload(env: UnloadEnv, u: UnloadStatement): Promise<number> {
  let location: { bucket: string; key: string };
  try {
    location = parseS3Url(u.to);
  } catch {
    throw new SqlError(`Invalid S3 URL '${u.to}'`, SQLSTATE.invalidParameterValue);
  }
  const { bucket, key: prefix } = location;
  const dataKey = unloadFileKey(u, prefix);
  const manifestKey = `${prefix}manifest`;
  if (!(await env.store.bucketExists(bucket)))
    throw new SqlError(
      `S3ServiceException:The specified bucket does not exist: ${bucket}`,
      SQLSTATE.internalError,
    );
  if (!u.allowOverwrite) {
    for (const key of u.manifest === 'none' ? [dataKey] : [dataKey, manifestKey]) {
      if (await exists(env.store, bucket, key))
        throw new SqlError(
          `Specified unload destination on S3 is not empty. Consider using a different bucket / prefix, manually removing the target files in S3, or using the ALLOWOVERWRITE option.`,
          SQLSTATE.internalError,
        );
    }
  }
  const file = join(env.scratchDir, `unload-${randomUUID()}`);
  try {
    const rows = await env.run(`COPY (${u.sql}) TO ${quoteString(file)} (${unloadCopyOptions(u)})`);
    env.checkCancelled();
    const body = await readFile(file);
    await env.store.putObject(bucket, dataKey, body);
    if (u.manifest !== 'none') {
      const manifest: UnloadManifest = {
        entries: [{ url: formatS3Url(bucket, dataKey), meta: { content_length: body.length } }],
        ...(u.manifest === 'verbose'
          ? {
              schema: {
                elements: (await env.describe(u.sql)).map((c) => ({ name: c.name, type: { base: c.type } })),
              },
              meta: { content_length: body.length, record_count: rows },
            }
          : {}),
      };
      await env.store.putObject(bucket, manifestKey, Buffer.from(JSON.stringify(manifest, null, 2)));
    }
    return rows;
  } finally {
    await rm(file, { force: true });
  }
}
