/**
 * The S3 REST API handler: addressing, authentication, body decoding, then one function per
 * operation. See the contract in ./index.ts.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseAuthorizationHeader, sha256Hex, verifySigV4, type SigV4Success } from '../ingest/index.ts';
import {
  isValidBucketName,
  LakeError,
  type ObjectInfo,
  type ObjectReader,
  type ObjectStore,
} from '../lake/index.ts';
import { silentLogger, type Logger } from '../util/logger.ts';
import { checksumHeaderAlgorithm, verifyChecksums, type ChecksumAlgorithm } from './checksums.ts';
import { createChunkSigner, decodeAwsChunked, type ChunkVerification } from './chunked.ts';
import { errorXml, S3Error } from './errors.ts';
import type { S3Api, S3ApiOptions } from './index.ts';
import { MultipartUploads, type PartInfo } from './multipart.ts';
import { uploadBody, type UploadBody } from './upload-body.ts';
import {
  child,
  children,
  parseXml,
  xmlDocument,
  XmlParseError,
  type XmlElement,
  type XmlNode,
} from './xml.ts';

const HOUR = 60 * 60 * 1000;
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const MAX_KEY_BYTES = 1024;
const MAX_XML_BODY = 2 * MiB;
const MAX_LIST_KEYS = 1000;
const MAX_PARTS = 10_000;
const S3_MAX_PUT = 5 * GiB;
const OWNER: XmlNode = [
  'Owner',
  [
    ['ID', 'sluice'],
    ['DisplayName', 'sluice'],
  ],
];
/** Metadata name under which a multipart object's ETag is kept; hidden from clients. */
const MULTIPART_ETAG_META = 'x-sluice-multipart-etag';
const SUBRESOURCES_NOT_IMPLEMENTED = [
  'acl',
  'policy',
  'cors',
  'lifecycle',
  'tagging',
  'encryption',
  'website',
  'logging',
  'notification',
  'replication',
  'requestPayment',
  'accelerate',
  'object-lock',
  'ownershipControls',
  'publicAccessBlock',
  'intelligent-tiering',
  'inventory',
  'metrics',
  'analytics',
  'policyStatus',
  'retention',
  'legal-hold',
  'torrent',
  'restore',
  'select',
  'attributes',
  'session',
  'metadataTable',
];

/** Creates the S3 API over an object store. */
export function createS3Api(options: S3ApiOptions): S3Api {
  const api = new S3ApiHandler(options);
  const sweep = (): void => {
    api.sweepUploads().catch(() => {
      // Logged by sweepUploads; the next sweep tries again.
    });
  };
  sweep();
  const timer = setInterval(sweep, options.multipartSweepMs ?? HOUR);
  timer.unref();
  return {
    handle: (req, res) => api.handle(req, res),
    sweepUploads: () => api.sweepUploads(),
    close: () => clearInterval(timer),
  };
}

/** One request as the operations see it. */
interface Ctx {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  readonly query: ReadonlyMap<string, string>;
  /** The decoded body (aws-chunked framing removed). */
  readonly body: Buffer;
  /** Checksums the client sent, as headers or trailers. */
  readonly checksums: ReadonlyMap<ChecksumAlgorithm, string>;
  readonly host: string;
  /** The body of an object or part, still to be streamed (then `body` is empty). */
  readonly upload?: UploadBody;
}

/** A response to send. */
interface Reply {
  readonly status: number;
  readonly headers?: Record<string, string | number>;
  readonly body?: Buffer | string;
  /** A body streamed from the store (content-length is in the headers). */
  readonly stream?: Readable;
}

const EMPTY = Buffer.alloc(0);

class S3ApiHandler {
  readonly #store: ObjectStore;
  readonly #secrets: Map<string, string> | undefined;
  readonly #region: string;
  readonly #logger: Logger;
  readonly #maxObjectBytes: number;
  readonly #maxSkewMs: number;
  readonly #minPartBytes: number;
  readonly #uploads: MultipartUploads;
  readonly #multipartExpiryMs: number;

