/**
 * The `sluice` command.
 *
 *   sluice up                 the server
 *   sluice demo               the server plus the reference scenario
 *   sluice simulate           the IoT sensor simulator (Firehose API via the AWS SDK)
 *   sluice put-test-message   one test reading
 *   sluice sql "<sql>"        SQL over the console API
 *   sluice lake ...           the local lake: mb, rb, ls, cp, rm, cat
 *   sluice redeliver          loads failed manifests again, exactly once
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { SingleBar, Presets } from 'cli-progress';
import { parseDuration, putTestMessage, readSensors, runSimulator } from '../simulator/index.ts';
import type { Logger } from '../util/logger.ts';
import { registerLakeCommand } from './lake-command.ts';
import { credentialsPath, startServer, type RunningServer } from './server.ts';
import { openLake, resolveSettings, type ServerFlags } from './settings.ts';
import { DEMO, SEED_DIR, setUpScenario } from './demo.ts';
import { printResults } from './sql-output.ts';

const program = new Command();
program
  .name('sluice')
  .description('Sluice: a streaming analytics warehouse that speaks Firehose, S3 and Redshift.')
  .showHelpAfterError();

/** Adds the server flags shared by `up` and `demo`. */
function serverOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'data directory (env SLUICE_DATA_DIR)', undefined)
    .option('--config <file>', 'config file (JSON)')
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option('--aws-port <port>', 'Firehose API port (default 4566)')
    .option('--sql-port <port>', 'PostgreSQL wire port (default 5439)')
    .option('--console-port <port>', 'console and HTTP API port (default 8080)');
}

/** The server's logger: JSON lines on stderr (SLUICE_LOG_LEVEL, default info). */
function serverLogger(defaultLevel = 'info'): Logger {
  return pino(
    { level: process.env.SLUICE_LOG_LEVEL ?? defaultLevel },
    pino.destination(2),
  ) as unknown as Logger;
}

/** Starts the server, prints its endpoints and the readiness line, and stops on SIGINT/SIGTERM. */
async function runServer(
  flags: ServerFlags,
  afterStart?: (server: RunningServer, signal: AbortSignal) => Promise<void>,
  logLevel = 'info',
) {
  const settings = await resolveSettings(flags);
  const logger = serverLogger(logLevel);
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  const server = await startServer(settings, logger, say);
  const stop = new AbortController();
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      say(`Received ${signal} again; exiting now. Undelivered records stay in the log for the next start.`);
      process.exit(130);
    }
    stopping = true;
    stop.abort();
    say(`Received ${signal}; no longer accepting records, delivering what is buffered...`);
    server.close().then(
      () => {
        say('Sluice stopped.');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'Shutdown failed.');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  say(`Data directory   ${resolve(settings.dataDir)}`);
  say(`Firehose and S3  ${server.urls.aws}   (aws --endpoint-url ${server.urls.aws} firehose ... | s3 ...)`);
  say(
    `Console          ${server.urls.console}   (sign in as ${server.settings.user}; also /health, /metrics, /api)`,
  );
  say(
    `Warehouse        ${server.urls.sql}   (psql -h ${settings.host} -p ${settings.sqlPort} -U ${settings.user} dev, or npx sluice sql "SELECT ...")`,
  );
  if (afterStart) await afterStart(server, stop.signal);
  say(`Sluice ready: ${server.urls.aws} ${server.urls.console}`);
}

serverOptions(program.command('up').description('start the server')).action(async (flags: ServerFlags) => {
  await runServer(flags);
});

serverOptions(program.command('demo').description('start the server with the reference IoT scenario running'))
  .option('--reference-timing', "the tutorial's timing: 60 s buffer and one reading per sensor a minute")
  .option('--interval <duration>', 'simulator interval per sensor (default 1s)')
  .option('--cycles <n>', 'sine cycles per sensor (200 readings each)', '2')
  .action(async (flags: ServerFlags & { referenceTiming?: boolean; interval?: string; cycles: string }) => {
    const reference = flags.referenceTiming === true;
    await runServer(
      flags,
      async (server, signal) => {
        const say = (line: string): void => void process.stdout.write(`${line}\n`);
        await setUpScenario(server, { intervalSeconds: reference ? 60 : 0, say });
        const intervalMs = flags.interval ? parseDuration(flags.interval) : reference ? 60_000 : 1000;
        const sensors = await readSensors(join(SEED_DIR, 'sensor.csv'));
        const common = {
          endpoint: server.urls.aws,
          streamName: DEMO.stream,
          ...(server.settings.accessKeys[0] ? { credentials: server.settings.accessKeys[0] } : {}),
        };
        await putTestMessage(common);
        say(
          `Simulator: ${sensors.length} sensors, one reading each every ${intervalMs} ms, ${flags.cycles} cycles`,
        );
        void runSimulator({
          ...common,
          sensors,
          intervalMs,
          cycles: Number(flags.cycles),
          staggerMs: reference ? 10_000 : Math.min(200, intervalMs / sensors.length),
          signal,
        }).then(
          (result) => say(`Simulator finished: ${JSON.stringify(result)}`),
          (error: unknown) => {
            if (!signal.aborted) say(`Simulator stopped: ${(error as Error).message}`);
          },
        );
      },
      'warn',
    );
  });

