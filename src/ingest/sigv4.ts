/**
 * AWS Signature Version 4 verification for any AWS-shaped HTTP API (Firehose now, S3 later).
 *
 * The server rebuilds the request the client signed (method, path, query, the headers named in
 * SignedHeaders, the payload hash), signs it again with `@smithy/signature-v4` (the signer the
 * AWS SDKs use) under the same date and credential scope, and compares the two signatures in
 * constant time. Both forms are verified: the `Authorization` header and presigned URLs
 * (`X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=...&X-Amz-Signature=...`).
 *
 * Failures carry a protocol-neutral reason and AWS's message text; each protocol maps the
 * reason to its own error (Firehose: `InvalidSignatureException`, S3: `SignatureDoesNotMatch`).
 *
 * Known limit: the client must sign `x-amz-date` (every AWS SDK does); a signature made over
 * the `Date` header alone does not verify.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Hash as NodeHash, Hmac as NodeHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

/** The parts of an HTTP request that a SigV4 signature covers. */
export interface SigV4RequestParts {
  /** HTTP method, e.g. `POST`. */
  readonly method: string;
  /** The request target as received (`IncomingMessage.url`): path and optional `?query`, still percent-encoded. */
  readonly url: string;
  /** Request headers with lower-case names, as Node gives them. */
  readonly headers: IncomingHttpHeaders;
  /**
   * The exact request body. It is hashed (once, with node:crypto) only when a signature has to be
   * checked and the request carries no signed `x-amz-content-sha256` header. When that header is
   * signed (S3), the signature covers its value and the caller must check the body against it.
   */
  readonly body?: Uint8Array;
  /** Hex SHA-256 of the body, when the caller already has it; saves hashing `body`. */
  readonly payloadHash?: string;
}

/** How to verify. */
export interface SigV4VerifyOptions {
  /** Signing name the credential scope must name, e.g. `firehose` or `s3`. */
  readonly service: string;
  /**
   * Returns the secret access key of an access key id, or undefined when the key is unknown.
   * Omit it to accept any well-formed signature (nothing is checked beyond the form).
   */
  readonly secretFor?: (accessKeyId: string) => string | undefined;
  /**
   * Largest accepted difference between the signed time and now (header form). AWS JSON
   * services (Kinesis, Firehose) answer "... - 5 min." so the default is 5 minutes.
   */
  readonly maxClockSkewMs?: number;
  /** Whether the canonical path is URI-encoded once more; true for every service but S3. */
  readonly uriEscapePath?: boolean;
  /** The clock, in ms since the epoch; defaults to Date.now. */
  readonly now?: () => number;
}

/** Why a request failed authentication, independent of protocol. */
export type SigV4Failure =
  /** No Authorization header and no X-Amz-Algorithm query parameter. */
  | 'MissingAuthentication'
  /** The Authorization header, credential or date is malformed or missing a part. */
  | 'IncompleteSignature'
  /** The credential scope names another service, terminator or date. */
  | 'ScopeMismatch'
  /** The access key id is not configured. */
  | 'UnknownAccessKey'
  /** The signature does not match. */
  | 'SignatureMismatch'
  /** The signed time is too far from now (header form). */
  | 'ClockSkew'
  /** A presigned URL's X-Amz-Expires has passed. */
  | 'PresignedExpired'
  /** A signed `x-amz-content-sha256` holds a hash that is not the body's. */
  | 'PayloadHashMismatch';

/** A request that passed verification. */
export interface SigV4Success {
  readonly ok: true;
  /** The access key id that signed. */
  readonly accessKeyId: string;
  /** The region in the credential scope (any region is accepted). */
  readonly region: string;
  /** The signing time. */
  readonly signedAt: Date;
  /** True when the signature came in the query string (a presigned URL). */
  readonly presigned: boolean;
  /** True when the signature itself was checked (false when no secrets are configured). */
  readonly verified: boolean;
}

/** A request that failed verification. */
export interface SigV4Rejection {
  readonly ok: false;
  /** Why. */
  readonly failure: SigV4Failure;
  /** AWS's message text for it. */
  readonly message: string;
}

/** The outcome of verifySigV4. */
export type SigV4Result = SigV4Success | SigV4Rejection;

/** The parsed parts of a SigV4 signature, from the header or the query string. */
export interface ParsedSigV4 {
  /** Access key id. */
  readonly accessKeyId: string;
  /** Credential scope date, `YYYYMMDD`. */
  readonly scopeDate: string;
  /** Credential scope region. */
  readonly region: string;
  /** Credential scope service. */
  readonly service: string;
  /** Credential scope terminator (`aws4_request`). */
  readonly terminator: string;
  /** Signed header names, lower case, as listed. */
  readonly signedHeaders: readonly string[];
  /** Hex signature. */
  readonly signature: string;
  /** The signing time, `YYYYMMDDTHHMMSSZ`. */
  readonly amzDate: string;
  /** Presigned URLs only: X-Amz-Expires in seconds. */
  readonly expiresIn?: number;
}

