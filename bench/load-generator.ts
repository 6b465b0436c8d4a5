/**
 * The benchmark's load generator: a process of its own that sends Firehose PutRecordBatch
 * requests of `--batch` records (about 80 bytes of sensor JSON each) over `--connections`
 * keep-alive connections for `--duration` seconds, then prints one JSON summary line.
 *
 *   node --import tsx bench/load-generator.ts --url http://127.0.0.1:4566 --stream s \
 *     [--connections 16] [--duration 10] [--batch 500] [--rate R] [--mark --log FILE]
 *
 * Cost per request is kept small so the generator measures the server, not itself: request
 * bodies are built once into a pool with their SHA-256 precomputed, each request is signed
 * with SigV4 by hand on node:crypto (a few HMACs over short strings), and the response is not
 * JSON-parsed: only its top-level `FailedPutCount` is read.
 *
 * `--mark` is the freshness mode: every request gets its own body whose records all carry
 * `ts` = `--ts-base` + the request's sequence number, so the bench can tell, by polling
 * `SELECT ts, count(*) ... GROUP BY ts`, when each request's records became visible in SQL.
 * With `--log FILE` the generator writes, per request, that `ts`, the time its response
 * arrived and how many of its records were acknowledged.
 *
 * @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:4566' },
    stream: { type: 'string', default: 'bench-stream' },
    connections: { type: 'string', default: '16' },
    duration: { type: 'string', default: '10' },
    batch: { type: 'string', default: '500' },
    rate: { type: 'string' },
    pool: { type: 'string', default: '64' },
    mark: { type: 'boolean', default: false },
    'ts-base': { type: 'string' },
    log: { type: 'string' },
    region: { type: 'string', default: 'us-east-1' },
  },
});

const url = new URL(args.url);
const connections = positiveInt(args.connections, 'connections');
const durationMs = Number(args.duration) * 1000;
const batch = positiveInt(args.batch, 'batch');
const rate = args.rate === undefined ? undefined : Number(args.rate);
const tsBase = args['ts-base'] === undefined ? Math.floor(Date.now() / 1000) : Number(args['ts-base']);
if (!(durationMs > 0)) fail('--duration must be a positive number of seconds');
if (rate !== undefined && !(rate > 0)) fail('--rate must be a positive number of records per second');

const host = url.host;
const path = url.pathname === '' ? '/' : url.pathname;
const accessKeyId = process.env.AWS_ACCESS_KEY_ID ?? 'AKIDEXAMPLE';
const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY ?? 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const TARGET = 'Firehose_20150804.PutRecordBatch';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
const SIGNED_HEADERS = 'content-type;host;x-amz-date;x-amz-target';

/** A request body ready to send: its bytes, its SHA-256 and how many records it holds. */
interface Body {
  readonly bytes: Buffer;
  readonly sha256: string;
  readonly records: number;
}

/** One reading as the IoT scenario sends it, about 80 bytes: {"guid":"<uuid>","ts":<epoch>,"temp":71.53}. */
function reading(ts: number): string {
  const temp = (65 + Math.random() * 34.99).toFixed(2);
  return `{"guid":"${randomUUID()}","ts":${ts},"temp":${temp}}`;
}

/** A PutRecordBatch body of `batch` readings, each base64-encoded as the Firehose API wants. */
function buildBody(tsOf: (i: number) => number): Body {
  const records: string[] = [];
  for (let i = 0; i < batch; i++) {
    records.push(`{"Data":"${Buffer.from(reading(tsOf(i))).toString('base64')}"}`);
  }
  const bytes = Buffer.from(
    `{"DeliveryStreamName":${JSON.stringify(args.stream)},"Records":[${records.join(',')}]}`,
  );
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex'), records: batch };
}

const now = Math.floor(Date.now() / 1000);
const pool: Body[] = args.mark
  ? []
  : Array.from({ length: positiveInt(args.pool, 'pool') }, () => buildBody((i) => now - (i % 60)));

