/**
 * `npm run bench`: Sluice's speed targets, measured against a baseline in the same run.
 *
 * Load always comes from a separate process (bench/load-generator.ts): PutRecordBatch of 500
 * records of about 80 bytes of JSON, over 16 keep-alive connections. Each Sluice phase runs on a
 * fresh `sluice up` with its own temporary data directory, so one phase's backlog cannot slow
 * the next:
 *
 *  1. baseline   the generator against a bare Node HTTP server that only parses the same bodies
 *                (JSON and base64), bench/baseline-server.ts: median of 3 x 10 s runs.
 *  2. ack        acknowledged (durable) ingest: the same load against Sluice, into an S3-only
 *                stream buffering 128 MB / 900 s uncompressed, so the lake work is mostly deferred
 *                and the figure is what the Firehose API and the log can take. Median of 3 x 10 s,
 *                and its ratio to the baseline. Phases 1 and 2 run alternately (see measureIngest).
 *  3. sustain    end to end for 60 s at 250,000 records/s offered: a Redshift stream into
 *                sensor.message (8 MB, interval 0, GZIP, COPY JSON 'auto' GZIP); count(*) is polled
 *                every 100 ms, and every 20 ms once the load stops, until the table holds every
 *                acknowledged record (at most 30 s).
 *  4. fresh      freshness at 50,000 records/s for 10 s on the same kind of stream (1 MB,
 *                interval 0); see measureFreshness for the method.
 *  5. s3         PutObject and GetObject throughput through the S3 API with @aws-sdk/client-s3,
 *                for 1 KiB, 1 MiB and 64 MiB objects, against Sluice, s3rver and the plain disk
 *                (write + fdatasync + MD5); medians of BENCH_RUNS runs (see bench/s3.ts).
 *  6. peak RSS   VmHWM of each Sluice process, read from /proc/<pid>/status before it stops.
 *  7. console    the demo dashboard over BENCH_CONSOLE_ROWS readings (10,000,000) in headless
 *                Chromium, in this process (bench/console.ts): open → all visuals drawn (median
 *                of 3), commit → update on the page (median of 5), bytes per refresh, and the
 *                warehouse work of one refresh with BENCH_CONSOLE_VIEWERS viewers (10) against one.
 *
 * Each 10 s run is preceded by a 2 s warm-up run against the same server that is not counted.
 * Prints a table of figures with their targets and writes the same as JSON to
 * bench/results/latest.json. Children are killed at the end, on error and on Ctrl-C, and the
 * whole run is bounded in time.
 *
 * Environment: BENCH_PHASES (comma list of baseline,ack,sustain,fresh,s3,console; default all),
 * BENCH_CONSOLE_ROWS (10000000), BENCH_CONSOLE_VIEWERS (10),
 * BENCH_S3_SCALE (1; multiplies the objects per S3 run), BENCH_S3_CLIENT (sdk | lean: a bare
 * node:http client instead of the AWS SDK, to see the servers past the SDK's own ceiling),
 * BENCH_RUNS (3), BENCH_SECONDS (10), BENCH_SUSTAIN_SECONDS (60), BENCH_SUSTAIN_RATE (250000;
 * 0 = as fast as acknowledged), BENCH_FRESH_SECONDS (10),
 * BENCH_FRESH_RATE (50000), BENCH_FRESH_POLL_MS (10, the shortest poll period),
 * BENCH_ACK_STREAM (s3 | redshift), BENCH_KEEP=1 keeps the data directories.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  CreateDeliveryStreamCommand,
  DescribeDeliveryStreamCommand,
  FirehoseClient,
  type CreateDeliveryStreamCommandInput,
} from '@aws-sdk/client-firehose';
import { diskTarget, leanS3Target, measureS3Targets, s3Sizes, s3Target, type S3Figure } from './s3.ts';
import { measureConsole, type ConsoleFigures } from './console.ts';

// The SDK's notice that later versions need Node 22 is not a bench finding.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const PHASES = new Set(
  (env.BENCH_PHASES ?? 'baseline,ack,sustain,fresh,s3,console').split(',').map((s) => s.trim()),
);
const S3_SCALE = Number(env.BENCH_S3_SCALE ?? '1');
const RUNS = intEnv('BENCH_RUNS', 3);
const RUN_SECONDS = intEnv('BENCH_SECONDS', 10);
const WARMUP_SECONDS = 2;
const SUSTAIN_SECONDS = intEnv('BENCH_SUSTAIN_SECONDS', 60);
const SUSTAIN_RATE = intEnv('BENCH_SUSTAIN_RATE', 250_000, true);
const FRESH_SECONDS = intEnv('BENCH_FRESH_SECONDS', 10);
const FRESH_RATE = intEnv('BENCH_FRESH_RATE', 50_000);
const FRESH_POLL_MS = intEnv('BENCH_FRESH_POLL_MS', 10);
const CONNECTIONS = 16;
const BATCH = 500;
const PASSWORD = 'Bench-Password-1';
const BUCKET = 'bench-bucket';
const ROLE = 'arn:aws:iam::000000000000:role/x';
const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const TABLE_DDL =
  'CREATE SCHEMA IF NOT EXISTS sensor; CREATE TABLE sensor.message (id BIGINT IDENTITY(1,1), ' +
  'guid VARCHAR(36) NOT NULL, ts BIGINT NOT NULL DISTKEY SORTKEY, temp NUMERIC(5,2) NOT NULL, ' +
  "created TIMESTAMP DEFAULT ('now'::text)::timestamp with time zone);";

/** Targets from the issue. */
const TARGETS = {
  ackRecordsPerSec: 500_000,
  ackRatio: 0.75,
  sustainRecordsPerSec: 250_000,
  drainMs: 2000,
  freshP50Ms: 100,
  freshP99Ms: 500,
  peakRssBytes: 1.5 * 1024 ** 3,
  /** Sluice / s3rver, objects per second, for 1 KiB objects (PUT and GET). */
  s3SmallVsS3rver: 3,
  /** Sluice / plain disk, MiB per second, for 64 MiB objects (PUT and GET). */
  s3LargeVsDisk: 0.5,
  /** Open the demo dashboard → every visual drawn. */
  consoleOpenMs: 1500,
  /** Commit → the update on the page. */
  consoleRefreshMs: 2000,
  /** Warehouse statements of one refresh, N viewers / 1 viewer (shared work: about 1, not N). */
  consoleViewersRatio: 1.5,
};