  constructor(options: S3ApiOptions) {
    this.#store = options.store;
    const creds = options.credentials ?? [];
    this.#secrets =
      creds.length > 0 ? new Map(creds.map((c) => [c.accessKeyId, c.secretAccessKey])) : undefined;
    this.#region = options.region ?? 'us-east-1';
    this.#logger = (options.logger ?? silentLogger).child({ component: 's3-api' });
    this.#maxObjectBytes = options.maxObjectBytes ?? GiB;
    this.#maxSkewMs = options.maxClockSkewMs ?? 15 * 60 * 1000;
    this.#minPartBytes = options.minPartBytes ?? 5 * MiB;
    this.#multipartExpiryMs = options.multipartExpiryMs ?? 7 * 24 * HOUR;
    this.#uploads = new MultipartUploads(
      options.multipartDir ?? join(tmpdir(), `sluice-multipart-${process.pid}`),
    );
  }

  /** Removes multipart uploads older than the expiry, with their parts. */
  async sweepUploads(): Promise<number> {
    try {
      const removed = await this.#uploads.expire(new Date(Date.now() - this.#multipartExpiryMs));
      for (const uploadId of removed) {
        this.#logger.info({ uploadId }, `Removed multipart upload ${uploadId}: not completed in time.`);
      }
      return removed.length;
    } catch (err) {
      this.#logger.error({ err }, 'Sweeping expired multipart uploads failed.');
      throw err;
    }
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    let resource = '/';
    const fail = (err: unknown): void => {
      const s3err = toS3Error(err);
      if (s3err.code === 'InternalError') {
        this.#logger.error(
          { err, method: req.method, url: req.url, requestId },
          `S3 request ${requestId} failed unexpectedly.`,
        );
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const headers: Record<string, string | number> = {};
      if (s3err.code === 'EntityTooLarge' || !req.complete) headers['connection'] = 'close';
      const isHead = req.method === 'HEAD';
      if (s3err.code === 'NotModified') {
        this.#send(res, requestId, { status: 304, headers: { ...s3err.extra } }, isHead);
        return;
      }
      if (s3err.code === 'InvalidRange' && s3err.extra['RangeRequested'] !== undefined) {
        headers['content-range'] = `bytes */${s3err.extra['ActualObjectSize'] ?? '0'}`;
      }
      headers['content-type'] = 'application/xml';
      this.#send(
        res,
        requestId,
        { status: s3err.status, headers, body: errorXml(s3err, resource, requestId) },
        isHead,
      );
      if (headers['connection'] === 'close') res.on('finish', () => req.destroy());
    };
    req.on('error', () => {
      // The client went away; there is nobody left to answer.
    });
    this.#serve(req, res, (r) => {
      resource = r;
    }).then((reply) => this.#send(res, requestId, reply, req.method === 'HEAD'), fail);
  }

  #send(res: ServerResponse, requestId: string, reply: Reply, isHead: boolean): void {
    if (res.headersSent || res.destroyed) {
      // The client went away; the open object must still be let go.
      reply.stream?.destroy();
      return;
    }
    const body =
      reply.body === undefined
        ? undefined
        : typeof reply.body === 'string'
          ? Buffer.from(reply.body)
          : reply.body;
    const headers: Record<string, string | number> = {
      'x-amz-request-id': requestId,
      'x-amz-id-2': requestId,
      server: 'Sluice',
      ...reply.headers,
    };
    if (body !== undefined && headers['content-length'] === undefined)
      headers['content-length'] = body.length;
    if (
      body === undefined &&
      headers['content-length'] === undefined &&
      reply.status !== 304 &&
      reply.status !== 204
    ) {
      headers['content-length'] = 0;
    }
    if (reply.stream !== undefined) {
      const stream = reply.stream;
      res.writeHead(reply.status, headers);
      if (isHead) {
        stream.destroy();
        res.end();
        return;
      }
      // A read failing midway can only cut the answer short; the client sees fewer bytes
      // than Content-Length and retries.
      pipeline(stream, res).catch((err: unknown) => {
        if (!res.destroyed && !res.writableFinished) {
          this.#logger.warn({ err, requestId }, `S3 request ${requestId}: reading the object failed.`);
        }
        res.destroy();
      });
      return;
    }
    res.writeHead(reply.status, headers);
    if (isHead || body === undefined || reply.status === 304 || reply.status === 204) res.end();
    else res.end(body);
  }

  async #serve(req: IncomingMessage, res: ServerResponse, setResource: (r: string) => void): Promise<Reply> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const query = parseQuery(q < 0 ? '' : url.slice(q + 1));
    const host = headerOf(req, 'host') ?? 'localhost';
    const { bucket, key } = address(host, rawPath);
    setResource(bucket === undefined ? '/' : `/${bucket}${key === undefined ? '' : `/${key}`}`);
    if (key !== undefined && Buffer.byteLength(key) > MAX_KEY_BYTES) {
      req.resume();
      throw new S3Error(
        'KeyTooLongError',
        `Your key is too long: ${Buffer.byteLength(key)} bytes, the limit is ${MAX_KEY_BYTES}.`,
      );
    }

    const contentSha = headerOf(req, 'x-amz-content-sha256');
    const chunked =
      contentSha?.startsWith('STREAMING-') === true ||
      /aws-chunked/i.test(headerOf(req, 'content-encoding') ?? '');
    const isUpload = key !== undefined && method === 'PUT';
    const limit = isUpload ? Math.min(this.#maxObjectBytes, S3_MAX_PUT) : MAX_XML_BODY;
    const declared = Number(
      headerOf(chunked ? 'x-amz-decoded-content-length' : 'content-length', req) ?? '0',
    );
    if (Number.isFinite(declared) && declared > limit) {
      throw new S3Error(
        isUpload ? 'EntityTooLarge' : 'MalformedXML',
        isUpload ? undefined : 'The request body is too large.',
      );
    }
    const checksums = new Map<ChecksumAlgorithm, string>();
    for (const name of Object.keys(req.headers)) {
      const alg = checksumHeaderAlgorithm(name);
      const value = headerOf(req, name);
      if (alg !== undefined && value !== undefined) checksums.set(alg, value);
    }
    const authorization = headerOf(req, 'authorization');
    // An object or part body streams to disk when the signature does not cover its bytes
    // directly: a presigned URL, or a signed x-amz-content-sha256 (which every S3 client
    // sends), whose value is then checked against the bytes as they stream.
    if (
      isUpload &&
      headerOf(req, 'x-amz-copy-source') === undefined &&
      (authorization === undefined || /SignedHeaders=[^,]*\bx-amz-content-sha256\b/i.test(authorization))
    ) {
      const auth = await verifySigV4(
        { method, url, headers: req.headers },
        {
          service: 's3',
          uriEscapePath: false,
          maxClockSkewMs: this.#maxSkewMs,
          ...(this.#secrets !== undefined ? { secretFor: (id: string) => this.#secrets?.get(id) } : {}),
        },
      );
      if (!auth.ok) throw authError(auth.failure, auth.message, q >= 0 && query.has('X-Amz-Algorithm'));
      checkPresignedExpiry(auth, query);
      const verification = chunked ? this.#chunkVerification(req, auth, contentSha) : undefined;
      const upload = uploadBody(req, {
        chunked,
        limit,
        checksums,
        ...(verification !== undefined ? { verification } : {}),
      });
      return this.#route({ req, res, method, bucket, key, query, body: EMPTY, checksums, host, upload });
    }
    const raw = await readBody(req, chunked ? limit + Math.ceil(limit / 64) + 64 * 1024 : limit, isUpload);

    const auth = await verifySigV4(
      { method, url, headers: req.headers, body: raw },
      {
        service: 's3',
        uriEscapePath: false,
        maxClockSkewMs: this.#maxSkewMs,
        ...(this.#secrets !== undefined ? { secretFor: (id: string) => this.#secrets?.get(id) } : {}),
      },
    );
    if (!auth.ok) throw authError(auth.failure, auth.message, q >= 0 && query.has('X-Amz-Algorithm'));
    checkPresignedExpiry(auth, query);
    if (
      !auth.verified &&
      contentSha !== undefined &&
      /^[0-9a-f]{64}$/.test(contentSha) &&
      sha256Hex(raw) !== contentSha
    ) {
      throw new S3Error('XAmzContentSHA256Mismatch');
    }

    let body = raw;
    if (chunked) {
      const decoded = decodeAwsChunked(raw, this.#chunkVerification(req, auth, contentSha));
      body = decoded.data;
      const declaredDecoded = headerOf(req, 'x-amz-decoded-content-length');
      if (declaredDecoded !== undefined && Number(declaredDecoded) !== body.length) {
        throw new S3Error(
          'IncompleteBody',
          `The body holds ${body.length} bytes but x-amz-decoded-content-length says ${declaredDecoded}.`,
        );
      }
      for (const [name, value] of decoded.trailers) {
        const alg = checksumHeaderAlgorithm(name);
        if (alg !== undefined) checksums.set(alg, value);
      }
      const promised = headerOf(req, 'x-amz-trailer');
      const promisedAlg =
        promised === undefined ? undefined : checksumHeaderAlgorithm(promised.trim().toLowerCase());
      if (promisedAlg !== undefined && !checksums.has(promisedAlg)) {
        throw new S3Error('IncompleteBody', `The trailer ${promised} was promised but not sent.`);
      }
    }
    const ctx: Ctx = { req, res, method, bucket, key, query, body, checksums, host };
    return this.#route(ctx);
  }

  #chunkVerification(
    req: IncomingMessage,
    auth: SigV4Success,
    contentSha: string | undefined,
  ): ChunkVerification | undefined {
    if (!auth.verified || auth.presigned || !contentSha?.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD'))
      return undefined;
    const parsed = parseAuthorizationHeader(
      headerOf(req, 'authorization') ?? '',
      headerOf(req, 'x-amz-date'),
    );
    const secret = this.#secrets?.get(auth.accessKeyId);
    if ('ok' in parsed || secret === undefined) return undefined;
    return {
      seed: parsed.signature,
      signer: createChunkSigner(secret, parsed.amzDate, parsed.region, parsed.service),
    };
  }

  async #route(ctx: Ctx): Promise<Reply> {
    const { method, bucket, key, query } = ctx;
    for (const sub of SUBRESOURCES_NOT_IMPLEMENTED) {
      if (query.has(sub))
        throw new S3Error('NotImplemented', `Sluice does not implement the ?${sub} subresource.`);
    }
    if (bucket === undefined) {
      if (method === 'GET') return this.#listBuckets();
      throw new S3Error('MethodNotAllowed');
    }
    if (!isValidBucketName(bucket)) {
      if (method === 'PUT' && key === undefined)
        throw new S3Error('InvalidBucketName', undefined, { BucketName: bucket });
      throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
    }
    if (key === undefined) {
      switch (method) {
        case 'PUT':
          return this.#createBucket(ctx, bucket);
        case 'HEAD':
          return this.#headBucket(bucket);
        case 'DELETE':
          return this.#deleteBucket(bucket);
        case 'POST':
          if (query.has('delete')) return this.#deleteObjects(ctx, bucket);
          throw new S3Error('MethodNotAllowed');
        case 'GET':
          if (query.has('location')) return this.#getBucketLocation(bucket);
          if (query.has('versioning')) return this.#getBucketVersioning(bucket);
          if (query.has('uploads')) return this.#listUploads(ctx, bucket);
          if (query.has('versions')) return this.#listVersions(ctx, bucket);
          if (query.get('list-type') === '2') return this.#listV2(ctx, bucket);
          return this.#listV1(ctx, bucket);
        default:
          throw new S3Error('MethodNotAllowed');
      }
    }
    const uploadId = query.get('uploadId');
    switch (method) {
      case 'PUT':
        if (uploadId !== undefined) return this.#uploadPart(ctx, bucket, key, uploadId);
        if (headerOf(ctx.req, 'x-amz-copy-source') !== undefined) return this.#copyObject(ctx, bucket, key);
        return this.#putObject(ctx, bucket, key);
      case 'GET':
        if (uploadId !== undefined) return this.#listParts(ctx, bucket, key, uploadId);
        return this.#getObject(ctx, bucket, key, false);
      case 'HEAD':
        return this.#getObject(ctx, bucket, key, true);
      case 'DELETE':
        if (uploadId !== undefined) {
          await this.#uploads.abort(uploadId, bucket, key);
          return { status: 204 };
        }
        await this.#store.deleteObject(bucket, key);
        return { status: 204 };
      case 'POST':
        if (query.has('uploads')) return this.#createUpload(ctx, bucket, key);
        if (uploadId !== undefined) return this.#completeUpload(ctx, bucket, key, uploadId);
        throw new S3Error('MethodNotAllowed');
      default:
        throw new S3Error('MethodNotAllowed');
    }
  }

  // ---- buckets ----

  async #listBuckets(): Promise<Reply> {
    const buckets = await this.#store.listBuckets();
    return xmlReply([
      'ListAllMyBucketsResult',
      [
        OWNER,
        [
          'Buckets',
          buckets.map((b): XmlNode => [
            'Bucket',
            [
              ['Name', b.name],
              ['CreationDate', b.created.toISOString()],
            ],
          ]),
        ],
      ],
    ]);
  }

  async #createBucket(ctx: Ctx, bucket: string): Promise<Reply> {
    if (ctx.body.length > 0) {
      const doc = parseBody(ctx.body);
      if (doc.name !== 'CreateBucketConfiguration') throw new S3Error('MalformedXML');
    }
    await this.#store.createBucket(bucket);
    return { status: 200, headers: { location: `/${bucket}` } };
  }

  async #requireBucket(bucket: string): Promise<void> {
    if (!(await this.#store.bucketExists(bucket)))
      throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
  }

  async #headBucket(bucket: string): Promise<Reply> {
    await this.#requireBucket(bucket);
    return { status: 200, headers: { 'x-amz-bucket-region': this.#region } };
  }

  async #deleteBucket(bucket: string): Promise<Reply> {
    await this.#store.deleteBucket(bucket);
    return { status: 204 };
  }

  async #getBucketLocation(bucket: string): Promise<Reply> {
    await this.#requireBucket(bucket);
    return xmlReply(['LocationConstraint', this.#region === 'us-east-1' ? '' : this.#region]);
  }

  async #getBucketVersioning(bucket: string): Promise<Reply> {
    await this.#requireBucket(bucket);
    return xmlReply(['VersioningConfiguration', []]);
  }

  // ---- objects ----

  async #putObject(ctx: Ctx, bucket: string, key: string): Promise<Reply> {
    const echo = ctx.upload === undefined ? checkBody(ctx) : undefined;
    if (
      headerOf(ctx.req, 'if-none-match') === '*' &&
      (await this.#store.headObject(bucket, key)) !== undefined
    ) {
      throw new S3Error('PreconditionFailed');
    }
    const info = await this.#store.putObject(
      bucket,
      key,
      ctx.upload?.data ?? ctx.body,
      writeOptions(ctx.req),
    );
    return { status: 200, headers: { etag: info.etag, ...(echo ?? ctx.upload?.echo()) } };
  }

  async #getObject(ctx: Ctx, bucket: string, key: string, head: boolean): Promise<Reply> {
    let info: ObjectInfo | undefined;
    let reader: ObjectReader | undefined;
    if (head) {
      info = await this.#store.headObject(bucket, key);
    } else {
      // The open object is one version: its facts and bytes agree even if a writer replaces it.
      reader = await this.#store.openObject(bucket, key).catch((err: unknown) => {
        if (err instanceof LakeError && err.code === 'NoSuchKey') return undefined;
        throw err;
      });
      info = reader?.info;
    }
    if (info === undefined) throw new S3Error('NoSuchKey', undefined, { Key: key });
    try {
      const pub = publicInfo(info);
      const headers: Record<string, string | number> = {
        etag: pub.etag,
        'last-modified': pub.lastModified.toUTCString(),
        'accept-ranges': 'bytes',
        'content-type': pub.contentType ?? 'binary/octet-stream',
      };
      for (const [name, value] of Object.entries(pub.metadata ?? {})) headers[`x-amz-meta-${name}`] = value;
      checkConditions(ctx.req, pub.etag, pub.lastModified, headers);
      for (const [param, header] of RESPONSE_OVERRIDES) {
        const v = ctx.query.get(param);
        if (v !== undefined) headers[header] = v;
      }
      const range = parseRange(headerOf(ctx.req, 'range'), info.size);
      if (range !== undefined) {
        headers['content-range'] = `bytes ${range.start}-${range.end}/${info.size}`;
        headers['content-length'] = range.end - range.start + 1;
        return { status: 206, headers, ...(reader !== undefined ? { stream: reader.stream(range) } : {}) };
      }
      headers['content-length'] = info.size;
      // An empty object has no bytes to stream (and a zero-length range is not a range).
      if (reader !== undefined && info.size === 0) {
        await reader.close();
        return { status: 200, headers, body: EMPTY };
      }
      return { status: 200, headers, ...(reader !== undefined ? { stream: reader.stream() } : {}) };
    } catch (err) {
      await reader?.close();
      throw err;
    }
  }

  /** Opens the object named by x-amz-copy-source. */
  async #openSource(ctx: Ctx): Promise<{ bucket: string; key: string; reader: ObjectReader }> {
    const header = headerOf(ctx.req, 'x-amz-copy-source') ?? '';
    let source = header;
    const qm = source.indexOf('?');
    if (qm >= 0) source = source.slice(0, qm);
    try {
      source = decodeURIComponent(source);
    } catch {
      throw new S3Error(
        'InvalidArgument',
        'Copy Source must mention the source bucket and key: sourcebucket/sourcekey.',
      );
    }
    if (source.startsWith('/')) source = source.slice(1);
    const slash = source.indexOf('/');
    if (slash <= 0 || slash === source.length - 1) {
      throw new S3Error(
        'InvalidArgument',
        'Copy Source must mention the source bucket and key: sourcebucket/sourcekey.',
      );
    }
    const bucket = source.slice(0, slash);
    const key = source.slice(slash + 1);
    if (!isValidBucketName(bucket)) throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
    try {
      return { bucket, key, reader: await this.#store.openObject(bucket, key) };
    } catch (err) {
      if (err instanceof LakeError && err.code === 'NoSuchKey')
        throw new S3Error('NoSuchKey', undefined, { Key: key });
      throw err;
    }
  }

  async #copyObject(ctx: Ctx, bucket: string, key: string): Promise<Reply> {
    const directive = (headerOf(ctx.req, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
    if (directive !== 'COPY' && directive !== 'REPLACE') {
      throw new S3Error('InvalidArgument', 'Unknown metadata directive.');
    }
    const src = await this.#openSource(ctx);
    let info: ObjectInfo;
    try {
      if (src.bucket === bucket && src.key === key && directive === 'COPY') {
        throw new S3Error(
          'InvalidRequest',
          "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        );
      }
      await this.#requireBucket(bucket);
      const srcPub = publicInfo(src.reader.info);
      const options =
        directive === 'REPLACE'
          ? writeOptions(ctx.req)
          : {
              ...(srcPub.contentType !== undefined ? { contentType: srcPub.contentType } : {}),
              ...(srcPub.metadata !== undefined ? { metadata: srcPub.metadata } : {}),
            };
      info = await this.#store.putObject(bucket, key, src.reader.stream(), options);
    } finally {
      await src.reader.close();
    }
    return xmlReply([
      'CopyObjectResult',
      [
        ['LastModified', info.lastModified.toISOString()],
        ['ETag', info.etag],
      ],
    ]);
  }

  async #deleteObjects(ctx: Ctx, bucket: string): Promise<Reply> {
    const echo = checkBody(ctx);
    void echo;
    const doc = parseBody(ctx.body);
    if (doc.name !== 'Delete') throw new S3Error('MalformedXML');
    const quiet = child(doc, 'Quiet')?.text.trim().toLowerCase() === 'true';
    const objects = children(doc, 'Object');
    if (objects.length === 0 || objects.length > 1000) throw new S3Error('MalformedXML');
    await this.#requireBucket(bucket);
    const results: XmlNode[] = [];
    for (const obj of objects) {
      const key = child(obj, 'Key')?.text;
      if (key === undefined) throw new S3Error('MalformedXML');
      try {
        if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError');
        await this.#store.deleteObject(bucket, key);
        if (!quiet) results.push(['Deleted', [['Key', key]]]);
      } catch (err) {
        const e = toS3Error(err);
        results.push([
          'Error',
          [
            ['Key', key],
            ['Code', e.code],
            ['Message', e.message],
          ],
        ]);
      }
    }
    return xmlReply(['DeleteResult', results]);
  }

  // ---- listings ----

  #maxKeys(ctx: Ctx, name = 'max-keys'): number {
    const raw = ctx.query.get(name);
    if (raw === undefined) return MAX_LIST_KEYS;
    if (!/^\d+$/.test(raw))
      throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`);
    return Math.min(MAX_LIST_KEYS, Number(raw));
  }

  #encoder(ctx: Ctx): (s: string) => string {
    const type = ctx.query.get('encoding-type');
    if (type === undefined) return (s) => s;
    if (type !== 'url') throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request');
    return (s) => encodeURIComponent(s).replace(/%2F/g, '/');
  }

  async #listV2(ctx: Ctx, bucket: string): Promise<Reply> {
    const enc = this.#encoder(ctx);
    const prefix = ctx.query.get('prefix') ?? '';
    const delimiter = ctx.query.get('delimiter') ?? '';
    const token = ctx.query.get('continuation-token');
    const startAfter = ctx.query.get('start-after');
    const maxKeys = this.#maxKeys(ctx);
    let from = startAfter;
    if (token !== undefined) {
      const decoded = Buffer.from(token, 'base64url').toString('utf8');
      if (token === '' || !decoded.startsWith('1:'))
        throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect');
      from = decoded.slice(2);
    }
    const page = await this.#store.listObjects(bucket, {
      prefix,
      delimiter,
      maxKeys,
      ...(from ? { startAfter: from } : {}),
    });
    const next =
      page.isTruncated && page.nextStartAfter !== undefined
        ? Buffer.from(`1:${page.nextStartAfter}`).toString('base64url')
        : undefined;
    return xmlReply([
      'ListBucketResult',
      [
        ['Name', bucket],
        ['Prefix', enc(prefix)],
        delimiter !== '' ? ['Delimiter', enc(delimiter)] : undefined,
        ['MaxKeys', maxKeys],
        ctx.query.has('encoding-type') ? ['EncodingType', 'url'] : undefined,
        ['KeyCount', page.objects.length + page.commonPrefixes.length],
        ['IsTruncated', page.isTruncated],
        token !== undefined ? ['ContinuationToken', token] : undefined,
        next !== undefined ? ['NextContinuationToken', next] : undefined,
        startAfter !== undefined ? ['StartAfter', enc(startAfter)] : undefined,
        ...page.objects.map((o) => contentsNode(o, enc, ctx.query.get('fetch-owner') === 'true')),
        ...page.commonPrefixes.map((p): XmlNode => ['CommonPrefixes', [['Prefix', enc(p)]]]),
      ],
    ]);
  }

  async #listV1(ctx: Ctx, bucket: string): Promise<Reply> {
    const enc = this.#encoder(ctx);
    const prefix = ctx.query.get('prefix') ?? '';
    const delimiter = ctx.query.get('delimiter') ?? '';
    const marker = ctx.query.get('marker') ?? '';
    const maxKeys = this.#maxKeys(ctx);
    const page = await this.#store.listObjects(bucket, {
      prefix,
      delimiter,
      maxKeys,
      ...(marker ? { startAfter: marker } : {}),
    });
    return xmlReply([
      'ListBucketResult',
      [
        ['Name', bucket],
        ['Prefix', enc(prefix)],
        ['Marker', enc(marker)],
        ['MaxKeys', maxKeys],
        delimiter !== '' ? ['Delimiter', enc(delimiter)] : undefined,
        ctx.query.has('encoding-type') ? ['EncodingType', 'url'] : undefined,
        ['IsTruncated', page.isTruncated],
        page.isTruncated && delimiter !== '' && page.nextStartAfter !== undefined
          ? ['NextMarker', enc(page.nextStartAfter)]
          : undefined,
        ...page.objects.map((o) => contentsNode(o, enc, true)),
        ...page.commonPrefixes.map((p): XmlNode => ['CommonPrefixes', [['Prefix', enc(p)]]]),
      ],
    ]);
  }

  async #listVersions(ctx: Ctx, bucket: string): Promise<Reply> {
    const enc = this.#encoder(ctx);
    const prefix = ctx.query.get('prefix') ?? '';
    const delimiter = ctx.query.get('delimiter') ?? '';
    const keyMarker = ctx.query.get('key-marker') ?? '';
    const maxKeys = this.#maxKeys(ctx);
    const page = await this.#store.listObjects(bucket, {
      prefix,
      delimiter,
      maxKeys,
      ...(keyMarker ? { startAfter: keyMarker } : {}),
    });
    return xmlReply([
      'ListVersionsResult',
      [
        ['Name', bucket],
        ['Prefix', enc(prefix)],
        ['KeyMarker', enc(keyMarker)],
        ['VersionIdMarker', ctx.query.get('version-id-marker') ?? ''],
        page.isTruncated && page.nextStartAfter !== undefined
          ? ['NextKeyMarker', enc(page.nextStartAfter)]
          : undefined,
        page.isTruncated ? ['NextVersionIdMarker', 'null'] : undefined,
        ['MaxKeys', maxKeys],
        delimiter !== '' ? ['Delimiter', enc(delimiter)] : undefined,
        ctx.query.has('encoding-type') ? ['EncodingType', 'url'] : undefined,
        ['IsTruncated', page.isTruncated],
        ...page.objects.map((o): XmlNode => {
          const pub = publicInfo(o);
          return [
            'Version',
            [
              ['Key', enc(o.key)],
              ['VersionId', 'null'],
              ['IsLatest', true],
              ['LastModified', o.lastModified.toISOString()],
              ['ETag', pub.etag],
              ['Size', o.size],
              OWNER,
              ['StorageClass', 'STANDARD'],
            ],
          ];
        }),
        ...page.commonPrefixes.map((p): XmlNode => ['CommonPrefixes', [['Prefix', enc(p)]]]),
      ],
    ]);
  }

  // ---- multipart ----

  async #createUpload(ctx: Ctx, bucket: string, key: string): Promise<Reply> {
    await this.#requireBucket(bucket);
    const { contentType, metadata } = writeOptions(ctx.req);
    const upload = await this.#uploads.create(bucket, key, contentType, metadata);
    return xmlReply([
      'InitiateMultipartUploadResult',
      [
        ['Bucket', bucket],
        ['Key', key],
        ['UploadId', upload.uploadId],
      ],
    ]);
  }

  #partNumber(ctx: Ctx): number {
    const raw = ctx.query.get('partNumber') ?? '';
    const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= 1 && n <= MAX_PARTS)) {
      throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
    }
    return n;
  }

  async #uploadPart(ctx: Ctx, bucket: string, key: string, uploadId: string): Promise<Reply> {
    const partNumber = this.#partNumber(ctx);
    if (headerOf(ctx.req, 'x-amz-copy-source') !== undefined) {
      await this.#uploads.get(uploadId, bucket, key);
      const src = await this.#openSource(ctx);
      let part: PartInfo;
      try {
        const size = src.reader.info.size;
        let range: { start: number; end: number } | undefined;
        const rangeHeader = headerOf(ctx.req, 'x-amz-copy-source-range');
        if (rangeHeader !== undefined) {
          const m = /^bytes=(\d+)-(\d+)$/.exec(rangeHeader.trim());
          const start = m ? Number(m[1]) : NaN;
          const end = m ? Number(m[2]) : NaN;
          if (!(start <= end && end < size)) {
            throw new S3Error(
              'InvalidArgument',
              `Range specified is not valid for source object of size: ${size}`,
            );
          }
          range = { start, end };
        }
        const data = size === 0 ? [EMPTY] : src.reader.stream(range);
        part = await this.#uploads.putPart(uploadId, bucket, key, partNumber, data);
      } finally {
        await src.reader.close();
      }
      return xmlReply([
        'CopyPartResult',
        [
          ['LastModified', part.lastModified.toISOString()],
          ['ETag', part.etag],
        ],
      ]);
    }
    const echo = ctx.upload === undefined ? checkBody(ctx) : undefined;
    const part = await this.#uploads.putPart(
      uploadId,
      bucket,
      key,
      partNumber,
      ctx.upload?.data ?? [ctx.body],
    );
    return { status: 200, headers: { etag: part.etag, ...(echo ?? ctx.upload?.echo()) } };
  }

  async #completeUpload(ctx: Ctx, bucket: string, key: string, uploadId: string): Promise<Reply> {
    await this.#uploads.get(uploadId, bucket, key);
    const doc = parseBody(ctx.body);
    if (doc.name !== 'CompleteMultipartUpload') throw new S3Error('MalformedXML');
    const requested = children(doc, 'Part').map((p) => ({
      partNumber: Number(child(p, 'PartNumber')?.text.trim()),
      etag: normalizeEtag(child(p, 'ETag')?.text ?? ''),
    }));
    if (requested.length === 0 || requested.some((p) => !Number.isInteger(p.partNumber))) {
      throw new S3Error('MalformedXML');
    }
    for (let i = 1; i < requested.length; i++) {
      if (
        (requested[i] as { partNumber: number }).partNumber <=
        (requested[i - 1] as { partNumber: number }).partNumber
      ) {
        throw new S3Error('InvalidPartOrder');
      }
    }
    const info = await this.#uploads.complete(uploadId, bucket, key, async (upload, stored, read) => {
      const chosen: PartInfo[] = [];
      for (const r of requested) {
        const part = stored.get(r.partNumber);
        if (part === undefined || normalizeEtag(part.etag) !== r.etag) throw new S3Error('InvalidPart');
        chosen.push(part);
      }
      chosen.forEach((p, i) => {
        if (i < chosen.length - 1 && p.size < this.#minPartBytes) {
          throw new S3Error('EntityTooSmall', undefined, {
            ProposedSize: String(p.size),
            MinSizeAllowed: String(this.#minPartBytes),
            PartNumber: String(p.partNumber),
          });
        }
      });
      const total = chosen.reduce((n, p) => n + p.size, 0);
      if (total > this.#maxObjectBytes) throw new S3Error('EntityTooLarge');
      const digests = Buffer.concat(chosen.map((p) => Buffer.from(normalizeEtag(p.etag), 'hex')));
      const etag = `"${createHash('md5').update(digests).digest('hex')}-${chosen.length}"`;
      // The parts stream one after another into the store: the object is never in memory.
      async function* concatenated(): AsyncGenerator<Buffer> {
        for (const p of chosen) {
          let got = 0;
          for await (const chunk of read(p.partNumber) as AsyncIterable<Buffer>) {
            got += chunk.length;
            yield chunk;
          }
          if (got !== p.size)
            throw new Error(`Part ${p.partNumber} of upload ${uploadId} changed size on disk.`);
        }
      }
      await this.#store.putObject(bucket, key, concatenated(), {
        contentLength: total,
        ...(upload.contentType !== undefined ? { contentType: upload.contentType } : {}),
        metadata: { ...upload.metadata, [MULTIPART_ETAG_META]: etag },
      });
      return { etag };
    });
    return xmlReply([
      'CompleteMultipartUploadResult',
      [
        ['Location', `http://${ctx.host}/${bucket}/${encodeKey(key)}`],
        ['Bucket', bucket],
        ['Key', key],
        ['ETag', info.etag],
      ],
    ]);
  }

  async #listParts(ctx: Ctx, bucket: string, key: string, uploadId: string): Promise<Reply> {
    const parts = await this.#uploads.listParts(uploadId, bucket, key);
    const marker = Number(ctx.query.get('part-number-marker') ?? '0') || 0;
    const maxParts = this.#maxKeys(ctx, 'max-parts');
    const after = parts.filter((p) => p.partNumber > marker);
    const page = after.slice(0, maxParts);
    const truncated = after.length > page.length;
    return xmlReply([
      'ListPartsResult',
      [
        ['Bucket', bucket],
        ['Key', key],
        ['UploadId', uploadId],
        [
          'Initiator',
          [
            ['ID', 'sluice'],
            ['DisplayName', 'sluice'],
          ],
        ],
        OWNER,
        ['StorageClass', 'STANDARD'],
        ['PartNumberMarker', marker],
        ['NextPartNumberMarker', page[page.length - 1]?.partNumber ?? marker],
        ['MaxParts', maxParts],
        ['IsTruncated', truncated],
        ...page.map((p): XmlNode => [
          'Part',
          [
            ['PartNumber', p.partNumber],
            ['LastModified', p.lastModified.toISOString()],
            ['ETag', p.etag],
            ['Size', p.size],
          ],
        ]),
      ],
    ]);
  }

  async #listUploads(ctx: Ctx, bucket: string): Promise<Reply> {
    await this.#requireBucket(bucket);
    const prefix = ctx.query.get('prefix') ?? '';
    const uploads = (await this.#uploads.listUploads(bucket))
      .filter((u) => u.key.startsWith(prefix))
      .sort((a, b) =>
        a.key < b.key ? -1 : a.key > b.key ? 1 : a.initiated.getTime() - b.initiated.getTime(),
      );
    return xmlReply([
      'ListMultipartUploadsResult',
      [
        ['Bucket', bucket],
        ['KeyMarker', ''],
        ['UploadIdMarker', ''],
        ['Prefix', prefix],
        ['MaxUploads', 1000],
        ['IsTruncated', false],
        ...uploads.map((u): XmlNode => [
          'Upload',
          [
            ['Key', u.key],
            ['UploadId', u.uploadId],
            [
              'Initiator',
              [
                ['ID', 'sluice'],
                ['DisplayName', 'sluice'],
              ],
            ],
            OWNER,
            ['StorageClass', 'STANDARD'],
            ['Initiated', u.initiated.toISOString()],
          ],
        ]),
      ],
    ]);
  }
}

