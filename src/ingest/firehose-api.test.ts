import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  CreateDeliveryStreamCommand,
  DeleteDeliveryStreamCommand,
  DescribeDeliveryStreamCommand,
  FirehoseClient,
  ListDeliveryStreamsCommand,
  ListTagsForDeliveryStreamCommand,
  PutRecordBatchCommand,
  PutRecordCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  TagDeliveryStreamCommand,
  UntagDeliveryStreamCommand,
  UpdateDestinationCommand,
} from '@aws-sdk/client-firehose';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { DeliveryStreamError } from '../delivery/index.ts';
import type {
  CreateDeliveryStreamInput,
  DeliveryStreams,
  PutResult,
  Tag,
  UpdateDestinationInput,
} from '../delivery/index.ts';
import type { Logger } from '../util/logger.ts';
import { createFirehoseApi } from './index.ts';
import type { FirehoseApiOptions } from './index.ts';

const KEY = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

/** A DeliveryStreams that remembers what it was asked and answers from memory. */
class FakeStreams implements DeliveryStreams {
  readonly calls: { method: string; args: unknown[] }[] = [];
  readonly puts: { name: string; records: string[] }[] = [];
  readonly names = new Set(['s1', 'redshift-delivery-stream']);
  readonly tags = new Map<string, Tag[]>();
  /** When set, put() throws it. */
  putError: Error | undefined;
  nextOffset = 0;

  private need(name: string): void {
    if (!this.names.has(name))
      throw new DeliveryStreamError('ResourceNotFound', `stream ${name} does not exist`);
  }

  async create(input: CreateDeliveryStreamInput): Promise<string> {
    this.calls.push({ method: 'create', args: [input] });
    if (this.names.has(input.DeliveryStreamName)) {
      throw new DeliveryStreamError(
        'ResourceInUse',
        `Firehose ${input.DeliveryStreamName} under account 000000000000 already exists.`,
      );
    }
    this.names.add(input.DeliveryStreamName);
    return `arn:aws:firehose:us-east-1:000000000000:deliverystream/${input.DeliveryStreamName}`;
  }

  describe(name: string): Record<string, unknown> {
    this.calls.push({ method: 'describe', args: [name] });
    this.need(name);
    return {
      DeliveryStreamName: name,
      DeliveryStreamARN: `arn:aws:firehose:us-east-1:000000000000:deliverystream/${name}`,
      DeliveryStreamStatus: 'ACTIVE',
      DeliveryStreamType: 'DirectPut',
      VersionId: '1',
      CreateTimestamp: new Date(1517595920596),
      Destinations: [
        {
          DestinationId: 'destinationId-000000000001',
          ExtendedS3DestinationDescription: {
            BucketARN: 'arn:aws:s3:::b',
            RoleARN: 'arn:aws:iam::000000000000:role/r',
            BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 },
            CompressionFormat: 'GZIP',
          },
        },
      ],
      HasMoreDestinations: false,
    };
  }

  list(options: { limit?: number; exclusiveStartName?: string; type?: string }): {
    DeliveryStreamNames: string[];
    HasMoreDeliveryStreams: boolean;
  } {
    this.calls.push({ method: 'list', args: [options] });
    const all = [...this.names]
      .sort()
      .filter((n) => options.exclusiveStartName === undefined || n > options.exclusiveStartName);
    const limit = options.limit ?? 10;
    return { DeliveryStreamNames: all.slice(0, limit), HasMoreDeliveryStreams: all.length > limit };
  }

  async delete(name: string): Promise<void> {
    this.calls.push({ method: 'delete', args: [name] });
    this.need(name);
    this.names.delete(name);
  }

  async updateDestination(input: UpdateDestinationInput): Promise<void> {
    this.calls.push({ method: 'updateDestination', args: [input] });
    this.need(input.DeliveryStreamName);
    if (input.CurrentDeliveryStreamVersionId !== '1') {
      throw new DeliveryStreamError('ConcurrentModification', 'Cannot update: the version id changed.');
    }
  }

  async tag(name: string, tags: readonly Tag[]): Promise<void> {
    this.calls.push({ method: 'tag', args: [name, tags] });
    this.need(name);
    this.tags.set(name, [...(this.tags.get(name) ?? []), ...tags]);
  }

  async untag(name: string, keys: readonly string[]): Promise<void> {
    this.calls.push({ method: 'untag', args: [name, keys] });
    this.need(name);
    this.tags.set(
      name,
      (this.tags.get(name) ?? []).filter((t) => !keys.includes(t.Key)),
    );
  }

  listTags(
    name: string,
    options: { exclusiveStartTagKey?: string; limit?: number },
  ): { Tags: Tag[]; HasMoreTags: boolean } {
    this.calls.push({ method: 'listTags', args: [name, options] });
    this.need(name);
    return { Tags: this.tags.get(name) ?? [], HasMoreTags: false };
  }

  async put(name: string, records: readonly Buffer[]): Promise<PutResult> {
    if (this.putError !== undefined) throw this.putError;
    this.need(name);
    this.puts.push({ name, records: records.map((r) => r.toString('latin1')) });
    const firstOffset = this.nextOffset;
    this.nextOffset += records.length;
    return { firstOffset, recordIdPrefix: 'rid-' };
  }
}