const children = new Set<ChildProcess>();
/** Data directories made by this run, removed at the end unless BENCH_KEEP=1. */
const dataDirs = new Set<string>();
const epochMs = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Processes

/** Kills every child still running (by its own pid) with SIGKILL. */
function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

/** Spawns a child that is tracked for cleanup, keeping the last 8 KB of its stderr. */
function launch(
  args: string[],
  extraEnv: Record<string, string> = {},
): { child: ChildProcess; stderrTail: () => string } {
  const childEnv: NodeJS.ProcessEnv = { ...env, ...extraEnv };
  // The bench runs Sluice without AWS keys, so any well-formed signature is accepted.
  delete childEnv.SLUICE_ACCESS_KEY_ID;
  delete childEnv.SLUICE_SECRET_ACCESS_KEY;
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-8192);
  });
  return { child, stderrTail: () => tail };
}

/** Resolves with the child's stdout when it exits 0; rejects with its stderr otherwise or on timeout. */
function finish(launched: ReturnType<typeof launch>, timeoutMs: number, what: string): Promise<string> {
  const { child, stderrTail } = launched;
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      reject(new Error(`${what} did not finish within ${timeoutMs / 1000} s.\n${stderrTail()}`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise(out);
      else reject(new Error(`${what} exited with ${code ?? signal}.\n${out.slice(-2000)}${stderrTail()}`));
    });
  });
}

/** Waits until a line of the child's stdout matches, or fails when it exits or time runs out. */
function waitForLine(
  launched: ReturnType<typeof launch>,
  pattern: RegExp,
  timeoutMs: number,
  what: string,
): Promise<string> {
  const { child, stderrTail } = launched;
  let out = '';
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`${what} did not print ${pattern} within ${timeoutMs / 1000} s.\n${out}${stderrTail()}`),
        ),
      timeoutMs,
    );
    const onData = (chunk: Buffer): void => {
      out += chunk.toString('utf8');
      const line = out.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        // Keep draining stdout so the child never blocks on a full pipe.
        child.stdout?.resume();
        resolvePromise(line);
      }
    };
    child.stdout?.on('data', onData);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code ?? signal} before it was ready.\n${out}${stderrTail()}`));
    });
  });
}

/** A free TCP port on loopback. */
function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}

/** Sends SIGTERM, waits up to `graceMs`, then SIGKILL. */
async function stop(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.pid !== undefined && child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Peak resident set size (VmHWM) of a process in bytes, from /proc. */
async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
  if (!match) throw new Error(`No VmHWM in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

// ---------------------------------------------------------------------------------------------
// Load generator

/** The generator's summary line. */
interface GeneratorResult {
  requests: number;
  records: number;
  failed: number;
  seconds: number;
  recordsPerSec: number;
  latencyMs: { p50: number; p99: number; max: number };
  endMs: number;
  errors: Record<string, number>;
}

/** Runs the load generator to the end and returns its summary. */
async function generate(
  url: string,
  stream: string,
  seconds: number,
  extra: string[] = [],
): Promise<GeneratorResult> {
  const launched = launch([
    '--import',
    'tsx',
    'bench/load-generator.ts',
    '--url',
    url,
    '--stream',
    stream,
    '--connections',
    String(CONNECTIONS),
    '--batch',
    String(BATCH),
    '--duration',
    String(seconds),
    ...extra,
  ]);
  const out = await finish(launched, (seconds + 90) * 1000, 'The load generator');
  const line = out.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as GeneratorResult;
}

// ---------------------------------------------------------------------------------------------
// Sluice

/** A running `sluice up` started by the bench. */
interface Sluice {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly dataDir: string;
  readonly awsUrl: string;
  readonly consoleUrl: string;
  readonly sqlPort: number;
  readonly firehose: FirehoseClient;
  readonly stderrTail: () => string;
}

/** Creates a data directory with the bench bucket and starts `sluice up` on free ports. */
async function startSluice(): Promise<Sluice> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
  dataDirs.add(dataDir);
  await finish(
    launch(['bin/sluice.mjs', 'lake', 'mb', `s3://${BUCKET}`], { SLUICE_DATA_DIR: dataDir }),
    60_000,
    '`sluice lake mb`',
  );
  const [awsPort, consolePort, sqlPort] = [await freePort(), await freePort(), await freePort()];
  const launched = launch(
    [
      'bin/sluice.mjs',
      'up',
      '--data-dir',
      dataDir,
      '--aws-port',
      String(awsPort),
      '--console-port',
      String(consolePort),
      '--sql-port',
      String(sqlPort),
    ],
    { SLUICE_PASSWORD: PASSWORD, SLUICE_LOG_LEVEL: env.SLUICE_LOG_LEVEL ?? 'warn' },
  );
  await waitForLine(launched, /^Sluice ready/, 90_000, '`sluice up`');
  const awsUrl = `http://127.0.0.1:${awsPort}`;
  return {
    child: launched.child,
    pid: launched.child.pid as number,
    dataDir,
    awsUrl,
    consoleUrl: `http://127.0.0.1:${consolePort}`,
    sqlPort,
    firehose: new FirehoseClient({ endpoint: awsUrl, region: 'us-east-1', credentials: CREDENTIALS }),
    stderrTail: launched.stderrTail,
  };
}