// ---- helpers ----

const RESPONSE_OVERRIDES: ReadonlyArray<readonly [string, string]> = [
  ['response-content-type', 'content-type'],
  ['response-content-disposition', 'content-disposition'],
  ['response-content-encoding', 'content-encoding'],
  ['response-content-language', 'content-language'],
  ['response-cache-control', 'cache-control'],
  ['response-expires', 'expires'],
];

function xmlReply(root: XmlNode): Reply {
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: xmlDocument(root) };
}

function contentsNode(o: ObjectInfo, enc: (s: string) => string, owner: boolean): XmlNode {
  return [
    'Contents',
    [
      ['Key', enc(o.key)],
      ['LastModified', o.lastModified.toISOString()],
      ['ETag', publicInfo(o).etag],
      ['Size', o.size],
      owner ? OWNER : undefined,
      ['StorageClass', 'STANDARD'],
    ],
  ];
}

/** The object as clients see it: a multipart ETag restored, the store's own metadata hidden. */
function publicInfo(info: ObjectInfo): ObjectInfo {
  const meta = info.metadata;
  if (meta === undefined || !(MULTIPART_ETAG_META in meta)) return info;
  const { [MULTIPART_ETAG_META]: etag, ...rest } = meta;
  const { metadata: _dropped, ...base } = info;
  return { ...base, etag: etag ?? info.etag, ...(Object.keys(rest).length > 0 ? { metadata: rest } : {}) };
}

