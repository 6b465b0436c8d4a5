/**
 * Crash test: a child `sluice up` takes a steady PutRecordBatch load and is killed with
 * SIGKILL at random moments, then restarted on the same data directory and ports. At the
 * end every acknowledged record is in the lake exactly once and in the table exactly once
 * (src/delivery/guarantees.md). Records whose request died with the server are "unknown":
 * they may or may not be durable, but never more than once.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { CreateDeliveryStreamCommand, FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { createLocalObjectStore, listAllObjects } from '../../src/lake/index.ts';
import {
  freePort,
  removeDataDir,
  SLUICE_BIN,
  startSluice,
  type SluiceProcess,
} from '../support/sluice-process.ts';

const run = promisify(execFile);

const BUCKET = 'crash-bucket';
const PREFIX = 'events/';
const STREAM = 'crash-stream';
const TABLE = 'crash.events';

/** Ports kept across restarts. */
interface Ports {
  aws: number;
  sql: number;
  console: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const randomInt = (min: number, max: number): number => min + Math.floor(Math.random() * (max - min + 1));
const sample = (seqs: Iterable<number>, n = 10): string => [...seqs].slice(0, n).join(', ');

/** A Firehose client that never retries, so an error means this one request's fate is unknown. */
function firehoseClient(awsUrl: string): FirehoseClient {
  return new FirehoseClient({
    endpoint: awsUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDCRASHTEST', secretAccessKey: 'crash-test-secret' },
    maxAttempts: 1,
    requestHandler: { requestTimeout: 15_000, connectionTimeout: 2_000 },
  });
}

/** Creates the bucket with the lake CLI, starts Sluice, creates the table and the stream. */
async function setUp(): Promise<{ dataDir: string; ports: Ports; server: SluiceProcess }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-crash-'));
  const ports = { aws: await freePort(), sql: await freePort(), console: await freePort() };
  await run(process.execPath, [SLUICE_BIN, 'lake', 'mb', `s3://${BUCKET}`], {
    env: { ...process.env, SLUICE_DATA_DIR: dataDir },
    timeout: 30_000,
  });
  const server = await startSluice({ dataDir, ports, timeoutMs: 30_000 });
  await server.sql(
    `CREATE SCHEMA crash; CREATE TABLE ${TABLE} (id BIGINT IDENTITY(1,1), seq BIGINT NOT NULL, payload VARCHAR(64), ` +
      `created TIMESTAMP DEFAULT ('now'::text)::timestamp with time zone);`,
  );
  const client = firehoseClient(server.awsUrl);
  try {
    await client.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: STREAM,
        DeliveryStreamType: 'DirectPut',
        RedshiftDestinationConfiguration: {
          RoleARN: 'arn:aws:iam::000000000000:role/crash',
          ClusterJDBCURL: `jdbc:redshift://127.0.0.1:${ports.sql}/dev`,
          Username: 'awsuser',
          Password: server.password,
          CopyCommand: {
            DataTableName: TABLE,
            DataTableColumns: 'seq, payload',
            CopyOptions: "JSON 'auto' GZIP",
          },
          S3Configuration: {
            RoleARN: 'arn:aws:iam::000000000000:role/crash',
            BucketARN: `arn:aws:s3:::${BUCKET}`,
            Prefix: PREFIX,
            BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 },
            CompressionFormat: 'GZIP',
          },
        },
      }),
    );
  } finally {
    client.destroy();
  }
  return { dataDir, ports, server };
}

/** What the senders know about each sequence number they sent. */
class Ledger {
  /** The response entry had a RecordId: durable, must be delivered exactly once. */
  readonly acked = new Set<number>();
  /** The request died without a response (killed server): at most once. */
  readonly unknown = new Set<number>();
  /** The server answered with an error for the record: must never be delivered. */
  readonly rejected = new Set<number>();
  /** The connection was refused, so nothing was sent. */
  readonly refused = new Set<number>();
  requests = 0;
  private nextSeq = 1;

  /** Takes `n` fresh sequence numbers. */
  take(n: number): number[] {
    const first = this.nextSeq;
    this.nextSeq += n;
    return Array.from({ length: n }, (_, i) => first + i);
  }
}

/** The JSON record body for a sequence number (payloads have no braces). */
function recordFor(seq: number): Uint8Array {
  return Buffer.from(JSON.stringify({ seq, payload: `p-${seq}-${'x'.repeat(seq % 40)}` }));
}