/** A logger that keeps the error lines. */
function recordingLogger(): Logger & { errors: { obj: object; msg?: string }[] } {
  const errors: { obj: object; msg?: string }[] = [];
  const logger = {
    errors,
    debug() {},
    info() {},
    warn() {},
    error(obj: object, msg?: string) {
      errors.push({ obj, ...(msg === undefined ? {} : { msg }) });
    },
    child() {
      return logger;
    },
  };
  return logger;
}

interface Harness {
  readonly streams: FakeStreams;
  readonly logger: ReturnType<typeof recordingLogger>;
  readonly port: number;
  readonly client: FirehoseClient;
  close(): Promise<void>;
}

async function startServer(options: Partial<FirehoseApiOptions> = {}): Promise<Harness> {
  const streams = new FakeStreams();
  const logger = recordingLogger();
  const api = createFirehoseApi({ streams, logger, ...options });
  const server: Server = createServer((req, res) => api.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const client = new FirehoseClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: KEY,
    maxAttempts: 1,
  });
  return {
    streams,
    logger,
    port,
    client,
    async close() {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface RawAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

/** Sends a request signed as the SDK signs it, with fetch, so bodies can be anything. */
async function call(
  port: number,
  target: string,
  body: string | Buffer,
  opts: { key?: { accessKeyId: string; secretAccessKey: string }; date?: Date; unsigned?: boolean } = {},
): Promise<RawAnswer> {
  const headers: Record<string, string> = {
    host: `127.0.0.1:${port}`,
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-target': target.includes('.') ? target : `Firehose_20150804.${target}`,
  };
  let sent = headers;
  if (opts.unsigned !== true) {
    const signer = new SignatureV4({
      credentials: opts.key ?? KEY,
      region: 'us-east-1',
      service: 'firehose',
      sha256: Sha256,
      applyChecksum: false,
    });
    const request = new HttpRequest({
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port,
      path: '/',
      headers,
      body,
    });
    const signed = await signer.sign(request, opts.date === undefined ? {} : { signingDate: opts.date });
    sent = { ...signed.headers };
  }
  delete sent['host'];
  const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: sent, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text) as Record<string, unknown> };
}

function assertError(answer: RawAnswer, status: number, type: string, message?: RegExp): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.equal(answer.body['__type'], type);
  assert.equal(answer.headers.get('x-amzn-errortype'), type);
  assert.equal(answer.headers.get('content-type'), 'application/x-amz-json-1.1');
  assert.match(answer.headers.get('x-amzn-requestid') ?? '', UUID_RE);
  if (message !== undefined) assert.match(String(answer.body['message']), message);
}

const batchBody = (name: string, datas: string[]): string =>
  JSON.stringify({ DeliveryStreamName: name, Records: datas.map((Data) => ({ Data })) });