function normalizeEtag(etag: string): string {
  return etag
    .trim()
    .replace(/^"|"$/g, '')
    .replace(/^&quot;|&quot;$/g, '');
}

function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

function headerOf(req: IncomingMessage, name: string): string | undefined;
function headerOf(name: string, req: IncomingMessage): string | undefined;
function headerOf(a: IncomingMessage | string, b: IncomingMessage | string): string | undefined {
  const req = typeof a === 'string' ? (b as IncomingMessage) : a;
  const name = typeof a === 'string' ? a : (b as string);
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Content-Type and x-amz-meta-* of a request, as the store takes them. */
function writeOptions(req: IncomingMessage): { contentType?: string; metadata?: Record<string, string> } {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (
      name.startsWith('x-amz-meta-') &&
      value !== undefined &&
      name !== `x-amz-meta-${MULTIPART_ETAG_META}`
    ) {
      metadata[name.slice('x-amz-meta-'.length)] = Array.isArray(value) ? value.join(',') : value;
    }
  }
  const contentType = headerOf(req, 'content-type');
  return {
    ...(contentType !== undefined ? { contentType } : {}),
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
  };
}

/** Checks Content-MD5 and x-amz-checksum-*; returns the checksum headers to echo. */
function checkBody(ctx: Ctx): Record<string, string> {
  const md5 = headerOf(ctx.req, 'content-md5');
  if (md5 !== undefined) {
    const given = Buffer.from(md5, 'base64');
    if (given.length !== 16 || given.toString('base64') !== md5.trim()) throw new S3Error('InvalidDigest');
    if (!createHash('md5').update(ctx.body).digest().equals(given))
      throw new S3Error('BadDigest', undefined, { ExpectedDigest: md5 });
  }
  return verifyChecksums(ctx.checksums, ctx.body);
}