/** Sends one PutRecordBatch and files every seq under acked, rejected, unknown or refused. */
async function sendBatch(client: FirehoseClient, ledger: Ledger, seqs: readonly number[]): Promise<boolean> {
  ledger.requests++;
  try {
    const out = await client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: STREAM,
        Records: seqs.map((seq) => ({ Data: recordFor(seq) })),
      }),
    );
    const entries = out.RequestResponses ?? [];
    if (entries.length !== seqs.length) {
      for (const seq of seqs) ledger.unknown.add(seq);
      return false;
    }
    seqs.forEach((seq, i) => {
      const entry = entries[i]!;
      if (entry.RecordId && !entry.ErrorCode) ledger.acked.add(seq);
      else ledger.rejected.add(seq);
    });
    return true;
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const code = (error as NodeJS.ErrnoException).code;
    const target =
      status !== undefined && status >= 400
        ? ledger.rejected
        : code === 'ECONNREFUSED'
          ? ledger.refused
          : ledger.unknown;
    for (const seq of seqs) target.add(seq);
    return false;
  }
}

/** Concurrent senders that keep going across kills until stopped. */
function startLoad(awsUrl: string, ledger: Ledger, senders: number): { stop: () => Promise<void> } {
  let stopped = false;
  const loops = Array.from({ length: senders }, async () => {
    let client = firehoseClient(awsUrl);
    while (!stopped) {
      const ok = await sendBatch(client, ledger, ledger.take(randomInt(100, 500)));
      if (!ok) {
        // A fresh client drops sockets to the dead server; retry connecting every ~50 ms.
        client.destroy();
        client = firehoseClient(awsUrl);
        await sleep(50);
      }
    }
    client.destroy();
  });
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** Counts every seq in the stream's data objects; also returns the keys under errors/. */
async function readLake(
  dataDir: string,
): Promise<{ counts: Map<number, number>; objects: string[]; errorKeys: string[] }> {
  const store = createLocalObjectStore({ root: join(dataDir, 'lake') });
  const counts = new Map<number, number>();
  const objects: string[] = [];
  const errorKeys: string[] = [];
  for await (const object of listAllObjects(store, BUCKET, PREFIX)) {
    if (object.key.startsWith(`${PREFIX}errors/`)) {
      errorKeys.push(object.key);
      continue;
    }
    if (object.key.startsWith(`${PREFIX}manifests/`)) continue;
    objects.push(object.key);
    const text = gunzipSync(await store.getObject(BUCKET, object.key)).toString('utf8');
    // Records are concatenated JSON objects `{...}{...}` whose payloads hold no braces.
    for (const part of text.split(/(?<=\})(?=\{)/)) {
      const seq = (JSON.parse(part) as { seq: number }).seq;
      counts.set(seq, (counts.get(seq) ?? 0) + 1);
    }
  }
  return { counts, objects, errorKeys };
}

/** Every seq in the table with its row count, read in pages. */
async function readTable(server: SluiceProcess): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  let after = -1;
  for (;;) {
    const [result] = await server.sql(
      `SELECT seq, count(*) FROM ${TABLE} WHERE seq > ${after} GROUP BY seq ORDER BY seq LIMIT 50000`,
    );
    const rows = result?.rows ?? [];
    for (const row of rows) counts.set(Number(row[0]), Number(row[1]));
    if (rows.length < 50000) return counts;
    after = Number(rows[rows.length - 1]![0]);
  }
}

async function tableCount(server: SluiceProcess): Promise<number> {
  const [result] = await server.sql(`SELECT count(*) FROM ${TABLE}`);
  return Number(result?.rows[0]?.[0]);
}

/** The stream's delivery position, from the console API. */
async function streamStatus(server: SluiceProcess): Promise<{ next: number; end: number }> {
  const response = await fetch(`${server.consoleUrl}/api/streams/${STREAM}`, {
    headers: { authorization: `Basic ${Buffer.from(`awsuser:${server.password}`).toString('base64')}` },
  });
  const body = (await response.json()) as { status: { next: number; end: number } };
  return body.status;
}

/**
 * Waits (up to 30 s) until the log is delivered and the table holds as many rows as the lake
 * holds records, unchanged for a second. On timeout it returns anyway, so the checks that
 * follow say which records are wrong rather than only that the wait ran out.
 */
async function drain(server: SluiceProcess, dataDir: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  let stableSince = Date.now();
  let last = '';
  for (;;) {
    const status = await streamStatus(server).catch((error: unknown) => ({
      next: -1,
      end: 0,
      error: String(error),
    }));
    const rows = await tableCount(server).catch(() => -1);
    let lakeRecords = 0;
    for (const n of (await readLake(dataDir)).counts.values()) lakeRecords += n;
    const now = `next=${status.next} end=${status.end} rows=${rows} lake-records=${lakeRecords}`;
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    } else if (status.next >= status.end && rows === lakeRecords && Date.now() - stableSince >= 1000) {
      return `drained: ${now}`;
    }
    if (Date.now() > deadline) return `not drained after 30 s: ${now}`;
    await sleep(250);
  }
}

