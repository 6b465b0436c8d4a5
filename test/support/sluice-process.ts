/**
 * Starts the built `sluice` command as a child process on free ports with its own data
 * directory, for integration and end-to-end tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Path of the `sluice` command. */
export const SLUICE_BIN = fileURLToPath(new URL('../../bin/sluice.mjs', import.meta.url));

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A running child `sluice`. */
export interface SluiceProcess {
  readonly child: ChildProcess;
  readonly dataDir: string;
  readonly awsPort: number;
  readonly sqlPort: number;
  readonly consolePort: number;
  readonly awsUrl: string;
  readonly consoleUrl: string;
  readonly password: string;
  /** Everything the child printed on stdout so far. */
  stdout(): string;
  /** Everything the child printed on stderr so far. */
  stderr(): string;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  /** Runs SQL through the console API; throws with the server's error. */
  sql(
    sql: string,
  ): Promise<{ command: string; columns: { name: string }[]; rows: unknown[][]; rowCount: number }[]>;
}

/** Options for starting a child. */
export interface StartOptions {
  /** Reuse a data directory (restart); default: a new temp dir. */
  readonly dataDir?: string;
  /** Reuse ports (restart). */
  readonly ports?: { aws: number; sql: number; console: number };
  /** `up` (default) or `demo`, plus extra arguments. */
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** How long to wait for `Sluice ready` (default 60 s). */
  readonly timeoutMs?: number;
}

export const TEST_PASSWORD = 'Test-Password-1';

/** Starts `sluice up` and waits for its readiness line. */
export async function startSluice(options: StartOptions = {}): Promise<SluiceProcess> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'sluice-it-')));
  const ports = options.ports ?? { aws: await freePort(), sql: await freePort(), console: await freePort() };
  const args = [
    SLUICE_BIN,
    ...(options.args ?? ['up']),
    '--data-dir',
    dataDir,
    '--aws-port',
    String(ports.aws),
    '--sql-port',
    String(ports.sql),
    '--console-port',
    String(ports.console),
  ];
  const password = options.env?.SLUICE_PASSWORD ?? TEST_PASSWORD;
  const child = spawn(process.execPath, args, {
    env: { ...process.env, SLUICE_PASSWORD: password, SLUICE_LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`sluice did not become ready in time.\nstdout:\n${out}\nstderr:\n${err}`)),
      options.timeoutMs ?? 60_000,
    );
    const check = (): void => {
      if (/^Sluice ready/m.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`sluice exited with ${code} before ready.\nstdout:\n${out}\nstderr:\n${err}`));
    });
  });
  const consoleUrl = `http://127.0.0.1:${ports.console}`;
  const auth = `Basic ${Buffer.from(`awsuser:${password}`).toString('base64')}`;
  return {
    child,
    dataDir,
    awsPort: ports.aws,
    sqlPort: ports.sql,
    consolePort: ports.console,
    awsUrl: `http://127.0.0.1:${ports.aws}`,
    consoleUrl,
    password,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    async sql(sql) {
      const response = await fetch(`${consoleUrl}/api/sql`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ sql }),
      });
      const body = (await response.json()) as {
        results: never[];
        error?: { message: string; sqlstate: string };
      };
      if (body.error) throw Object.assign(new Error(body.error.message), { sqlstate: body.error.sqlstate });
      return body.results;
    },
  };
}

/** Removes a test data directory. */
export async function removeDataDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Polls until `check` returns a truthy value or the timeout passes. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
  stepMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