/** Options shared by the simulator commands. */
interface SimulateFlags {
  endpoint: string;
  region: string;
  stream: string;
  interval: string;
  cycles: string;
  stagger: string;
  rate?: string;
  duration?: string;
  count?: string;
  sensors: string;
  progress: boolean;
}

program
  .command('simulate')
  .description('send sensor readings to a delivery stream with the Firehose API')
  .option('--endpoint <url>', 'Firehose endpoint; omit for real AWS', 'http://127.0.0.1:4566')
  .option('--region <region>', 'AWS region', process.env.AWS_REGION ?? 'us-east-1')
  .option('--stream <name>', 'delivery stream', DEMO.stream)
  .option('--interval <duration>', 'time between readings of one sensor (60s, 500ms, ...)', '60s')
  .option('--cycles <n>', 'sine cycles per sensor (200 readings each)', '2')
  .option('--stagger <duration>', 'delay between sensor starts', '0s')
  .option('--rate <records/s>', 'load mode: send PutRecordBatch at this overall rate')
  .option('--duration <duration>', 'load mode: how long to send')
  .option('--count <n>', 'load mode: how many records to send')
  .option('--sensors <file>', 'sensor CSV file', join(SEED_DIR, 'sensor.csv'))
  .option('--no-progress', 'do not show a progress bar')
  .action(async (flags: SimulateFlags) => {
    const sensors = await readSensors(flags.sensors);
    const bar =
      flags.progress && process.stderr.isTTY
        ? new SingleBar({ stream: process.stderr }, Presets.shades_classic)
        : undefined;
    let started = false;
    const controller = new AbortController();
    process.on('SIGINT', () => controller.abort());
    const result = await runSimulator({
      endpoint: flags.endpoint === '' ? undefined : flags.endpoint,
      region: flags.region,
      streamName: flags.stream,
      sensors,
      intervalMs: parseDuration(flags.interval),
      cycles: Number(flags.cycles),
      staggerMs: parseDuration(flags.stagger),
      ...(flags.rate ? { rate: Number(flags.rate) } : {}),
      ...(flags.duration ? { durationMs: parseDuration(flags.duration, 's') } : {}),
      ...(flags.count ? { count: Number(flags.count) } : {}),
      signal: controller.signal,
      onProgress: (sent: number, total: number) => {
        if (!bar) return;
        if (!started) {
          bar.start(total, 0);
          started = true;
        }
        bar.setTotal(total);
        bar.update(sent);
      },
    });
    bar?.stop();
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (result.failed > 0) process.exitCode = 1;
  });

program
  .command('put-test-message')
  .description('send the single test reading (guid test-guid-test-guid-test-guid, temp 999.99)')
  .option('--endpoint <url>', 'Firehose endpoint; omit for real AWS', 'http://127.0.0.1:4566')
  .option('--region <region>', 'AWS region', process.env.AWS_REGION ?? 'us-east-1')
  .option('--stream <name>', 'delivery stream', DEMO.stream)
  .action(async (flags: { endpoint: string; region: string; stream: string }) => {
    const result = await putTestMessage({
      endpoint: flags.endpoint,
      region: flags.region,
      streamName: flags.stream,
    });
    process.stdout.write(`${JSON.stringify(result)}\n`);
  });

/** Flags of the commands that call the console API. */
interface ApiFlags {
  url: string;
  user: string;
  password?: string;
  dataDir: string;
}

