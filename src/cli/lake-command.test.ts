import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Command } from 'commander';
import { createLocalObjectStore, type ObjectStore } from '../lake/index.ts';
import { registerLakeCommand } from './lake-command.ts';

/** What one `sluice lake …` run printed. */
interface Run {
  readonly stdout: string;
  readonly stdoutBytes: Buffer;
  readonly stderr: string;
  readonly exitCode: number;
}

describe('sluice lake', () => {
  let dir: string;
  let store: ObjectStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-lake-cli-'));
    store = createLocalObjectStore({ root: join(dir, 'lake'), fsync: false });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs `sluice lake <args>` against the temp lake. */
  async function lake(args: string[], stdin?: string): Promise<Run> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let exitCode = 0;
    const program = new Command().exitOverride();
    registerLakeCommand(program, async () => store, {
      stdout: { write: (c: string | Uint8Array) => out.push(Buffer.from(c)) },
      stderr: { write: (c: string | Uint8Array) => err.push(Buffer.from(c)) },
      ...(stdin !== undefined ? { stdin: Readable.from([Buffer.from(stdin)]) } : {}),
      setExitCode: (code) => {
        exitCode = code;
      },
    });
    await program.parseAsync(['lake', ...args], { from: 'user' });
    const stdoutBytes = Buffer.concat(out);
    return { stdout: stdoutBytes.toString(), stdoutBytes, stderr: Buffer.concat(err).toString(), exitCode };
  }

  test('mb makes a bucket and ls with no argument lists it', async () => {
    const made = await lake(['mb', 's3://cli-data']);
    assert.equal(made.stdout, 'make_bucket: cli-data\n');
    const listed = await lake(['ls']);
    assert.match(listed.stdout, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d cli-data\n$/m);
  });

  test('cp uploads a file, ls shows PRE lines and objects, cat prints it back', async () => {
    const file = join(dir, 'sensor.csv');
    await writeFile(file, 'id,guid\n1,abc\n');
    const up = await lake(['cp', file, 's3://cli-data/sensor/']);
    assert.equal(up.stdout, `upload: ${file} to s3://cli-data/sensor/sensor.csv\n`);
    await store.putObject('cli-data', 'top.txt', Buffer.from('hello'));

    const top = await lake(['ls', 's3://cli-data']);
    assert.deepEqual(top.stdout.split('\n').filter(Boolean), [
      '                           PRE sensor/',
      expect(top.stdout, /^\S+ \S+ +5 top\.txt$/m),
    ]);
    const inside = await lake(['ls', 's3://cli-data/sensor/']);
    assert.match(inside.stdout, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +14 sensor\.csv\n$/);
    const all = await lake(['ls', 's3://cli-data', '--recursive']);
    assert.deepEqual(
      all.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/ +/).slice(2).join(' ')),
      ['14 sensor/sensor.csv', '5 top.txt'],
    );
    assert.equal((await lake(['cat', 's3://cli-data/sensor/sensor.csv'])).stdout, 'id,guid\n1,abc\n');
    assert.equal((await store.headObject('cli-data', 'sensor/sensor.csv'))?.contentType, 'text/csv');
  });

  test('cat unzips .gz objects', async () => {
    await store.putObject(
      'cli-data',
      'message/2026/01/01/00/batch.gz',
      gzipSync('{"guid":"g","ts":1,"temp":90}'),
    );
    const run = await lake(['cat', 's3://cli-data/message/2026/01/01/00/batch.gz']);
    assert.equal(run.stdout, '{"guid":"g","ts":1,"temp":90}');
  });

  test('cp downloads to a file, a folder and standard output, and copies within the lake', async () => {
    await store.putObject('cli-data', 'dl/a.bin', Buffer.from([0, 1, 2, 255]));
    const target = join(dir, 'out.bin');
    const file = await lake(['cp', 's3://cli-data/dl/a.bin', target]);
    assert.equal(file.stdout, `download: s3://cli-data/dl/a.bin to ${target}\n`);
    assert.deepEqual(await readFile(target), Buffer.from([0, 1, 2, 255]));

    await mkdir(join(dir, 'folder'));
    await lake(['cp', 's3://cli-data/dl/a.bin', join(dir, 'folder')]);
    assert.deepEqual(await readFile(join(dir, 'folder', 'a.bin')), Buffer.from([0, 1, 2, 255]));

    const piped = await lake(['cp', 's3://cli-data/dl/a.bin', '-']);
    assert.deepEqual(piped.stdoutBytes, Buffer.from([0, 1, 2, 255]));

    const copied = await lake(['cp', 's3://cli-data/dl/a.bin', 's3://cli-data/copy/']);
    assert.equal(copied.stdout, 'copy: s3://cli-data/dl/a.bin to s3://cli-data/copy/a.bin\n');
    assert.deepEqual(await store.getObject('cli-data', 'copy/a.bin'), Buffer.from([0, 1, 2, 255]));
  });

  test('cp from standard input writes the object', async () => {
    const run = await lake(['cp', '-', 's3://cli-data/stdin.txt'], 'from stdin');
    assert.equal(run.stdout, 'upload: - to s3://cli-data/stdin.txt\n');
    assert.equal((await store.getObject('cli-data', 'stdin.txt')).toString(), 'from stdin');
  });

  test('cp --recursive uploads a folder and downloads a prefix', async () => {
    const src = join(dir, 'tree');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'one.txt'), '1');
    await writeFile(join(src, 'sub', 'two.txt'), '22');
    const up = await lake(['cp', src, 's3://cli-data/tree', '--recursive']);
    assert.equal(up.exitCode, 0);
    assert.equal((await store.getObject('cli-data', 'tree/sub/two.txt')).toString(), '22');

    const back = join(dir, 'back');
    const down = await lake(['cp', 's3://cli-data/tree/', back, '--recursive']);
    assert.equal(down.stdout.split('\n').filter(Boolean).length, 2);
    assert.equal(await readFile(join(back, 'one.txt'), 'utf8'), '1');
    assert.equal(await readFile(join(back, 'sub', 'two.txt'), 'utf8'), '22');

    const copy = await lake(['cp', 's3://cli-data/tree', 's3://cli-data/tree2', '-r']);
    assert.equal(copy.exitCode, 0);
    assert.equal((await store.getObject('cli-data', 'tree2/one.txt')).toString(), '1');
  });

  test('rm deletes an object, and --recursive everything under a prefix', async () => {
    const one = await lake(['rm', 's3://cli-data/tree2/one.txt']);
    assert.equal(one.stdout, 'delete: s3://cli-data/tree2/one.txt\n');
    assert.equal(await store.headObject('cli-data', 'tree2/one.txt'), undefined);
    const many = await lake(['rm', 's3://cli-data/tree', '--recursive']);
    assert.deepEqual(many.stdout.split('\n').filter(Boolean), [
      'delete: s3://cli-data/tree/one.txt',
      'delete: s3://cli-data/tree/sub/two.txt',
    ]);
    assert.equal(
      await store.headObject('cli-data', 'tree2/sub/two.txt').then((o) => o?.key),
      'tree2/sub/two.txt',
    );
  });

  test('rb refuses a bucket with objects unless --force', async () => {
    await lake(['mb', 's3://cli-scratch']);
    await store.putObject('cli-scratch', 'x', Buffer.from('x'));
    const refused = await lake(['rb', 's3://cli-scratch']);
    assert.equal(refused.exitCode, 1);
    assert.match(refused.stderr, /^sluice lake: BucketNotEmpty: /);
    const forced = await lake(['rb', 's3://cli-scratch', '--force']);
    assert.equal(forced.stdout, 'delete: s3://cli-scratch/x\nremove_bucket: cli-scratch\n');
    assert.equal(await store.bucketExists('cli-scratch'), false);
  });

  test('errors print "sluice lake: <message>" and set exit code 1', async () => {
    const missing = await lake(['cat', 's3://cli-data/no/such/key']);
    assert.equal(missing.exitCode, 1);
    assert.match(missing.stderr, /^sluice lake: NoSuchKey: .*no\/such\/key\n$/);
    const noBucket = await lake(['ls', 's3://no-such-bucket']);
    assert.match(noBucket.stderr, /^sluice lake: NoSuchBucket: /);
    const badUrl = await lake(['ls', 'http://example.com/x']);
    assert.match(badUrl.stderr, /^sluice lake: InvalidArgument: Not an s3:\/\/ URL/);
    const badName = await lake(['mb', 's3://Bad_Name']);
    assert.match(badName.stderr, /^sluice lake: InvalidBucketName: /);
    const localOnly = await lake(['cp', 'a', 'b']);
    assert.equal(localOnly.stderr, 'sluice lake: cp needs an s3:// source or destination\n');
  });
});

/** Returns the line of `text` matching `pattern`, so deepEqual can check the lines around it. */
function expect(text: string, pattern: RegExp): string {
  const line = text.split('\n').find((l) => pattern.test(l));
  assert.ok(line !== undefined, `no line matches ${pattern}`);
  return line;
}