/** The documented `<id>` of a batch's keys: first then last offset, 16 hex digits each, UUID-shaped. */
function batchKeyId(first: number, last: number): string {
  const a = first.toString(16).padStart(16, '0');
  const b = last.toString(16).padStart(16, '0');
  return `${a.slice(0, 8)}-${a.slice(8, 12)}-${a.slice(12, 16)}-${b.slice(0, 4)}-${b.slice(4)}`;
}

/**
 * Where the worker was when the server died, read from the state file and the lake while
 * the server is down: between batches, with its pending batch not yet in the lake, with
 * the object but no manifest, or with both (during COPY or the state write after it).
 */
async function killMoment(dataDir: string): Promise<string> {
  let state: { next: number; pending?: { first: number; last: number } };
  try {
    state = JSON.parse(
      await readFile(join(dataDir, 'streams', STREAM, 'destination-000000000001.json'), 'utf8'),
    ) as typeof state;
  } catch {
    return 'no-state';
  }
  if (!state.pending) return 'idle';
  const id = batchKeyId(state.pending.first, state.pending.last);
  const store = createLocalObjectStore({ root: join(dataDir, 'lake') });
  let object = false;
  let manifest = false;
  for await (const info of listAllObjects(store, BUCKET, PREFIX)) {
    if (!info.key.includes(id)) continue;
    if (info.key.startsWith(`${PREFIX}manifests/`)) manifest = true;
    else if (!info.key.startsWith(`${PREFIX}errors/`)) object = true;
  }
  return !object
    ? 'pending-before-object'
    : !manifest
      ? 'pending-object-written'
      : 'pending-manifest-written';
}

/** What the data dir shows, for a failure report. */
async function diagnose(server: SluiceProcess | undefined, dataDir: string): Promise<string> {
  const lines = [`data dir kept: ${dataDir}`];
  try {
    lines.push(
      `state: ${await readFile(join(dataDir, 'streams', STREAM, 'destination-000000000001.json'), 'utf8')}`,
    );
  } catch (error) {
    lines.push(`state: ${String(error)}`);
  }
  const store = createLocalObjectStore({ root: join(dataDir, 'lake') });
  for await (const object of listAllObjects(store, BUCKET, PREFIX))
    lines.push(`lake: ${object.key} (${object.size} B)`);
  if (server) {
    try {
      const [ledger] = await server.sql(
        'SELECT first_offset, last_offset, rows_loaded, rows_rejected, manifest FROM _sluice.load_ledger ORDER BY first_offset',
      );
      for (const row of ledger?.rows ?? []) lines.push(`ledger: ${row.join(' ')}`);
    } catch (error) {
      lines.push(`ledger: ${String(error)}`);
    }
    lines.push(`stderr (tail): ${server.stderr().slice(-4000)}`);
  }
  return lines.join('\n');
}

/** Checks exactly-once in the lake and the table; returns the summary numbers. */
async function checkExactlyOnce(
  server: SluiceProcess,
  dataDir: string,
  ledger: Ledger,
): Promise<{ lakeRecords: number; rows: number; unknownLanded: number; objects: number }> {
  const lake = await readLake(dataDir);
  const table = await readTable(server);

  assert.deepEqual(
    lake.errorKeys,
    [],
    `No object may be under ${PREFIX}errors/ (failed manifests or rejected records).`,
  );

  const lakeDup = [...lake.counts].filter(([, n]) => n > 1).map(([seq]) => seq);
  assert.equal(
    lakeDup.length,
    0,
    `${lakeDup.length} seqs are in the lake more than once, e.g. ${sample(lakeDup)}`,
  );
  const lakeMissing = [...ledger.acked].filter((seq) => !lake.counts.has(seq));
  assert.equal(
    lakeMissing.length,
    0,
    `${lakeMissing.length} acknowledged seqs are missing from the lake, e.g. ${sample(lakeMissing)}`,
  );

  const tableDup = [...table].filter(([, n]) => n > 1).map(([seq]) => seq);
  assert.equal(
    tableDup.length,
    0,
    `${tableDup.length} seqs are in ${TABLE} more than once, e.g. ${sample(tableDup)}`,
  );
  const tableMissing = [...ledger.acked].filter((seq) => !table.has(seq));
  assert.equal(
    tableMissing.length,
    0,
    `${tableMissing.length} acknowledged seqs are missing from ${TABLE}, e.g. ${sample(tableMissing)}`,
  );

  const onlyLake = [...lake.counts.keys()].filter((seq) => !table.has(seq));
  const onlyTable = [...table.keys()].filter((seq) => !lake.counts.has(seq));
  assert.equal(
    onlyLake.length,
    0,
    `${onlyLake.length} seqs are in the lake but not in ${TABLE}, e.g. ${sample(onlyLake)}`,
  );
  assert.equal(
    onlyTable.length,
    0,
    `${onlyTable.length} seqs are in ${TABLE} but not in the lake, e.g. ${sample(onlyTable)}`,
  );

  const strays = [...lake.counts.keys()].filter((seq) => !ledger.acked.has(seq) && !ledger.unknown.has(seq));
  assert.equal(
    strays.length,
    0,
    `${strays.length} seqs the server refused or answered with an error were delivered anyway, e.g. ${sample(strays)}`,
  );

  let rows = 0;
  for (const n of table.values()) rows += n;
  const unknownLanded = [...ledger.unknown].filter((seq) => lake.counts.has(seq)).length;
  return { lakeRecords: lake.counts.size, rows, unknownLanded, objects: lake.objects.length };
}