/** Reads the peak RSS, stops Sluice and removes its data directory. */
async function stopSluice(sluice: Sluice): Promise<number> {
  const rss = await peakRss(sluice.pid);
  sluice.firehose.destroy();
  await stop(sluice.child, 30_000);
  await removeDataDir(sluice.dataDir);
  return rss;
}

/** One statement's result from POST /api/sql. */
interface SqlResult {
  command: string;
  columns: unknown[];
  rows: unknown[][];
  rowCount: number;
}

/** Runs SQL over the console API with HTTP Basic authentication. */
async function sql(sluice: Sluice, text: string): Promise<SqlResult[]> {
  const response = await fetch(`${sluice.consoleUrl}/api/sql`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`awsuser:${PASSWORD}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ sql: text }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await response.json()) as { results?: SqlResult[]; error?: { message: string } };
  if (response.status !== 200)
    throw new Error(`SQL failed (HTTP ${response.status}): ${body.error?.message} — ${text}`);
  return body.results ?? [];
}

/** The first column of the first row of the last result, as a number. */
async function sqlNumber(sluice: Sluice, text: string): Promise<number> {
  const results = await sql(sluice, text);
  return Number(results.at(-1)?.rows[0]?.[0]);
}

/** Creates a delivery stream with the Firehose API and waits until it is ACTIVE. */
async function createStream(sluice: Sluice, input: CreateDeliveryStreamCommandInput): Promise<void> {
  await sluice.firehose.send(new CreateDeliveryStreamCommand(input));
  const until = Date.now() + 30_000;
  for (;;) {
    const described = await sluice.firehose.send(
      new DescribeDeliveryStreamCommand({ DeliveryStreamName: input.DeliveryStreamName }),
    );
    if (described.DeliveryStreamDescription?.DeliveryStreamStatus === 'ACTIVE') return;
    if (Date.now() > until) throw new Error(`Stream ${input.DeliveryStreamName} is not ACTIVE after 30 s.`);
    await sleep(100);
  }
}

/** The demo-like Redshift stream into sensor.message. */
function redshiftStream(sluice: Sluice, name: string, sizeInMBs: number): CreateDeliveryStreamCommandInput {
  return {
    DeliveryStreamName: name,
    DeliveryStreamType: 'DirectPut',
    RedshiftDestinationConfiguration: {
      RoleARN: ROLE,
      ClusterJDBCURL: `jdbc:redshift://127.0.0.1:${sluice.sqlPort}/dev`,
      CopyCommand: {
        DataTableName: 'sensor.message',
        DataTableColumns: 'guid, ts, temp',
        CopyOptions: "JSON 'auto' GZIP",
      },
      Username: 'awsuser',
      Password: PASSWORD,
      S3Configuration: {
        RoleARN: ROLE,
        BucketARN: `arn:aws:s3:::${BUCKET}`,
        Prefix: 'message/',
        BufferingHints: { SizeInMBs: sizeInMBs, IntervalInSeconds: 0 },
        CompressionFormat: 'GZIP',
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Phases

/**
 * Phases 1 and 2: the baseline server and Sluice are both started, warmed up, and then measured
 * in alternation (baseline run 1, Sluice run 1, baseline run 2, ...), so a busy spell on a shared
 * machine weighs on both sides of the ratio alike. The Sluice stream is S3-only with a 128 MB /
 * 900 s uncompressed buffer, so little lake work competes with the acknowledgements; with
 * BENCH_ACK_STREAM=redshift it is the demo-like Redshift stream (8 MB, interval 0) instead.
 */
async function measureIngest(): Promise<Pick<Results, 'baseline' | 'ack'>> {
  const sides: { label: string; url: string; stream: string; runs: GeneratorResult[] }[] = [];
  let baseline: ReturnType<typeof launch> | undefined;
  let sluice: Sluice | undefined;
  try {
    if (PHASES.has('baseline')) {
      say('Baseline: bare Node HTTP server parsing the same bodies (JSON and base64)');
      baseline = launch(['--import', 'tsx', 'bench/baseline-server.ts', '--port', '0']);
      const line = await waitForLine(baseline, /^listening \d+/, 30_000, 'The baseline server');
      sides.push({
        label: 'baseline',
        url: `http://127.0.0.1:${line.split(' ')[1]}`,
        stream: 'bench-baseline',
        runs: [],
      });
    }
    if (PHASES.has('ack')) {
      const redshift = env.BENCH_ACK_STREAM === 'redshift';
      say(
        redshift
          ? 'Acknowledged ingest: Sluice, Redshift stream into sensor.message (8 MB, interval 0, GZIP)'
          : 'Acknowledged ingest: Sluice, S3-only stream buffering 128 MB / 900 s, uncompressed',
      );
      sluice = await startSluice();
      if (redshift) {
        await sql(sluice, TABLE_DDL);
        await createStream(sluice, redshiftStream(sluice, 'bench-ack', 8));
      } else {
        await createStream(sluice, {
          DeliveryStreamName: 'bench-ack',
          DeliveryStreamType: 'DirectPut',
          ExtendedS3DestinationConfiguration: {
            RoleARN: ROLE,
            BucketARN: `arn:aws:s3:::${BUCKET}`,
            Prefix: 'ack/',
            BufferingHints: { SizeInMBs: 128, IntervalInSeconds: 900 },
            CompressionFormat: 'UNCOMPRESSED',
          },
        });
      }
      sides.push({ label: 'sluice', url: sluice.awsUrl, stream: 'bench-ack', runs: [] });
    }
    for (const side of sides) await generate(side.url, side.stream, WARMUP_SECONDS);
    for (let i = 0; i < RUNS; i++) {
      for (const side of sides) {
        const result = await generate(side.url, side.stream, RUN_SECONDS);
        say(
          `  ${side.label.padEnd(8)} run ${i + 1}/${RUNS}: ${fmtInt(result.recordsPerSec)} records/s acknowledged, ` +
            `${fmtInt(result.failed)} failed, latency p50 ${result.latencyMs.p50} ms p99 ${result.latencyMs.p99} ms`,
        );
        if (Object.keys(result.errors).length > 0) {
          say(`    errors: ${JSON.stringify(result.errors).slice(0, 400)}`);
        }
        side.runs.push(result);
      }
    }
    const out: Pick<Results, 'baseline' | 'ack'> = {};
    for (const side of sides) {
      const summary = { runs: side.runs, median: median(side.runs.map((r) => r.recordsPerSec)) };
      if (side.label === 'baseline') out.baseline = summary;
      else if (sluice) out.ack = { ...summary, peakRssBytes: await stopSluice(sluice) };
    }
    return out;
  } catch (error) {
    throw sluice ? withServerLog(error, sluice) : error;
  } finally {
    if (baseline) await stop(baseline.child, 5000);
  }
}

/** What the sustained end-to-end phase measured. */
interface SustainResult {
  seconds: number;
  accepted: number;
  acceptedPerSec: number;
  failed: number;
  deliveredAtLoadEnd: number;
  deliveredPerSec: number;
  backlogAtLoadEnd: number;
  drainMs: number | null;
  /** Rows per second that reached the table between the end of the load and the last poll. */
  drainRowsPerSec: number;
  finalRows: number;
  timeline: { t: number; rows: number }[];
  latencyMs: GeneratorResult['latencyMs'];
  errors: Record<string, number>;
  peakRssBytes: number;
}

/**
 * Phase 3: load at the target rate (BENCH_SUSTAIN_RATE, 0 for as fast as Sluice acknowledges)
 * into sensor.message through the lake; then how long the backlog takes to drain. Offering the
 * target rate rather than all that ingest takes asks the question of the issue: does the table
 * keep up with 250,000 records/s; unpaced, any ingest faster than delivery leaves a backlog.
 */
async function measureSustain(): Promise<SustainResult> {
  const offered = SUSTAIN_RATE > 0 ? `${fmtInt(SUSTAIN_RATE)} records/s` : 'full load';
  say(
    `Sustained end to end: ${offered} for ${SUSTAIN_SECONDS} s into sensor.message (Redshift stream, 8 MB, interval 0, GZIP)`,
  );
  const sluice = await startSluice();
  try {
    await sql(sluice, TABLE_DDL);
    await createStream(sluice, redshiftStream(sluice, 'bench-e2e', 8));
    const samples: { t: number; rows: number }[] = [];
    let loadDone = false;
    let target = Infinity;
    const poller = (async () => {
      let pollDeadline = Infinity;
      for (;;) {
        const before = epochMs();
        const rows = await sqlNumber(sluice, 'SELECT count(*) FROM sensor.message');
        const t = epochMs();
        samples.push({ t, rows });
        if (loadDone) {
          if (pollDeadline === Infinity) pollDeadline = t + 30_000;
          if (rows >= target || t > pollDeadline) return;
        }
        await sleep(Math.max(0, (loadDone ? 20 : 100) - (epochMs() - before)));
      }
    })();
    // A failed poll surfaces when the poller is awaited; until then it must not crash the bench.
    poller.catch(() => undefined);
    const startMs = epochMs();
    let gen: GeneratorResult;
    try {
      gen = await generate(
        sluice.awsUrl,
        'bench-e2e',
        SUSTAIN_SECONDS,
        SUSTAIN_RATE > 0 ? ['--rate', String(SUSTAIN_RATE)] : [],
      );
    } catch (error) {
      target = 0;
      loadDone = true;
      await poller.catch(() => undefined);
      throw error;
    }
    loadDone = true;
    target = gen.records;
    await poller;
    const atEnd = [...samples].reverse().find((s) => s.t <= gen.endMs) ?? { t: startMs, rows: 0 };
    const drained = samples.find((s) => s.rows >= gen.records);
    const last = samples.at(-1) ?? { t: gen.endMs, rows: 0 };
    const finalRows = last.rows;
    const result: SustainResult = {
      seconds: gen.seconds,
      accepted: gen.records,
      acceptedPerSec: gen.recordsPerSec,
      failed: gen.failed,
      deliveredAtLoadEnd: atEnd.rows,
      deliveredPerSec: Math.round(atEnd.rows / gen.seconds),
      backlogAtLoadEnd: gen.records - atEnd.rows,
      drainMs: drained === undefined ? null : Math.max(0, Math.round(drained.t - gen.endMs)),
      drainRowsPerSec:
        last.t > gen.endMs ? Math.round(((last.rows - atEnd.rows) * 1000) / (last.t - gen.endMs)) : 0,
      finalRows,
      // One sample a second is enough to show whether the table kept up.
      timeline: samples
        .filter(
          (s, i) =>
            i === 0 ||
            Math.floor((s.t - startMs) / 1000) !==
              Math.floor(((samples[i - 1] as typeof s).t - startMs) / 1000),
        )
        .map((s) => ({ t: Math.round(s.t - startMs), rows: s.rows })),
      latencyMs: gen.latencyMs,
      errors: gen.errors,
      peakRssBytes: 0,
    };
    say(
      `  accepted ${fmtInt(result.acceptedPerSec)} records/s (${fmtInt(gen.records)} in ${gen.seconds} s, ${fmtInt(gen.failed)} failed), ` +
        `table ${fmtInt(result.deliveredPerSec)} records/s, backlog at load end ${fmtInt(result.backlogAtLoadEnd)}, ` +
        `drained ${result.drainMs === null ? `NOT within 30 s (${fmtInt(finalRows)} rows; ${fmtInt(result.drainRowsPerSec)} rows/s after the load)` : `${result.drainMs} ms after the load stopped`}`,
    );
    if (Object.keys(gen.errors).length > 0) say(`    errors: ${JSON.stringify(gen.errors).slice(0, 400)}`);
    result.peakRssBytes = await stopSluice(sluice);
    return result;
  } catch (error) {
    throw withServerLog(error, sluice);
  }
}

/** What the freshness phase measured. */
interface FreshResult {
  rate: number;
  achievedPerSec: number;
  records: number;
  visible: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  pollPeriodMs: number;
  pollQueryMs: number;
  /**
   * Cross-check: the same percentiles of `created` (the load time the table records) minus
   * the ack time. Rows become visible when the load commits, so these are at most the above.
   */
  createdMinusAck: { p50Ms: number; p99Ms: number };
  peakRssBytes: number;
}

/**
 * Phase 4: freshness, from PutRecordBatch returning to the row being visible in SQL.
 *
 * Method: the generator runs in --mark mode, so all records of request number k carry
 * ts = tsBase + k, and it logs for each request the time its response arrived (ack time) and
 * how many records were acknowledged. Meanwhile the bench polls, back to back and at most every
 * 10 ms, `SELECT ts, count(*) FROM sensor.message WHERE ts >= <lowest incomplete mark> GROUP BY ts`.
 * When a mark's count rises from c to c' at a poll, c' - c of its records are taken as visible at
 * the time that poll's answer arrived; each record's freshness is that time minus its request's
 * ack time. The figure therefore errs high by up to one poll period plus one query time (both
 * reported), never low. Records never seen within 15 s after the load count as infinitely late.
 * Both processes read the same wall clock (performance.timeOrigin + performance.now()).
 */
async function measureFreshness(): Promise<FreshResult> {
  say(
    `Freshness: ${fmtInt(FRESH_RATE)} records/s for ${FRESH_SECONDS} s into sensor.message (Redshift stream, 1 MB, interval 0, GZIP)`,
  );
  const sluice = await startSluice();
  try {
    await sql(sluice, TABLE_DDL);
    await createStream(sluice, redshiftStream(sluice, 'bench-fresh', 1));
    const tsBase = Math.floor(Date.now() / 1000);
    const logFile = join(sluice.dataDir, 'fresh-log.json');
    // Visibility observations per mark: the poll time and the count seen then.
    const seen = new Map<number, { t: number; count: number }[]>();
    const counts = new Map<number, number>();
    let low = tsBase;
    let polls = 0;
    let queryMsTotal = 0;
    let expected: Map<number, number> | undefined;
    let pollDeadline = Infinity;
    const firstPoll = epochMs();
    let lastPoll = firstPoll;
    const poller = (async () => {
      for (;;) {
        const before = epochMs();
        const results = await sql(
          sluice,
          `SELECT ts, count(*) FROM sensor.message WHERE ts >= ${low} GROUP BY ts`,
        );
        const t = epochMs();
        lastPoll = t;
        polls++;
        queryMsTotal += t - before;
        for (const row of results.at(-1)?.rows ?? []) {
          const ts = Number(row[0]);
          const count = Number(row[1]);
          if (count > (counts.get(ts) ?? 0)) {
            counts.set(ts, count);
            const list = seen.get(ts) ?? [];
            list.push({ t, count });
            seen.set(ts, list);
          }
        }
        // Marks below `low` are complete (every record of a request is BATCH records at most).
        while ((counts.get(low) ?? 0) >= (expected?.get(low) ?? BATCH)) low++;
        if (expected !== undefined) {
          const complete = [...expected].every(([ts, acked]) => (counts.get(ts) ?? 0) >= acked);
          if (complete || t > pollDeadline) return;
        }
        await sleep(Math.max(0, FRESH_POLL_MS - (epochMs() - before)));
      }
    })();
    poller.catch(() => undefined);
    let gen: GeneratorResult;
    try {
      gen = await generate(sluice.awsUrl, 'bench-fresh', FRESH_SECONDS, [
        '--rate',
        String(FRESH_RATE),
        '--mark',
        '--ts-base',
        String(tsBase),
        '--log',
        logFile,
      ]);
    } catch (error) {
      expected = new Map();
      pollDeadline = 0;
      await poller.catch(() => undefined);
      throw error;
    }
    const log = JSON.parse(await readFile(logFile, 'utf8')) as { ts: number; ackMs: number; acked: number }[];
    pollDeadline = epochMs() + 15_000;
    expected = new Map(log.filter((e) => e.acked > 0).map((e) => [e.ts, e.acked]));
    await poller;

    const freshness: number[] = [];
    for (const entry of log) {
      let counted = 0;
      for (const { t, count } of seen.get(entry.ts) ?? []) {
        const n = Math.min(count, entry.acked) - counted;
        for (let i = 0; i < n; i++) freshness.push(t - entry.ackMs);
        counted += Math.max(0, n);
      }
      for (let i = counted; i < entry.acked; i++) freshness.push(Infinity);
    }
    const q = percentiles(freshness);

    const ackOf = new Map(log.map((e) => [e.ts, e]));
    const loaded = await sql(
      sluice,
      `SELECT ts, extract(epoch from created), count(*) FROM sensor.message WHERE ts >= ${tsBase} GROUP BY ts, created`,
    );
    const byCreated: number[] = [];
    for (const row of loaded.at(-1)?.rows ?? []) {
      const entry = ackOf.get(Number(row[0]));
      if (entry === undefined) continue;
      for (let i = 0; i < Number(row[2]); i++) byCreated.push(Number(row[1]) * 1000 - entry.ackMs);
    }
    const qc = percentiles(byCreated);
    const result: FreshResult = {
      rate: FRESH_RATE,
      achievedPerSec: gen.recordsPerSec,
      records: gen.records,
      visible: freshness.filter(Number.isFinite).length,
      p50Ms: q(0.5),
      p90Ms: q(0.9),
      p99Ms: q(0.99),
      maxMs: q(1),
      pollPeriodMs: round((lastPoll - firstPoll) / Math.max(1, polls)),
      pollQueryMs: round(queryMsTotal / Math.max(1, polls)),
      createdMinusAck: { p50Ms: qc(0.5), p99Ms: qc(0.99) },
      peakRssBytes: 0,
    };
    say(
      `  ${fmtInt(result.records)} records acknowledged (${fmtInt(result.achievedPerSec)}/s), ${fmtInt(result.visible)} seen in SQL; ` +
        `freshness p50 ${result.p50Ms} ms, p90 ${result.p90Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms ` +
        `(poll every ${result.pollPeriodMs} ms, query ${result.pollQueryMs} ms); ` +
        `load time (created) minus ack p50 ${result.createdMinusAck.p50Ms} ms, p99 ${result.createdMinusAck.p99Ms} ms`,
    );
    result.peakRssBytes = await stopSluice(sluice);
    return result;
  } catch (error) {
    throw withServerLog(error, sluice);
  }
}

/** What the S3 phase measured. */
interface S3Result {
  figures: S3Figure[];
  peakRssBytes: number;
}

/**
 * Phase 5: the S3 API against s3rver and the plain disk, all three on the same disk (the
 * system temp folder) and driven from this process (see bench/s3.ts).
 */
async function measureS3(): Promise<S3Result> {
  say('S3: PutObject / GetObject through the S3 API (AWS SDK), against s3rver and the plain disk');
  const work = await mkdtemp(join(tmpdir(), 'sluice-bench-s3-'));
  dataDirs.add(work);
  let sluice: Sluice | undefined;
  let s3rver: ReturnType<typeof launch> | undefined;
  let nullServer: ReturnType<typeof launch> | undefined;
  try {
    sluice = await startSluice();
    await mkdir(join(work, 's3rver'));
    s3rver = launch(['--import', 'tsx', 'bench/s3rver-server.ts', '--dir', join(work, 's3rver')]);
    const line = await waitForLine(s3rver, /^listening \d+/, 30_000, 'The s3rver server');
    nullServer = launch(['--import', 'tsx', 'bench/null-s3-server.ts']);
    const nullLine = await waitForLine(nullServer, /^listening \d+/, 30_000, 'The null S3 server');
    const target = env.BENCH_S3_CLIENT === 'lean' ? leanS3Target : s3Target;
    const targets = [
      await target('sluice', sluice.awsUrl, 'bench-s3'),
      await target('s3rver', `http://127.0.0.1:${line.split(' ')[1]}`, 'bench-s3'),
      await diskTarget(join(work, 'disk')),
      await target('client', `http://127.0.0.1:${nullLine.split(' ')[1]}`, 'bench-s3'),
    ];
    const figures = await measureS3Targets(targets, s3Sizes(S3_SCALE), RUNS, say);
    return { figures, peakRssBytes: await stopSluice(sluice) };
  } catch (error) {
    throw sluice ? withServerLog(error, sluice) : error;
  } finally {
    if (s3rver) await stop(s3rver.child, 5000);
    if (nullServer) await stop(nullServer.child, 5000);
    await removeDataDir(work);
  }
}

// ---------------------------------------------------------------------------------------------
// Report

/** One line of the printed table. */
interface Row {
  metric: string;
  measured: string;
  target: string;
  pass: boolean | null;
}

function report(results: Results): Row[] {
  const rows: Row[] = [];
  const { baseline, ack, sustain, fresh } = results;
  if (baseline) {
    rows.push({
      metric: `Baseline: bare Node HTTP parse (median of ${RUNS} x ${RUN_SECONDS} s)`,
      measured: `${fmtInt(baseline.median)} rec/s`,
      target: '-',
      pass: null,
    });
  }
  if (ack) {
    rows.push({
      metric: `Acknowledged ingest, durable (median of ${RUNS} x ${RUN_SECONDS} s)`,
      measured: `${fmtInt(ack.median)} rec/s`,
      target: `>= ${fmtInt(TARGETS.ackRecordsPerSec)} rec/s`,
      pass: ack.median >= TARGETS.ackRecordsPerSec,
    });
    if (baseline) {
      const ratio = ack.median / baseline.median;
      rows.push({
        metric: 'Acknowledged ingest / baseline',
        measured: ratio.toFixed(2),
        target: `>= ${TARGETS.ackRatio}`,
        pass: ratio >= TARGETS.ackRatio,
      });
    }
  }
  if (sustain) {
    // A paced run can only approach the offered rate (the last in-flight requests stretch the
    // window), so it passes at 99% of it; keeping up is then judged by the backlog's drain.
    const needed =
      SUSTAIN_RATE > 0
        ? 0.99 * Math.max(SUSTAIN_RATE, TARGETS.sustainRecordsPerSec)
        : TARGETS.sustainRecordsPerSec;
    rows.push({
      metric: `Sustained end to end, accepted (${SUSTAIN_RATE > 0 ? `${fmtInt(SUSTAIN_RATE)} offered, ` : ''}${sustain.seconds} s)`,
      measured: `${fmtInt(sustain.acceptedPerSec)} rec/s`,
      target: `>= ${fmtInt(needed)} rec/s`,
      pass: sustain.acceptedPerSec >= needed,
    });
    rows.push({
      metric: 'Sustained end to end, rows in sensor.message during load',
      measured: `${fmtInt(sustain.deliveredPerSec)} rec/s`,
      target: '-',
      pass: null,
    });
    rows.push({
      metric: `Backlog drained after load stops (${fmtInt(sustain.backlogAtLoadEnd)} records)`,
      measured: sustain.drainMs === null ? 'not drained in 30 s' : `${sustain.drainMs} ms`,
      target: `<= ${TARGETS.drainMs} ms`,
      pass: sustain.drainMs !== null && sustain.drainMs <= TARGETS.drainMs,
    });
  }
  if (fresh) {
    const at = `${fmtInt(fresh.achievedPerSec)} rec/s`;
    rows.push({
      metric: `Freshness p50 (ack -> visible in SQL, ${at})`,
      measured: `${fresh.p50Ms} ms`,
      target: `<= ${TARGETS.freshP50Ms} ms`,
      pass: fresh.p50Ms <= TARGETS.freshP50Ms,
    });
    rows.push({
      metric: `Freshness p99 (poll every ${fresh.pollPeriodMs} ms)`,
      measured: `${fresh.p99Ms} ms`,
      target: `<= ${TARGETS.freshP99Ms} ms`,
      pass: fresh.p99Ms <= TARGETS.freshP99Ms,
    });
  }
  if (results.s3) rows.push(...s3Rows(results.s3.figures));
  if (results.console) rows.push(...consoleRows(results.console));
  const rss = [
    ack?.peakRssBytes,
    sustain?.peakRssBytes,
    fresh?.peakRssBytes,
    results.s3?.peakRssBytes,
  ].filter((x): x is number => x !== undefined && x > 0);
  if (rss.length > 0) {
    const peak = Math.max(...rss);
    rows.push({
      metric: 'Peak RSS of the Sluice process (VmHWM)',
      measured: `${(peak / 1024 ** 2).toFixed(0)} MiB`,
      target: '<= 1.5 GiB',
      pass: peak <= TARGETS.peakRssBytes,
    });
  }
  return rows;
}

/** Rows of the S3 phase: each figure, then the ratios the targets are about. */
function s3Rows(figures: S3Figure[]): Row[] {
  const rows: Row[] = [];
  const find = (target: string, size: string, op: string): S3Figure | undefined =>
    figures.find((f) => f.target === target && f.size === size && f.op === op);
  for (const size of s3Sizes(S3_SCALE)) {
    for (const op of ['PUT', 'GET'] as const) {
      for (const target of ['sluice', 's3rver', 'disk', 'client'] as const) {
        const f = find(target, size.label, op);
        if (f === undefined) continue;
        const name = { sluice: 'Sluice', s3rver: 's3rver', disk: 'plain disk', client: 'client ceiling' }[
          target
        ];
        rows.push({
          metric: `S3 ${op} ${size.label}, ${name} (median of ${f.runs.length})`,
          measured: `${f.objectsPerSec.toFixed(1)} obj/s, ${f.mibPerSec.toFixed(1)} MiB/s`,
          target: '-',
          pass: null,
        });
      }
      const sluice = find('sluice', size.label, op);
      const s3rver = find('s3rver', size.label, op);
      const disk = find('disk', size.label, op);
      if (sluice && s3rver) {
        const ratio = sluice.objectsPerSec / s3rver.objectsPerSec;
        const small = size.bytes <= 1024;
        rows.push({
          metric: `S3 ${op} ${size.label}: Sluice / s3rver`,
          measured: ratio.toFixed(2),
          target: small ? `>= ${TARGETS.s3SmallVsS3rver}` : '-',
          pass: small ? ratio >= TARGETS.s3SmallVsS3rver : null,
        });
      }
      if (sluice && disk) {
        const ratio = sluice.mibPerSec / disk.mibPerSec;
        const large = size.bytes >= 64 * 1024 * 1024;
        rows.push({
          metric: `S3 ${op} ${size.label}: Sluice / plain disk`,
          measured: ratio.toFixed(2),
          target: large ? `>= ${TARGETS.s3LargeVsDisk}` : '-',
          pass: large ? ratio >= TARGETS.s3LargeVsDisk : null,
        });
      }
    }
  }
  return rows;
}

/** Rows of the console phase. */
function consoleRows(c: ConsoleFigures): Row[] {
  const ratio = c.workManyViewers.statements / Math.max(1, c.workOneViewer.statements);
  return [
    {
      metric: `Console: open demo dashboard -> all visuals drawn (${fmtInt(c.rows)} readings, median of ${c.openRuns.length})`,
      measured: `${c.openMs} ms`,
      target: `<= ${fmtInt(TARGETS.consoleOpenMs)} ms`,
      pass: c.openMs <= TARGETS.consoleOpenMs,
    },
    {
      metric: `Console: commit -> update on the page (median of ${c.refreshRuns.length})`,
      measured: `${c.refreshMsMedian} ms`,
      target: `<= ${fmtInt(TARGETS.consoleRefreshMs)} ms`,
      pass: c.refreshMsMedian <= TARGETS.consoleRefreshMs,
    },
    {
      metric: 'Console: bytes of events per dashboard refresh',
      measured: `${fmtInt(c.bytesPerRefresh)} B`,
      target: '-',
      pass: null,
    },
    {
      metric: 'Console: warehouse work per refresh, 1 viewer',
      measured: `${c.workOneViewer.statements} stmts, ${fmtInt(c.workOneViewer.ms)} ms`,
      target: '-',
      pass: null,
    },
    {
      metric: `Console: warehouse work per refresh, ${c.viewers} viewers (different users)`,
      measured: `${c.workManyViewers.statements} stmts, ${fmtInt(c.workManyViewers.ms)} ms`,
      target: '-',
      pass: null,
    },
    {
      metric: `Console: warehouse statements, ${c.viewers} viewers / 1 viewer`,
      measured: `${ratio.toFixed(2)}x`,
      target: `<= ${TARGETS.consoleViewersRatio}x`,
      pass: ratio <= TARGETS.consoleViewersRatio,
    },
  ];
}

function printTable(rows: Row[]): void {
  const header: Row = { metric: 'Metric', measured: 'Median / measured', target: 'Target', pass: null };
  const cells = (r: Row): string[] => [
    r.metric,
    r.measured,
    r.target,
    r === header ? 'Result' : r.pass === null ? '' : r.pass ? 'PASS' : 'FAIL',
  ];
  const all = [header, ...rows].map(cells);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...all.map((c) => (c[i] as string).length)));
  const line = (c: string[]): string =>
    c
      .map((s, i) => (i === 1 ? s.padStart(widths[i] as number) : s.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  say('');
  say(line(all[0] as string[]));
  say(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of all.slice(1)) say(line(c));
}

/** Everything measured in this run. */
interface Results {
  baseline?: { runs: GeneratorResult[]; median: number };
  ack?: { runs: GeneratorResult[]; median: number; peakRssBytes: number };
  sustain?: SustainResult;
  fresh?: FreshResult;
  s3?: S3Result;
  console?: ConsoleFigures;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** A quantile function over the values (sorted here); NaN when there are none. */
function percentiles(values: number[]): (p: number) => number {
  values.sort((a, b) => a - b);
  return (p) => round(values[Math.min(values.length - 1, Math.floor(p * values.length))] ?? NaN);
}

function round(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 10) / 10 : x;
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function intEnv(name: string, fallback: number, zeroAllowed = false): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < (zeroAllowed ? 0 : 1))
    throw new Error(`${name} must be a positive integer, not ${value}`);
  return n;
}

/** Removes a data directory of this run, unless BENCH_KEEP=1. */
async function removeDataDir(dir: string): Promise<void> {
  if (env.BENCH_KEEP === '1') {
    say(`  kept ${dir}`);
    return;
  }
  await rm(dir, { recursive: true, force: true });
  dataDirs.delete(dir);
}

/** Adds the tail of the server's stderr to an error from a phase. */
function withServerLog(error: unknown, sluice: Sluice): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`${message}\n--- sluice stderr (tail) ---\n${sluice.stderrTail().slice(-3000)}`);
}