/** Applies If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since. */
function checkConditions(
  req: IncomingMessage,
  etag: string,
  lastModified: Date,
  headers: Record<string, string | number>,
): void {
  const seconds = Math.floor(lastModified.getTime() / 1000);
  const matches = (list: string): boolean =>
    list
      .split(',')
      .some((t) => t.trim() === '*' || normalizeEtag(t.replace(/^W\//, '')) === normalizeEtag(etag));
  const ifMatch = headerOf(req, 'if-match');
  const ifNoneMatch = headerOf(req, 'if-none-match');
  const ifModified = dateHeader(req, 'if-modified-since');
  const ifUnmodified = dateHeader(req, 'if-unmodified-since');
  if (ifMatch !== undefined) {
    if (!matches(ifMatch)) throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Match' });
  } else if (ifUnmodified !== undefined && seconds > ifUnmodified) {
    throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Unmodified-Since' });
  }
  const notModified = (): S3Error =>
    new S3Error('NotModified', undefined, {
      etag: String(headers['etag']),
      'last-modified': String(headers['last-modified']),
    });
  if (ifNoneMatch !== undefined) {
    if (matches(ifNoneMatch)) throw notModified();
  } else if (ifModified !== undefined && seconds <= ifModified) {
    throw notModified();
  }
}

function dateHeader(req: IncomingMessage, name: string): number | undefined {
  const v = headerOf(req, name);
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/** A satisfiable byte range, undefined to send the whole object; InvalidRange when unsatisfiable. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header);
  // S3 ignores a Range it cannot parse (including several ranges) and sends the whole object.
  if (m === null || (m[1] === '' && m[2] === '')) return undefined;
  const unsatisfiable = (): S3Error =>
    new S3Error('InvalidRange', undefined, { RangeRequested: header, ActualObjectSize: String(size) });
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) throw unsatisfiable();
  return { start, end };
}

function parseBody(body: Buffer): XmlElement {
  try {
    return parseXml(body.toString('utf8'));
  } catch (err) {
    if (err instanceof XmlParseError) throw new S3Error('MalformedXML');
    throw err;
  }
}

function parseQuery(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  if (raw === '') return out;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const k = decodeOrThrow(eq < 0 ? pair : pair.slice(0, eq));
    if (!out.has(k)) out.set(k, eq < 0 ? '' : decodeOrThrow(pair.slice(eq + 1)));
  }
  return out;
}

function decodeOrThrow(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Error('InvalidURI');
  }
}

/** Bucket and key of a request from its Host header and path. */
function address(host: string, rawPath: string): { bucket: string | undefined; key: string | undefined } {
  const hostname = host.toLowerCase().replace(/:\d+$/, '');
  let vhostBucket: string | undefined;
  if (hostname.endsWith('.localhost') && hostname.length > '.localhost'.length) {
    vhostBucket = hostname.slice(0, -'.localhost'.length);
  } else {
    const m = /^(.+)\.s3[.-]/.exec(hostname);
    if (m !== null && !hostname.startsWith('s3.')) vhostBucket = m[1];
  }
  const path = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  if (vhostBucket !== undefined) {
    return { bucket: vhostBucket, key: path === '' ? undefined : decodeOrThrow(path) };
  }
  if (path === '') return { bucket: undefined, key: undefined };
  const slash = path.indexOf('/');
  if (slash < 0) return { bucket: decodeOrThrow(path), key: undefined };
  const key = path.slice(slash + 1);
  return { bucket: decodeOrThrow(path.slice(0, slash)), key: key === '' ? undefined : decodeOrThrow(key) };
}

/** Reads the whole body; EntityTooLarge past `limit` bytes. */
function readBody(req: IncomingMessage, limit: number, isUpload: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      if (err !== undefined) reject(err);
      else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total));
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      total += chunk.length;
      if (total > limit) {
        req.pause();
        finish(
          isUpload
            ? new S3Error('EntityTooLarge')
            : new S3Error('MalformedXML', 'The request body is too large.'),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => finish());
    req.on('aborted', () => finish(new S3Error('IncompleteBody')));
    req.on('error', (err) => finish(err));
  });
}

/**
 * A presigned URL past its X-Amz-Expires is refused even when no keys are configured and the
 * signature itself is not checked: an expired link must not work on any server.
 */
function checkPresignedExpiry(auth: SigV4Success, query: ReadonlyMap<string, string>): void {
  if (!auth.presigned || auth.verified) return;
  const expires = Number(query.get('X-Amz-Expires') ?? '0');
  if (!Number.isFinite(expires) || Date.now() > auth.signedAt.getTime() + expires * 1000) {
    throw new S3Error('AccessDenied', 'Request has expired');
  }
}

function authError(failure: string, message: string, presigned: boolean): S3Error {
  switch (failure) {
    case 'MissingAuthentication':
      return new S3Error('AccessDenied', 'Anonymous access is not allowed; sign the request with SigV4.');
    case 'IncompleteSignature':
    case 'ScopeMismatch':
      return new S3Error(
        presigned ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed',
        message,
      );
    case 'UnknownAccessKey':
      return new S3Error('InvalidAccessKeyId');
    case 'SignatureMismatch':
      return new S3Error('SignatureDoesNotMatch');
    case 'ClockSkew':
      return presigned ? new S3Error('AccessDenied', message) : new S3Error('RequestTimeTooSkewed', message);
    case 'PresignedExpired':
      return new S3Error('AccessDenied', 'Request has expired');
    case 'PayloadHashMismatch':
      return new S3Error('XAmzContentSHA256Mismatch');
    default:
      return new S3Error('AccessDenied', message);
  }
}

/** Any failure as an S3Error; LakeErrors keep their code, anything else is InternalError. */
function toS3Error(err: unknown): S3Error {
  if (err instanceof S3Error) return err;
  if (err instanceof LakeError) return new S3Error(err.code, err.message);
  return new S3Error('InternalError');
}