/** Bytes or text to hash, as smithy's hashing interface passes them. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

const ALGORITHM = 'AWS4-HMAC-SHA256';
const DEFAULT_MAX_SKEW_MS = 5 * 60 * 1000;
const AMZ_DATE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const SHA256_HEX_RE = /^[0-9a-f]{64}$/;
const MAX_PRESIGNED_EXPIRES = 7 * 24 * 3600;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** SHA-256 of bytes as lower-case hex, with node:crypto. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * smithy's Checksum interface over node:crypto: SHA-256, or HMAC-SHA256 when given a secret.
 * Native hashing keeps verification cheap at thousands of requests per second.
 */
class NodeSha256 {
  private readonly secret: SourceData | undefined;
  private hash: NodeHash | NodeHmac;

  constructor(secret?: SourceData) {
    this.secret = secret;
    this.hash = NodeSha256.start(secret);
  }

  private static start(secret: SourceData | undefined): NodeHash | NodeHmac {
    return secret === undefined ? createHash('sha256') : createHmac('sha256', toBinary(secret));
  }

  update(data: Uint8Array): void {
    this.hash.update(data);
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest());
  }

  reset(): void {
    this.hash = NodeSha256.start(this.secret);
  }
}

function toBinary(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** Splits `url` into the path and the raw query (without `?`). */
function splitUrl(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

/** Decodes a query string into smithy's query bag, keeping repeated keys as arrays. */
function parseQuery(raw: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  if (raw === '') return out;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = safeDecode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : safeDecode(pair.slice(eq + 1));
    const prev = out[key];
    if (prev === undefined) out[key] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[key] = [prev, value];
  }
  return out;
}

function safeDecode(s: string): string {
  // '+' is not a space in SigV4 canonical queries: clients encode spaces as %20.
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : v;
}

/** The payload hash a presigned URL names (hoisted from the header, so any letter case). */
function queryHashOf(query: Record<string, string | string[]>): string | undefined {
  for (const key of Object.keys(query)) {
    if (key.toLowerCase() === 'x-amz-content-sha256') return firstValue(query[key]);
  }
  return undefined;
}

function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function reject(failure: SigV4Failure, message: string): SigV4Rejection {
  return { ok: false, failure, message };
}

/** Parses an `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` header value. */
export function parseAuthorizationHeader(
  authorization: string,
  amzDate: string | undefined,
): ParsedSigV4 | SigV4Rejection {
  const trimmed = authorization.trim();
  const space = trimmed.indexOf(' ');
  const algorithm = space < 0 ? trimmed : trimmed.slice(0, space);
  const fields = new Map<string, string>();
  if (algorithm === ALGORITHM) {
    for (const part of trimmed.slice(space + 1).split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
  }
  const problems: string[] = [];
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined) problems.push("Authorization header requires 'Credential' parameter.");
  if (signature === undefined) problems.push("Authorization header requires 'Signature' parameter.");
  if (signedHeaders === undefined) problems.push("Authorization header requires 'SignedHeaders' parameter.");
  if (amzDate === undefined) {
    problems.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  if (
    problems.length > 0 ||
    credential === undefined ||
    signedHeaders === undefined ||
    signature === undefined
  ) {
    return reject('IncompleteSignature', `${problems.join(' ')} Authorization=${trimmed}`);
  }
  return finishParse(credential, signedHeaders, signature, amzDate ?? '', undefined);
}

/** Parses the SigV4 query parameters of a presigned URL. */
export function parsePresignedQuery(query: Record<string, string | string[]>): ParsedSigV4 | SigV4Rejection {
  const get = (k: string): string | undefined => {
    const v = query[k];
    return Array.isArray(v) ? v[0] : v;
  };
  const algorithm = get('X-Amz-Algorithm');
  const credential = get('X-Amz-Credential');
  const signedHeaders = get('X-Amz-SignedHeaders');
  const signature = get('X-Amz-Signature');
  const amzDate = get('X-Amz-Date');
  const expires = get('X-Amz-Expires');
  const missing = [
    ['X-Amz-Algorithm', algorithm],
    ['X-Amz-Credential', credential],
    ['X-Amz-Signature', signature],
    ['X-Amz-SignedHeaders', signedHeaders],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', expires],
  ].filter(([, v]) => v === undefined);
  if (algorithm !== undefined && algorithm !== ALGORITHM) {
    return reject('IncompleteSignature', `X-Amz-Algorithm only supports "${ALGORITHM}".`);
  }
  if (
    missing.length > 0 ||
    credential === undefined ||
    signedHeaders === undefined ||
    signature === undefined
  ) {
    return reject(
      'IncompleteSignature',
      `Query-string authentication requires the ${missing.map(([k]) => k).join(', ')} parameters.`,
    );
  }
  const expiresIn = Number(expires);
  if (!/^\d+$/.test(expires ?? '') || expiresIn > MAX_PRESIGNED_EXPIRES) {
    return reject(
      'IncompleteSignature',
      `X-Amz-Expires must be a whole number of seconds from 0 to ${MAX_PRESIGNED_EXPIRES}.`,
    );
  }
  return finishParse(credential, signedHeaders, signature, amzDate ?? '', expiresIn);
}

function finishParse(
  credential: string,
  signedHeaders: string,
  signature: string,
  amzDate: string,
  expiresIn: number | undefined,
): ParsedSigV4 | SigV4Rejection {
  const scope = credential.split('/');
  if (scope.length !== 5 || scope.some((p) => p === '')) {
    return reject(
      'IncompleteSignature',
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`,
    );
  }
  const [accessKeyId, scopeDate, region, service, terminator] = scope as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (!AMZ_DATE_RE.test(amzDate)) {
    return reject(
      'IncompleteSignature',
      `Date must be in ISO-8601 'basic format'. Got '${amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  }
  return {
    accessKeyId,
    scopeDate,
    region,
    service,
    terminator,
    signedHeaders: signedHeaders.split(';').map((h) => h.trim().toLowerCase()),
    signature: signature.toLowerCase(),
    amzDate,
    ...(expiresIn === undefined ? {} : { expiresIn }),
  };
}

function amzDateToMs(amzDate: string): number {
  const m = AMZ_DATE_RE.exec(amzDate);
  if (m === null) return Number.NaN;
  const [, y, mo, d, h, mi, s] = m as unknown as [string, string, string, string, string, string, string];
  return Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
}

function formatAmzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Verifies a SigV4-signed request (Authorization header or presigned URL). Never throws for
 * bad input; answers why a request is rejected.
 */
export async function verifySigV4(
  parts: SigV4RequestParts,
  options: SigV4VerifyOptions,
): Promise<SigV4Result> {
  const { path, query: rawQuery } = splitUrl(parts.url);
  const authorization = headerValue(parts.headers, 'authorization');
  const query = parseQuery(rawQuery);
  const presigned = authorization === undefined && query['X-Amz-Algorithm'] !== undefined;
  if (authorization === undefined && !presigned) {
    return reject('MissingAuthentication', 'Missing Authentication Token');
  }
  const parsed = presigned
    ? parsePresignedQuery(query)
    : parseAuthorizationHeader(authorization ?? '', headerValue(parts.headers, 'x-amz-date'));
  if ('ok' in parsed) return parsed;

  if (parsed.service !== options.service) {
    return reject('ScopeMismatch', `Credential should be scoped to correct service: '${options.service}'. `);
  }
  if (parsed.terminator !== 'aws4_request') {
    return reject(
      'ScopeMismatch',
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${parsed.terminator}'. `,
    );
  }
  const signedMs = amzDateToMs(parsed.amzDate);
  if (parsed.scopeDate !== parsed.amzDate.slice(0, 8)) {
    return reject(
      'ScopeMismatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${parsed.scopeDate}' != '${parsed.amzDate.slice(0, 8)}', from '${parsed.amzDate}'.`,
    );
  }
  const base = {
    ok: true as const,
    accessKeyId: parsed.accessKeyId,
    region: parsed.region,
    signedAt: new Date(signedMs),
    presigned,
  };
  const now = (options.now ?? Date.now)();
  // An expired link must not work on any server, even one that checks no signatures.
  if (presigned && now > signedMs + (parsed.expiresIn ?? 0) * 1000)
    return reject('PresignedExpired', 'Request has expired');
  if (options.secretFor === undefined) return { ...base, verified: false };

  const secret = options.secretFor(parsed.accessKeyId);
  if (secret === undefined) {
    return reject('UnknownAccessKey', 'The security token included in the request is invalid.');
  }

  if (presigned) {
    if (signedMs - now > (options.maxClockSkewMs ?? DEFAULT_MAX_SKEW_MS)) {
      return reject('ClockSkew', 'Request is not valid yet');
    }
  } else {
    const skew = options.maxClockSkewMs ?? DEFAULT_MAX_SKEW_MS;
    const minutes = Math.round(skew / 60000);
    if (signedMs < now - skew) {
      return reject(
        'ClockSkew',
        `Signature expired: ${parsed.amzDate} is now earlier than ${formatAmzDate(now - skew)} (${formatAmzDate(now)} - ${minutes} min.)`,
      );
    }
    if (signedMs > now + skew) {
      return reject(
        'ClockSkew',
        `Signature not yet current: ${parsed.amzDate} is still later than ${formatAmzDate(now + skew)} (${formatAmzDate(now)} + ${minutes} min.)`,
      );
    }
  }

  const expected = await computeSignature(parts, path, query, parsed, secret, presigned, options);
  if (expected === undefined || !constantTimeEqualHex(expected, parsed.signature)) {
    return reject(
      'SignatureMismatch',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
  const claimed = presigned ? queryHashOf(query) : headerValue(parts.headers, 'x-amz-content-sha256');
  // A signed x-amz-content-sha256 means the signature covers the claimed hash, not the body.
  if (claimed !== undefined && SHA256_HEX_RE.test(claimed) && parts.body !== undefined) {
    if (claimed !== (parts.payloadHash ?? sha256Hex(parts.body))) {
      return reject(
        'PayloadHashMismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      );
    }
  }
  return { ...base, verified: true };
}

function constantTimeEqualHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));
}

/** Signs the rebuilt request again; undefined when a signed header is absent. */
async function computeSignature(
  parts: SigV4RequestParts,
  rawPath: string,
  query: Record<string, string | string[]>,
  parsed: ParsedSigV4,
  secret: string,
  presigned: boolean,
  options: SigV4VerifyOptions,
): Promise<string | undefined> {
  const uriEscapePath = options.uriEscapePath ?? true;
  const headers: Record<string, string> = {};
  for (const name of parsed.signedHeaders) {
    const value = name === 'x-amz-date' && !presigned ? parsed.amzDate : headerValue(parts.headers, name);
    if (value === undefined) return undefined;
    headers[name] = value;
  }
  const signed = new Set(parsed.signedHeaders);
  // The payload hash goes in as a header so the body is hashed once, here, with node:crypto;
  // listing it as unsignable keeps it out of the canonical headers when the client did not sign it.
  const unsignable = new Set<string>();
  if (!signed.has('x-amz-content-sha256')) {
    // A presigned URL names its payload hash in the (signed) query; S3's default is
    // UNSIGNED-PAYLOAD. Otherwise the body itself is signed: an unsigned x-amz-content-sha256
    // header is never trusted, as it would let a body be swapped.
    const queryHash = presigned ? queryHashOf(query) : undefined;
    headers['x-amz-content-sha256'] =
      queryHash ?? (presigned && options.service === 's3' ? 'UNSIGNED-PAYLOAD' : payloadHashOf(parts));
    unsignable.add('x-amz-content-sha256');
  }
  const requestQuery: Record<string, string | string[]> = {};
  for (const key of Object.keys(query)) {
    if (key !== 'X-Amz-Signature') requestQuery[key] = query[key] as string | string[];
  }
  // The unescaped path, so smithy's single encoding reproduces what the client signed.
  const path = uriEscapePath ? safeDecode(rawPath) : rawPath;
  const request = new HttpRequest({
    method: parts.method.toUpperCase(),
    protocol: 'http:',
    hostname: headerValue(parts.headers, 'host') ?? '',
    path,
    query: requestQuery,
    headers,
  });
  const signer = new SignatureV4({
    credentials: { accessKeyId: parsed.accessKeyId, secretAccessKey: secret },
    region: parsed.region,
    service: parsed.service,
    sha256: NodeSha256,
    uriEscapePath,
    applyChecksum: false,
  });
  const signingDate = new Date(amzDateToMs(parsed.amzDate));
  if (presigned) {
    const out = await signer.presign(request, {
      signingDate,
      expiresIn: parsed.expiresIn ?? 0,
      signableHeaders: signed,
      unsignableHeaders: unsignable,
      // Headers stay where the client put them: nothing is hoisted into the query.
      unhoistableHeaders: new Set(Object.keys(headers)),
    });
    const sig = out.query?.['X-Amz-Signature'];
    return typeof sig === 'string' ? sig : undefined;
  }
  const out = await signer.sign(request, {
    signingDate,
    signableHeaders: signed,
    unsignableHeaders: unsignable,
  });
  const auth = out.headers['authorization'] ?? '';
  const at = auth.lastIndexOf('Signature=');
  return at < 0 ? undefined : auth.slice(at + 'Signature='.length);
}

function payloadHashOf(parts: SigV4RequestParts): string {
  if (parts.payloadHash !== undefined && SHA256_HEX_RE.test(parts.payloadHash)) return parts.payloadHash;
  if (parts.body === undefined || parts.body.byteLength === 0) return EMPTY_SHA256;
  return sha256Hex(parts.body);
}