// ---------------------------------------------------------------------------------------------
// Main

const budgetMs =
  ((WARMUP_SECONDS + RUN_SECONDS * RUNS + 30 * (RUNS + 1)) * 2 +
    SUSTAIN_SECONDS +
    FRESH_SECONDS +
    3 * 180 +
    (PHASES.has('s3') ? 120 + 120 * RUNS * Math.max(1, S3_SCALE) : 0) +
    (PHASES.has('console') ? 300 : 0)) *
  1000;
const watchdog = setTimeout(() => {
  say(`Bench exceeded its time budget of ${Math.round(budgetMs / 1000)} s; stopping.`);
  killAll();
  process.exit(1);
}, budgetMs);
watchdog.unref();
process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});
process.on('exit', killAll);

const results: Results = {};
const failures: string[] = [];
say(
  `Sluice bench on ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}`,
);
say(
  `Load: PutRecordBatch of ${BATCH} records (~80 B JSON each), ${CONNECTIONS} keep-alive connections, separate process\n`,
);
const phases: [string, () => Promise<void>][] = [
  ['ingest', async () => void Object.assign(results, await measureIngest())],
  ['sustain', async () => void (results.sustain = await measureSustain())],
  ['fresh', async () => void (results.fresh = await measureFreshness())],
  ['s3', async () => void (results.s3 = await measureS3())],
  [
    'console',
    async () => {
      say('Console: the demo dashboard in headless Chromium (bench/console.ts)');
      results.console = await measureConsole();
    },
  ],
];
for (const [name, run] of phases) {
  if (name === 'ingest' ? !PHASES.has('baseline') && !PHASES.has('ack') : !PHASES.has(name)) continue;
  try {
    await run();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    failures.push(`${name}: ${message}`);
    say(`  Phase ${name} failed: ${message}`);
    killAll();
  }
}

for (const dir of [...dataDirs]) await removeDataDir(dir);
const rows = report(results);
printTable(rows);
const outDir = join(ROOT, 'bench', 'results');
await mkdir(outDir, { recursive: true });
await writeFile(
  join(outDir, 'latest.json'),
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: { cores: cpus().length, memoryBytes: totalmem(), node: process.version },
      load: {
        batch: BATCH,
        connections: CONNECTIONS,
        runSeconds: RUN_SECONDS,
        runs: RUNS,
        warmupSeconds: WARMUP_SECONDS,
      },
      targets: TARGETS,
      table: rows,
      results,
      failures,
    },
    null,
    2,
  )}\n`,
);
say(`\nWrote bench/results/latest.json${failures.length > 0 ? ` (${failures.length} phase(s) failed)` : ''}`);
clearTimeout(watchdog);
killAll();
process.exitCode = failures.length > 0 ? 1 : 0;