/** Adds the flags that say how to reach and sign in to a running server. */
function apiOptions(command: Command): Command {
  return command
    .option('--url <url>', 'console API of the server', process.env.SLUICE_URL ?? 'http://127.0.0.1:8080')
    .option('--user <user>', 'warehouse user (env SLUICE_USER)', process.env.SLUICE_USER ?? 'awsuser')
    .option('--password <password>', 'password (env SLUICE_PASSWORD; else read from the data directory)')
    .option(
      '--data-dir <dir>',
      'data directory holding the generated password',
      process.env.SLUICE_DATA_DIR ?? './.sluice',
    );
}

/** The password for API calls: flag, env, or the one stored in the data directory. */
async function apiPassword(flags: ApiFlags): Promise<string> {
  const given = flags.password ?? process.env.SLUICE_PASSWORD;
  if (given) return given;
  try {
    const stored = JSON.parse(await readFile(credentialsPath(flags.dataDir), 'utf8')) as { password: string };
    return stored.password;
  } catch {
    throw new Error(
      `No password: set SLUICE_PASSWORD or --password, or run in the folder whose ${flags.dataDir} holds credentials.json.`,
    );
  }
}

/** Calls the console API with HTTP Basic authentication. */
async function callApi(
  flags: ApiFlags,
  path: string,
  body: unknown,
): Promise<{ status: number; json: unknown }> {
  const auth = Buffer.from(`${flags.user}:${await apiPassword(flags)}`).toString('base64');
  let response: Response;
  try {
    response = await fetch(new URL(path, flags.url), {
      method: 'POST',
      headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (error) {
    throw new Error(
      `Cannot reach Sluice at ${flags.url}: ${((error as Error).cause as Error)?.message ?? (error as Error).message}`,
    );
  }
  return { status: response.status, json: await response.json() };
}

apiOptions(
  program
    .command('sql')
    .description('run SQL (one statement or several) against the warehouse')
    .argument('[sql]', 'the SQL; omit to read it from --file or standard input')
    .option('-f, --file <file>', 'read the SQL from a file')
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'),
    ),
).action(
  async (sql: string | undefined, flags: ApiFlags & { file?: string; format: 'table' | 'json' | 'csv' }) => {
    let text = sql;
    if (text === undefined && flags.file) text = await readFile(flags.file, 'utf8');
    if (text === undefined) {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      text = Buffer.concat(chunks).toString('utf8');
    }
    const { status, json } = await callApi(flags, '/api/sql', { sql: text });
    const reply = json as {
      results?: unknown[];
      error?: { message: string; sqlstate?: string; position?: number };
    };
    printResults((reply.results ?? []) as Parameters<typeof printResults>[0], flags.format, (s) =>
      process.stdout.write(s),
    );
    if (status !== 200) {
      const e = reply.error;
      process.stderr.write(
        `ERROR:  ${e?.message ?? `HTTP ${status}`}${e?.sqlstate ? ` (SQLSTATE ${e.sqlstate})` : ''}\n`,
      );
      process.exitCode = 1;
    }
  },
);

apiOptions(
  program
    .command('redeliver')
    .description('load the failed manifests of a stream (errors/manifests/) again, exactly once')
    .argument('[manifest]', 's3:// URL of one failed manifest; default: all of the stream')
    .option('--stream <name>', 'delivery stream', DEMO.stream),
).action(async (manifest: string | undefined, flags: ApiFlags & { stream: string }) => {
  const { status, json } = await callApi(
    flags,
    `/api/streams/${encodeURIComponent(flags.stream)}/redeliver`,
    {
      ...(manifest ? { manifest } : {}),
    },
  );
  const reply = json as {
    results?: { manifest: string; outcome: string; rows?: number; error?: string }[];
    error?: { message: string };
  };
  if (status !== 200) {
    process.stderr.write(`sluice redeliver: ${reply.error?.message ?? `HTTP ${status}`}\n`);
    process.exitCode = 1;
    return;
  }
  const results = reply.results ?? [];
  if (results.length === 0) process.stdout.write(`No failed manifests for ${flags.stream}.\n`);
  for (const r of results) {
    process.stdout.write(
      `${r.outcome}\t${r.rows ?? 0} rows\t${r.manifest}${r.error ? `\t${r.error}` : ''}\n`,
    );
    if (r.outcome === 'failed') process.exitCode = 1;
  }
});

registerLakeCommand(program, async () =>
  openLake(await resolveSettings({ config: process.env.SLUICE_CONFIG })),
);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`sluice: ${(error as Error).message}\n`);
  process.exit(1);
});
