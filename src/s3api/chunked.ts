/**
 * The aws-chunked content encoding S3 clients use for streaming uploads:
 *
 *   <hex size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n
 *   [<trailer name>:<value>\r\n ...][x-amz-trailer-signature:<sig>\r\n]\r\n
 *
 * `x-amz-content-sha256` names the variant: STREAMING-AWS4-HMAC-SHA256-PAYLOAD (signed
 * chunks), STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER (signed chunks and trailer),
 * STREAMING-UNSIGNED-PAYLOAD-TRAILER (plain chunks and a trailer, usually a checksum).
 * Chunk signatures chain from the request's own signature.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
 */
import { createHash, createHmac } from 'node:crypto';
import { S3Error } from './errors.ts';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Computes the signatures a signed stream's chunks must carry. */
export interface ChunkSigner {
  /** The signature of the chunk after `previous` carrying `data`. */
  chunk(previous: string, data: Uint8Array): string;
  /** The same, given the hex SHA-256 of the chunk's data (hashed as it streamed in). */
  chunkOfHash(previous: string, dataSha256Hex: string): string;
  /** The signature of the trailer after `previous`, over its canonical text. */
  trailer(previous: string, canonical: string): string;
}

/** Makes a ChunkSigner for a request signed at `amzDate` with this key and scope. */
export function createChunkSigner(
  secret: string,
  amzDate: string,
  region: string,
  service: string,
): ChunkSigner {
  const date = amzDate.slice(0, 8);
  const scope = `${date}/${region}/${service}/aws4_request`;
  let key: Buffer = createHmac('sha256', `AWS4${secret}`).update(date).digest();
  for (const part of [region, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  const sign = (s: string): string => createHmac('sha256', key).update(s).digest('hex');
  const sha = (d: Uint8Array | string): string => createHash('sha256').update(d).digest('hex');
  return {
    chunk: (previous, data) =>
      sign(`AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${previous}\n${EMPTY_SHA256}\n${sha(data)}`),
    chunkOfHash: (previous, hash) =>
      sign(`AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${previous}\n${EMPTY_SHA256}\n${hash}`),
    trailer: (previous, canonical) =>
      sign(`AWS4-HMAC-SHA256-TRAILER\n${amzDate}\n${scope}\n${previous}\n${sha(canonical)}`),
  };
}

/** A decoded aws-chunked body. */
export interface DecodedChunks {
  /** The payload. */
  readonly data: Buffer;
  /** Trailing headers, lower-case names (without x-amz-trailer-signature). */
  readonly trailers: ReadonlyMap<string, string>;
}

/** How to check signatures while decoding. */
export interface ChunkVerification {
  /** The request's signature, which the first chunk's signature chains from. */
  readonly seed: string;
  /** The signer; chunk signatures are required and checked when given. */
  readonly signer: ChunkSigner;
}

function incomplete(why: string): S3Error {
  return new S3Error('IncompleteBody', `The aws-chunked body is incomplete: ${why}.`);
}

function signatureMismatch(): S3Error {
  return new S3Error(
    'SignatureDoesNotMatch',
    'The chunk signature we calculated does not match the one you provided.',
  );
}

/** Longest chunk header or trailer line accepted (a signature header is about 100 bytes). */
const MAX_LINE_BYTES = 8 * 1024;

/**
 * An aws-chunked decoder fed piece by piece, so a body of any size streams through it: push
 * bytes as they arrive and get the payload bytes decoded so far; end() checks the body ended
 * where it should and returns the trailers. Chunk signatures are checked as each chunk ends.
 */
export class AwsChunkedDecoder {
  readonly #verify: ChunkVerification | undefined;
  #previous: string;
  #pending: Buffer = Buffer.alloc(0);
  #state: 'header' | 'data' | 'crlf' | 'trailer' | 'done' = 'header';
  #remaining = 0;
  #signature: string | undefined;
  #hash: ReturnType<typeof createHash> | undefined;
  readonly #trailers = new Map<string, string>();
  #trailerText = '';
  #trailerSignature: string | undefined;

  /** Starts a body; with `verify`, every chunk must carry a valid signature. */
  constructor(verify?: ChunkVerification) {
    this.#verify = verify;
    this.#previous = verify?.seed ?? '';
  }

  /** Feeds the next bytes of the body; returns the payload bytes they complete. */
  push(bytes: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let buf = this.#pending.length === 0 ? bytes : Buffer.concat([this.#pending, bytes]);
    let pos = 0;
    for (;;) {
      if (this.#state === 'data') {
        const take = Math.min(this.#remaining, buf.length - pos);
        if (take > 0) {
          const data = buf.subarray(pos, pos + take);
          this.#hash?.update(data);
          out.push(data);
          pos += take;
          this.#remaining -= take;
        }
        if (this.#remaining > 0) break;
        this.#checkChunk();
        this.#state = 'crlf';
        continue;
      }
      if (this.#state === 'crlf') {
        if (buf.length - pos < 2) break;
        if (buf[pos] !== 0x0d || buf[pos + 1] !== 0x0a) throw incomplete('a chunk does not end with CRLF');
        pos += 2;
        this.#state = 'header';
        continue;
      }
      if (this.#state === 'done') {
        if (pos < buf.length) throw incomplete('bytes follow the end of the body');
        break;
      }
      const eol = buf.indexOf('\r\n', pos);
      if (eol < 0) {
        if (buf.length - pos > MAX_LINE_BYTES) throw incomplete('a line is too long');
        break;
      }
      const line = buf.toString(this.#state === 'header' ? 'latin1' : 'utf8', pos, eol);
      pos = eol + 2;
      if (this.#state === 'header') this.#header(line);
      else this.#trailer(line);
    }
    // Keep only what is not decoded yet: at most one partial line or CRLF.
    buf = buf.subarray(pos);
    this.#pending = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
    return out;
  }

  /** Ends the body; IncompleteBody when it is cut short. Returns the trailers (lower-case names). */
  end(): ReadonlyMap<string, string> {
    if (this.#state === 'trailer' && this.#pending.length === 0 && this.#trailers.size === 0) {
      // A signed stream without trailers may end right after the last chunk's header.
      this.#state = 'done';
    }
    if (this.#state !== 'done') {
      throw incomplete(
        this.#state === 'trailer' ? 'the trailer is not terminated' : 'a chunk is shorter than its size',
      );
    }
    if (this.#verify !== undefined && this.#trailerSignature !== undefined) {
      if (this.#verify.signer.trailer(this.#previous, this.#trailerText) !== this.#trailerSignature)
        throw signatureMismatch();
    }
    return this.#trailers;
  }

  #header(header: string): void {
    const semi = header.indexOf(';');
    const sizeText = (semi < 0 ? header : header.slice(0, semi)).trim();
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText)) throw incomplete(`bad chunk size ${JSON.stringify(sizeText)}`);
    this.#remaining = parseInt(sizeText, 16);
    this.#signature = undefined;
    if (semi >= 0) {
      const ext = header.slice(semi + 1).trim();
      if (ext.startsWith('chunk-signature=')) this.#signature = ext.slice('chunk-signature='.length);
    }
    if (this.#verify !== undefined && this.#signature === undefined) throw signatureMismatch();
    this.#hash = this.#verify !== undefined ? createHash('sha256') : undefined;
    if (this.#remaining === 0) {
      this.#checkChunk();
      this.#state = 'trailer';
    } else {
      this.#state = 'data';
    }
  }

  #checkChunk(): void {
    if (this.#verify === undefined || this.#hash === undefined || this.#signature === undefined) return;
    if (this.#verify.signer.chunkOfHash(this.#previous, this.#hash.digest('hex')) !== this.#signature)
      throw signatureMismatch();
    this.#previous = this.#signature;
  }

  #trailer(line: string): void {
    if (line === '') {
      this.#state = 'done';
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw incomplete(`bad trailer line ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') this.#trailerSignature = value;
    else {
      this.#trailers.set(name, value);
      this.#trailerText += `${name}:${value}\n`;
    }
  }
}

/** Decodes a whole aws-chunked body; IncompleteBody when it is cut short or malformed. */
export function decodeAwsChunked(body: Buffer, verify?: ChunkVerification): DecodedChunks {
  const decoder = new AwsChunkedDecoder(verify);
  const parts = decoder.push(body);
  const trailers = decoder.end();
  return { data: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts), trailers };
}