describe('Firehose API through the AWS SDK (credentials configured)', () => {
  let h: Harness;
  before(async () => {
    h = await startServer({ credentials: [KEY] });
  });
  after(async () => {
    await h.close();
  });

  test('PutRecord stores the bytes and answers a RecordId from the offset', async () => {
    h.streams.nextOffset = 255;
    const out = await h.client.send(
      new PutRecordCommand({ DeliveryStreamName: 's1', Record: { Data: Buffer.from('{"temp":99.99}\n') } }),
    );
    assert.equal(out.RecordId, 'rid-00000000000000ff');
    assert.equal(out.Encrypted, false);
    assert.deepEqual(h.streams.puts.at(-1), { name: 's1', records: ['{"temp":99.99}\n'] });
  });

  test('PutRecordBatch acknowledges every record with consecutive RecordIds', async () => {
    h.streams.nextOffset = 4094;
    const datas = ['a', 'bb', '', 'dddd', '{"guid":"x","ts":1,"temp":70.5}'];
    const out = await h.client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: 'redshift-delivery-stream',
        Records: datas.map((d) => ({ Data: Buffer.from(d) })),
      }),
    );
    assert.equal(out.FailedPutCount, 0);
    assert.equal(out.Encrypted, false);
    assert.deepEqual(
      out.RequestResponses?.map((r) => r.RecordId),
      [
        'rid-0000000000000ffe',
        'rid-0000000000000fff',
        'rid-0000000000001000',
        'rid-0000000000001001',
        'rid-0000000000001002',
      ],
    );
    assert.deepEqual(h.streams.puts.at(-1), { name: 'redshift-delivery-stream', records: datas });
  });

  test('PutRecordBatch RecordIds count on from 9ff to a00', async () => {
    h.streams.nextOffset = 0x9fe;
    const out = await h.client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: 's1',
        Records: ['a', 'b', 'c'].map((d) => ({ Data: Buffer.from(d) })),
      }),
    );
    assert.deepEqual(
      out.RequestResponses?.map((r) => r.RecordId),
      ['rid-00000000000009fe', 'rid-00000000000009ff', 'rid-0000000000000a00'],
    );
  });

  test('create, describe, list, update, tag, untag, list tags and delete round-trip', async () => {
    const created = await h.client.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'new-stream',
        DeliveryStreamType: 'DirectPut',
        ExtendedS3DestinationConfiguration: {
          BucketARN: 'arn:aws:s3:::b',
          RoleARN: 'arn:aws:iam::000000000000:role/r',
          BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 },
          CompressionFormat: 'GZIP',
        },
        Tags: [{ Key: 'team', Value: 'iot' }],
      }),
    );
    assert.equal(
      created.DeliveryStreamARN,
      'arn:aws:firehose:us-east-1:000000000000:deliverystream/new-stream',
    );
    const createInput = h.streams.calls.find((c) => c.method === 'create')
      ?.args[0] as CreateDeliveryStreamInput;
    assert.equal(createInput.ExtendedS3DestinationConfiguration?.CompressionFormat, 'GZIP');
    assert.deepEqual(createInput.Tags, [{ Key: 'team', Value: 'iot' }]);

    const described = await h.client.send(
      new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'new-stream' }),
    );
    const d = described.DeliveryStreamDescription;
    assert.equal(d?.DeliveryStreamStatus, 'ACTIVE');
    assert.equal(d?.CreateTimestamp?.getTime(), 1517595920596);
    assert.equal(
      d?.Destinations?.[0]?.ExtendedS3DestinationDescription?.BufferingHints?.IntervalInSeconds,
      0,
    );

    const listed = await h.client.send(new ListDeliveryStreamsCommand({ Limit: 2 }));
    assert.deepEqual(listed.DeliveryStreamNames, ['new-stream', 'redshift-delivery-stream']);
    assert.equal(listed.HasMoreDeliveryStreams, true);

    await h.client.send(
      new UpdateDestinationCommand({
        DeliveryStreamName: 'new-stream',
        CurrentDeliveryStreamVersionId: '1',
        DestinationId: 'destinationId-000000000001',
        ExtendedS3DestinationUpdate: { Prefix: 'message/' },
      }),
    );
    const update = h.streams.calls.find((c) => c.method === 'updateDestination')
      ?.args[0] as UpdateDestinationInput;
    assert.equal(update.ExtendedS3DestinationUpdate?.Prefix, 'message/');

    await h.client.send(
      new TagDeliveryStreamCommand({
        DeliveryStreamName: 'new-stream',
        Tags: [{ Key: 'env', Value: 'dev' }],
      }),
    );
    await h.client.send(
      new UntagDeliveryStreamCommand({ DeliveryStreamName: 'new-stream', TagKeys: ['team'] }),
    );
    const tags = await h.client.send(
      new ListTagsForDeliveryStreamCommand({ DeliveryStreamName: 'new-stream', Limit: 10 }),
    );
    assert.deepEqual(tags.Tags, [{ Key: 'env', Value: 'dev' }]);
    assert.equal(tags.HasMoreTags, false);

    await h.client.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: 'new-stream' }));
    assert.equal(h.streams.names.has('new-stream'), false);
  });

  test('the SDK raises ResourceNotFoundException with AWS text for an unknown stream', async () => {
    await assert.rejects(
      h.client.send(
        new PutRecordBatchCommand({ DeliveryStreamName: 'nope', Records: [{ Data: Buffer.from('x') }] }),
      ),
      (err: unknown) => {
        assert.ok(err instanceof ResourceNotFoundException);
        assert.equal(err.name, 'ResourceNotFoundException');
        assert.equal(err.message, 'Firehose nope under account 000000000000 not found.');
        assert.equal(err.$metadata.httpStatusCode, 400);
        return true;
      },
    );
  });

  test('the SDK raises ResourceInUseException and ConcurrentModificationException', async () => {
    await assert.rejects(
      h.client.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 's1' })),
      ResourceInUseException,
    );
    await assert.rejects(
      h.client.send(
        new UpdateDestinationCommand({
          DeliveryStreamName: 's1',
          CurrentDeliveryStreamVersionId: '7',
          DestinationId: 'd-1',
        }),
      ),
      { name: 'ConcurrentModificationException' },
    );
  });

  test('the SDK raises ValidationException for a stream name AWS refuses', async () => {
    await assert.rejects(
      h.client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'bad name' })),
      {
        name: 'ValidationException',
        message:
          "1 validation error detected: Value 'bad name' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
      },
    );
  });

  test('a wrong secret is an InvalidSignatureException', async () => {
    const answer = await call(h.port, 'ListDeliveryStreams', '{}', {
      key: { ...KEY, secretAccessKey: 'wrong' },
    });
    assertError(
      answer,
      400,
      'InvalidSignatureException',
      /^The request signature we calculated does not match/,
    );
  });

  test('an unknown access key is an UnrecognizedClientException', async () => {
    const answer = await call(h.port, 'ListDeliveryStreams', '{}', {
      key: { accessKeyId: 'AKIDOTHER', secretAccessKey: 'secret' },
    });
    assertError(
      answer,
      400,
      'UnrecognizedClientException',
      /^The security token included in the request is invalid\.$/,
    );
  });

  test('a request signed 20 minutes ago has an expired signature', async () => {
    const answer = await call(h.port, 'ListDeliveryStreams', '{}', {
      date: new Date(Date.now() - 20 * 60 * 1000),
    });
    assertError(
      answer,
      400,
      'InvalidSignatureException',
      /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/,
    );
  });

  test('a request without an Authorization header is refused', async () => {
    const answer = await call(h.port, 'ListDeliveryStreams', '{}', { unsigned: true });
    assertError(answer, 403, 'MissingAuthenticationTokenException', /^Missing Authentication Token$/);
  });

  test('a body changed after signing is refused', async () => {
    const signer = new SignatureV4({
      credentials: KEY,
      region: 'us-east-1',
      service: 'firehose',
      sha256: Sha256,
      applyChecksum: false,
    });
    const headers = {
      host: `127.0.0.1:${h.port}`,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'Firehose_20150804.PutRecord',
    };
    const original = JSON.stringify({ DeliveryStreamName: 's1', Record: { Data: b64('a') } });
    const signed = await signer.sign(
      new HttpRequest({ method: 'POST', hostname: '127.0.0.1', path: '/', headers, body: original }),
    );
    const sent: Record<string, string> = { ...signed.headers };
    delete sent['host'];
    const res = await fetch(`http://127.0.0.1:${h.port}/`, {
      method: 'POST',
      headers: sent,
      body: original.replace(b64('a'), b64('b')),
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as Record<string, unknown>)['__type'], 'InvalidSignatureException');
  });
});