// SigV4 pieces that change at most once a second (the date) are cached; the signature itself
// is computed per request because it covers the body hash.
let cachedSecond = -1;
let amzDate = '';
let scope = '';
let signingKey: Buffer = Buffer.alloc(0);

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** The SigV4 headers of one request with the given body hash. */
function sign(bodySha256: string): { date: string; authorization: string } {
  const second = Math.floor(Date.now() / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    amzDate = new Date(second * 1000)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    const day = amzDate.slice(0, 8);
    scope = `${day}/${args.region}/firehose/aws4_request`;
    signingKey = hmac(
      hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), args.region), 'firehose'),
      'aws4_request',
    );
  }
  const canonical =
    `POST\n${path}\n\ncontent-type:${CONTENT_TYPE}\nhost:${host}\nx-amz-date:${amzDate}\n` +
    `x-amz-target:${TARGET}\n\n${SIGNED_HEADERS}\n${bodySha256}`;
  const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
  const signature = createHmac('sha256', signingKey).update(toSign).digest('hex');
  return {
    date: amzDate,
    authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${SIGNED_HEADERS}, Signature=${signature}`,
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: connections });
const FAILED_PUT_COUNT = Buffer.from('"FailedPutCount":');

/** What one request came back with. */
interface Outcome {
  readonly status: number;
  /** Records the server acknowledged: the batch size less FailedPutCount, 0 on any error. */
  readonly acked: number;
  readonly error?: string;
}

/** Sends one PutRecordBatch and resolves when the whole response has arrived. */
function send(body: Body): Promise<Outcome> {
  const { date, authorization } = sign(body.sha256);
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path,
        method: 'POST',
        headers: {
          host,
          'content-type': CONTENT_TYPE,
          'content-length': body.bytes.length,
          'x-amz-date': date,
          'x-amz-target': TARGET,
          authorization,
        },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            resolve({ status, acked: 0, error: Buffer.concat(chunks).toString('utf8').slice(0, 300) });
            return;
          }
          resolve({ status, acked: body.records - failedPutCount(Buffer.concat(chunks)) });
        });
        res.on('error', (error) => resolve({ status: res.statusCode ?? 0, acked: 0, error: error.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out after 30 s')));
    req.on('error', (error) => resolve({ status: 0, acked: 0, error: error.message }));
    req.end(body.bytes);
  });
}

/**
 * The top-level FailedPutCount of a PutRecordBatch response, read without parsing the
 * RequestResponses array (its entries hold only RecordId / ErrorCode / ErrorMessage strings,
 * which cannot contain this key unescaped). A response without the key counts as all failed.
 */
function failedPutCount(response: Buffer): number {
  const at = response.indexOf(FAILED_PUT_COUNT);
  if (at < 0) return batch;
  let i = at + FAILED_PUT_COUNT.length;
  while (response[i] === 0x20) i++;
  let n = 0;
  let digits = 0;
  for (let c = response[i]; c !== undefined && c >= 0x30 && c <= 0x39; c = response[++i]) {
    n = n * 10 + (c - 0x30);
    digits++;
  }
  return digits === 0 ? batch : n;
}

/** One request's entry in the --log file (freshness mode). */
interface LogEntry {
  /** The `ts` value every record of the request carries. */
  readonly ts: number;
  /** Epoch ms (fractional) when the request was sent and when its response arrived. */
  readonly sentMs: number;
  readonly ackMs: number;
  readonly acked: number;
}

const latencies: number[] = [];
const log: LogEntry[] = [];
const errors = new Map<string, number>();
let requests = 0;
let records = 0;
let failed = 0;
let next = 0;

const epochMs = (): number => performance.timeOrigin + performance.now();
const start = performance.now();
const deadline = start + durationMs;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One connection's loop: take the next request number, wait for its slot when paced, send, count. */
async function connection(): Promise<void> {
  for (;;) {
    const seq = next++;
    if (rate !== undefined) {
      const due = start + (seq * batch * 1000) / rate;
      if (due >= deadline) return;
      if (due > performance.now()) await sleep(due - performance.now());
    }
    if (performance.now() >= deadline) return;
    const ts = tsBase + seq;
    const body = args.mark ? buildBody(() => ts) : (pool[seq % pool.length] as Body);
    const sentMs = epochMs();
    const t0 = performance.now();
    const outcome = await send(body);
    const t1 = performance.now();
    requests++;
    records += outcome.acked;
    failed += body.records - outcome.acked;
    latencies.push(t1 - t0);
    if (args.log !== undefined) log.push({ ts, sentMs, ackMs: epochMs(), acked: outcome.acked });
    if (outcome.error !== undefined) {
      const key = `${outcome.status} ${outcome.error}`;
      errors.set(key, (errors.get(key) ?? 0) + 1);
      // A refused or broken connection fails at once; back off so a dead server is not spun on.
      if (outcome.status === 0) await sleep(50);
    }
  }
}

await Promise.all(Array.from({ length: connections }, connection));
const seconds = (performance.now() - start) / 1000;
agent.destroy();

latencies.sort((a, b) => a - b);
const pct = (p: number): number =>
  latencies.length === 0
    ? 0
    : round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] as number);
if (args.log !== undefined) writeFileSync(args.log, JSON.stringify(log));
process.stdout.write(
  `${JSON.stringify({
    requests,
    records,
    failed,
    seconds: round(seconds),
    recordsPerSec: Math.round(records / seconds),
    latencyMs: { p50: pct(0.5), p99: pct(0.99), max: pct(1) },
    endMs: Math.round(epochMs()),
    errors: Object.fromEntries(errors),
  })}\n`,
);

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

function positiveInt(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) fail(`--${name} must be a positive integer`);
  return n;
}

function fail(message: string): never {
  process.stderr.write(`load-generator: ${message}\n`);
  process.exit(2);
}
