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

/** Decodes an aws-chunked body; IncompleteBody when it is cut short or malformed. */
export function decodeAwsChunked(body: Buffer, verify?: ChunkVerification): DecodedChunks {
  const parts: Buffer[] = [];
  let pos = 0;
  let previous = verify?.seed ?? '';
  for (;;) {
    const eol = body.indexOf('\r\n', pos);
    if (eol < 0) throw incomplete('a chunk header is missing');
    const header = body.toString('latin1', pos, eol);
    const semi = header.indexOf(';');
    const sizeText = (semi < 0 ? header : header.slice(0, semi)).trim();
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText)) throw incomplete(`bad chunk size ${JSON.stringify(sizeText)}`);
    const size = parseInt(sizeText, 16);
    let signature: string | undefined;
    if (semi >= 0) {
      const ext = header.slice(semi + 1).trim();
      if (ext.startsWith('chunk-signature=')) signature = ext.slice('chunk-signature='.length);
    }
    pos = eol + 2;
    if (pos + size > body.length) throw incomplete('a chunk is shorter than its size');
    const data = body.subarray(pos, pos + size);
    if (verify !== undefined && signature !== undefined) {
      if (verify.signer.chunk(previous, data) !== signature) throw signatureMismatch();
      previous = signature;
    } else if (verify !== undefined) {
      throw signatureMismatch();
    }
    pos += size;
    if (size === 0) break;
    if (body.toString('latin1', pos, pos + 2) !== '\r\n') throw incomplete('a chunk does not end with CRLF');
    pos += 2;
    parts.push(data);
  }
  const trailers = new Map<string, string>();
  let trailerText = '';
  let trailerSignature: string | undefined;
  for (;;) {
    const eol = body.indexOf('\r\n', pos);
    if (eol < 0) {
      // A signed stream without trailers may end right after the last chunk's header.
      if (pos === body.length && trailers.size === 0 && trailerSignature === undefined) break;
      throw incomplete('the trailer is not terminated');
    }
    const line = body.toString('utf8', pos, eol);
    pos = eol + 2;
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0) throw incomplete(`bad trailer line ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') trailerSignature = value;
    else {
      trailers.set(name, value);
      trailerText += `${name}:${value}\n`;
    }
  }
  if (verify !== undefined && trailerSignature !== undefined) {
    if (verify.signer.trailer(previous, trailerText) !== trailerSignature) throw signatureMismatch();
  }
  return { data: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts), trailers };
}