describe('Firehose API with raw requests (no credentials configured)', () => {
  let h: Harness;
  before(async () => {
    h = await startServer({ maxBodyBytes: 6 * 1024 * 1024 });
  });
  after(async () => {
    await h.close();
  });

  test('any well-formed signature is accepted', async () => {
    const answer = await call(h.port, 'ListDeliveryStreams', '{}', {
      key: { accessKeyId: 'ANY', secretAccessKey: 'x' },
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, {
      DeliveryStreamNames: ['redshift-delivery-stream', 's1'],
      HasMoreDeliveryStreams: false,
    });
    assert.match(answer.headers.get('x-amzn-requestid') ?? '', UUID_RE);
    assert.equal(answer.headers.get('content-type'), 'application/x-amz-json-1.1');
  });

  test('an empty body is accepted as {}', async () => {
    const answer = await call(h.port, 'ListDeliveryStreams', '');
    assert.equal(answer.status, 200);
    const call0 = h.streams.calls.at(-1);
    assert.equal(call0?.method, 'list');
    assert.deepEqual(call0?.args[0], { limit: 10, exclusiveStartName: undefined, type: undefined });
  });

  test('malformed JSON is a SerializationException', async () => {
    assertError(
      await call(h.port, 'PutRecordBatch', '{"DeliveryStreamName": "s1", "Records": ['),
      400,
      'SerializationException',
    );
  });

  test('an unknown X-Amz-Target is an UnknownOperationException', async () => {
    assertError(
      await call(h.port, 'Firehose_20150804.Frobnicate', '{}'),
      400,
      'UnknownOperationException',
      /Frobnicate/,
    );
    assertError(await call(h.port, 'Kinesis_20131202.PutRecord', '{}'), 400, 'UnknownOperationException');
  });

  test('a missing DeliveryStreamName is a ValidationException', async () => {
    assertError(
      await call(h.port, 'PutRecordBatch', JSON.stringify({ Records: [{ Data: b64('x') }] })),
      400,
      'ValidationException',
      /^1 validation error detected: Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null$/,
    );
  });

  test('a stream name with a space is a ValidationException', async () => {
    assertError(
      await call(h.port, 'PutRecordBatch', batchBody('my stream', [b64('x')])),
      400,
      'ValidationException',
      /Value 'my stream' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: \[a-zA-Z0-9_.-\]\+/,
    );
  });

  test('a record that is not base64 is refused naming the record', async () => {
    assertError(
      await call(h.port, 'PutRecordBatch', batchBody('s1', [b64('ok'), 'not base64!'])),
      400,
      'SerializationException',
      /'records\.2\.member\.data' \(record index 1\)/,
    );
  });

  test('a record of 1,024,001 bytes is refused with the text AWS sends', async () => {
    const datas = [b64('ok'), Buffer.alloc(1_024_001, 120).toString('base64')];
    assertError(
      await call(h.port, 'PutRecordBatch', batchBody('s1', datas)),
      400,
      'ValidationException',
      /^1 validation error detected: Value 'java\.nio\.HeapByteBuffer\[pos=0 lim=1024001 cap=1024001\]' at 'records\.2\.member\.data' failed to satisfy constraint: Member must have length less than or equal to 1024000$/,
    );
  });

  test('501 records are refused', async () => {
    assertError(
      await call(
        h.port,
        'PutRecordBatch',
        batchBody(
          's1',
          Array.from({ length: 501 }, () => b64('x')),
        ),
      ),
      400,
      'ValidationException',
      /at 'records' failed to satisfy constraint: Member must have length less than or equal to 500$/,
    );
  });

  test('more than 4 MiB of records is an InvalidArgumentException', async () => {
    const datas = Array.from({ length: 5 }, () => Buffer.alloc(900_000, 1).toString('base64'));
    assertError(
      await call(h.port, 'PutRecordBatch', batchBody('s1', datas)),
      400,
      'InvalidArgumentException',
      /4 MiB/,
    );
    assert.equal(h.streams.puts.length, 0);
  });

  test('an unknown stream is a ResourceNotFoundException with AWS text', async () => {
    assertError(
      await call(h.port, 'PutRecordBatch', batchBody('nope', [b64('x')])),
      400,
      'ResourceNotFoundException',
      /^Firehose nope under account 000000000000 not found\.$/,
    );
  });

  test('a full stream fails every record of a batch with ServiceUnavailableException', async () => {
    h.streams.putError = new DeliveryStreamError('ServiceUnavailable', 'log full');
    try {
      const answer = await call(h.port, 'PutRecordBatch', batchBody('s1', [b64('a'), b64('b'), b64('c')]));
      assert.equal(answer.status, 200);
      const entry = { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' };
      assert.deepEqual(answer.body, {
        Encrypted: false,
        FailedPutCount: 3,
        RequestResponses: [entry, entry, entry],
      });
      assertError(
        await call(
          h.port,
          'PutRecord',
          JSON.stringify({ DeliveryStreamName: 's1', Record: { Data: b64('a') } }),
        ),
        500,
        'ServiceUnavailableException',
        /^Slow down\.$/,
      );
    } finally {
      h.streams.putError = undefined;
    }
  });

  test('an internal failure fails every record of a batch with InternalFailure', async () => {
    h.streams.putError = new DeliveryStreamError('InternalFailure', 'disk broke');
    try {
      const answer = await call(h.port, 'PutRecordBatch', batchBody('s1', [b64('a'), b64('b')]));
      assert.equal(answer.status, 200);
      assert.equal(answer.body['FailedPutCount'], 2);
      assert.deepEqual((answer.body['RequestResponses'] as unknown[])[1], {
        ErrorCode: 'InternalFailure',
        ErrorMessage: 'disk broke',
      });
    } finally {
      h.streams.putError = undefined;
    }
  });

  test('an unexpected exception is a logged 500 InternalFailure', async () => {
    h.streams.putError = new TypeError('bug in the stream stage');
    const before = h.logger.errors.length;
    try {
      assertError(await call(h.port, 'PutRecordBatch', batchBody('s1', [b64('a')])), 500, 'InternalFailure');
      assert.equal(h.logger.errors.length, before + 1);
    } finally {
      h.streams.putError = undefined;
    }
  });

  test('a body over maxBodyBytes is refused with 413 before it is read', async () => {
    const small = await startServer({ maxBodyBytes: 1000 });
    try {
      assertError(
        await call(small.port, 'PutRecordBatch', batchBody('s1', [Buffer.alloc(2000).toString('base64')])),
        413,
        'ValidationException',
        /limit of 1000 bytes/,
      );
    } finally {
      await small.close();
    }
  });
});

describe('isFirehoseRequest', () => {
  test('routes on the Firehose X-Amz-Target prefix only', () => {
    const api = createFirehoseApi({ streams: new FakeStreams() });
    const req = (headers: Record<string, string>): IncomingMessage =>
      ({ headers }) as unknown as IncomingMessage;
    assert.equal(api.isFirehoseRequest(req({ 'x-amz-target': 'Firehose_20150804.PutRecordBatch' })), true);
    assert.equal(api.isFirehoseRequest(req({ 'x-amz-target': 'Kinesis_20131202.PutRecord' })), false);
    assert.equal(api.isFirehoseRequest(req({})), false);
  });
});

describe('robustness', () => {
  test('a burst of bad requests leaves the server answering good ones', async () => {
    const h = await startServer({ credentials: [KEY], maxBodyBytes: 64 * 1024 });
    try {
      const bad: Promise<unknown>[] = [];
      for (let i = 0; i < 40; i++) {
        bad.push(call(h.port, 'PutRecordBatch', '{"Records": [{"Data": '));
        bad.push(call(h.port, 'PutRecordBatch', batchBody('s1', ['@@@@'])));
        bad.push(call(h.port, 'Nope', '{}'));
        bad.push(call(h.port, 'PutRecordBatch', '{}', { key: { ...KEY, secretAccessKey: 'x' } }));
        bad.push(call(h.port, 'PutRecordBatch', '[]', { unsigned: true }));
        bad.push(call(h.port, 'PutRecordBatch', JSON.stringify({ DeliveryStreamName: 's1', Records: 7 })));
        bad.push(call(h.port, 'PutRecordBatch', Buffer.alloc(100 * 1024, 32)));
      }
      // Clients that vanish mid-body, or send garbage instead of HTTP.
      for (let i = 0; i < 10; i++) {
        bad.push(
          new Promise<void>((resolve) => {
            const socket = connect(h.port, '127.0.0.1', () => {
              socket.write(
                i % 2 === 0
                  ? 'POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Firehose_20150804.PutRecordBatch\r\nContent-Length: 5000\r\n\r\n{"Deliv'
                  : '\u0000\u0001garbage\r\n\r\n',
              );
              setTimeout(() => socket.destroy(), 20);
            });
            socket.on('error', () => {});
            socket.on('close', () => resolve());
          }),
        );
      }
      const results = await Promise.allSettled(bad);
      const statuses = results.map((r) =>
        r.status === 'fulfilled' ? (r.value as RawAnswer | undefined)?.status : 'rejected',
      );
      assert.ok(
        statuses.every((s) => s === undefined || (typeof s === 'number' && s >= 400)),
        String(statuses),
      );

      const out = await h.client.send(
        new PutRecordBatchCommand({
          DeliveryStreamName: 's1',
          Records: [{ Data: Buffer.from('still alive') }],
        }),
      );
      assert.equal(out.FailedPutCount, 0);
      assert.equal(h.streams.puts.at(-1)?.records[0], 'still alive');
      assert.equal(h.logger.errors.length, 0, 'bad input is not an internal error');
    } finally {
      await h.close();
    }
  });
});