describe('crash', () => {
  test(
    'every acknowledged record is in the lake and the table exactly once after SIGKILLs at random moments under load',
    { timeout: 170_000 },
    async () => {
      const started = Date.now();
      const setup = await setUp();
      const { dataDir, ports } = setup;
      let server: SluiceProcess | undefined = setup.server;
      const ledger = new Ledger();
      let passed = false;
      let kills = 0;
      const moments = new Map<string, number>();
      let drained = 'not yet waited for delivery';
      try {
        const load = startLoad(server.awsUrl, ledger, 4);
        // Mostly 300–1500 ms under load; every fourth kill lands right after the restart,
        // while the batch left pending by the previous kill is being delivered again.
        const delays = Array.from({ length: 12 }, (_, i) =>
          i % 4 === 3 ? randomInt(20, 300) : randomInt(300, 1500),
        );
        try {
          for (const delay of delays) {
            await sleep(delay);
            await server.kill();
            kills++;
            server = undefined;
            const moment = await killMoment(dataDir);
            moments.set(moment, (moments.get(moment) ?? 0) + 1);
            server = await startSluice({ dataDir, ports, timeoutMs: 30_000 });
          }
          await sleep(500);
        } finally {
          await load.stop();
        }
        assert.ok(kills >= 10, `only ${kills} kills`);
        assert.ok(ledger.acked.size > 0, 'no record was acknowledged');

        drained = await drain(server, dataDir);
        const result = await checkExactlyOnce(server, dataDir, ledger);
        console.log(
          `crash summary: kills=${kills} requests=${ledger.requests} acked=${ledger.acked.size} ` +
            `unknown=${ledger.unknown.size} unknown-landed=${result.unknownLanded} rejected=${ledger.rejected.size} ` +
            `refused=${ledger.refused.size} lake-records=${result.lakeRecords} lake-objects=${result.objects} ` +
            `rows=${result.rows} seconds=${((Date.now() - started) / 1000).toFixed(1)} ` +
            `kill-moments=${JSON.stringify(Object.fromEntries(moments))}`,
        );
        passed = true;
      } catch (error) {
        console.log(
          `crash failure after ${kills} kills (${drained}): acked=${ledger.acked.size} unknown=${ledger.unknown.size} ` +
            `rejected=${ledger.rejected.size} refused=${ledger.refused.size}\n${await diagnose(server, dataDir)}`,
        );
        throw error;
      } finally {
        await server?.kill();
        if (passed) await removeDataDir(dataDir);
      }
    },
  );

  test(
    'records acknowledged just before a kill are delivered after restart with no duplicate',
    { timeout: 60_000 },
    async () => {
      const setup = await setUp();
      const { dataDir, ports } = setup;
      let server: SluiceProcess | undefined = setup.server;
      const ledger = new Ledger();
      let passed = false;
      try {
        const client = firehoseClient(server.awsUrl);
        const ok = await sendBatch(client, ledger, ledger.take(300));
        client.destroy();
        await server.kill();
        assert.ok(
          ok && ledger.acked.size === 300,
          'the batch of 300 records was acknowledged before the kill',
        );
        server = undefined;
        server = await startSluice({ dataDir, ports, timeoutMs: 30_000 });

        const drained = await drain(server, dataDir);
        const result = await checkExactlyOnce(server, dataDir, ledger);
        assert.equal(result.rows, 300, drained);
        passed = true;
      } catch (error) {
        console.log(`failure:\n${await diagnose(server, dataDir)}`);
        throw error;
      } finally {
        await server?.kill();
        if (passed) await removeDataDir(dataDir);
      }
    },
  );
});
