/**
 * The PutRecordBatch fast path: a strict byte-level reader for the body every SDK sends,
 *
 *   {"DeliveryStreamName":"<name>","Records":[{"Data":"<base64>"},...]}
 *
 * (either key order, any JSON whitespace), that finds the records' base64 text in the body
 * bytes and decodes all of it with one native call into one Buffer: no JSON.parse, no object
 * or string per record.
 *
 * It accepts only bodies that the full decoder (`parseJsonBody` + `decodePutRecordBatch` in
 * validate.ts) would accept with the same result: a valid stream name, 1 to 500 records, each
 * strict base64 (A-Z a-z 0-9 + / and `=` padding only at the end) within the size limits.
 * Anything else (escapes, unknown or repeated keys, other types, bad base64, limits exceeded)
 * returns undefined, and the caller takes the full decoder, which reports AWS's own errors.
 *
 * @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html
 * @see https://www.rfc-editor.org/rfc/rfc8259 (JSON) and https://www.rfc-editor.org/rfc/rfc4648#section-4 (base64)
 */
import { MAX_BATCH_BYTES, MAX_BATCH_RECORDS, MAX_RECORD_BYTES } from './validate.ts';
import type { DecodedRecords } from './validate.ts';

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const EQUALS = 0x3d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const DASH = 0x2d;
const UNDERSCORE = 0x5f;
const LETTER_A = 0x41;
const MAX_STREAM_NAME = 64;

/** 1 for the bytes a delivery stream name may hold ([a-zA-Z0-9_.-]). */
const NAME_CHAR = new Uint8Array(256);
/** 1 for JSON whitespace. */
const WHITESPACE = new Uint8Array(256);
{
  for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-') {
    NAME_CHAR[c.charCodeAt(0)] = 1;
  }
  for (const c of ' \t\n\r') WHITESPACE[c.charCodeAt(0)] = 1;
}

const KEY_STREAM_NAME = Buffer.from('"DeliveryStreamName"');
const KEY_RECORDS = Buffer.from('"Records"');
const KEY_DATA = Buffer.from('"Data"');

/** Start and end byte of each record's base64 text; reused, as scanning never yields. */
const spanStart = new Int32Array(MAX_BATCH_RECORDS);
const spanEnd = new Int32Array(MAX_BATCH_RECORDS);
const spanSize = new Int32Array(MAX_BATCH_RECORDS);

function skipWhitespace(b: Buffer, p: number): number {
  while (p < b.length && WHITESPACE[b[p] as number] === 1) p++;
  return p;
}

function startsWith(b: Buffer, p: number, key: Buffer): boolean {
  if (p + key.length > b.length) return false;
  for (let i = 0; i < key.length; i++) if (b[p + i] !== key[i]) return false;
  return true;
}

/**
 * Decodes a PutRecordBatch body of the common shape; undefined when the body is anything
 * else or would fail validation (then the full decoder must handle it).
 */
export function scanPutRecordBatch(body: Buffer): DecodedRecords | undefined {
  const len = body.length;
  let streamName: string | undefined;
  let count = -1;
  let total = 0;
  let p = skipWhitespace(body, 0);
  if (body[p] !== OPEN_BRACE) return undefined;
  for (;;) {
    p = skipWhitespace(body, p + 1);
    if (streamName === undefined && startsWith(body, p, KEY_STREAM_NAME)) {
      p = skipWhitespace(body, p + KEY_STREAM_NAME.length);
      if (body[p] !== COLON) return undefined;
      p = skipWhitespace(body, p + 1);
      if (body[p] !== QUOTE) return undefined;
      const start = ++p;
      while (p < len && NAME_CHAR[body[p] as number] === 1) p++;
      if (body[p] !== QUOTE || p === start || p - start > MAX_STREAM_NAME) return undefined;
      streamName = body.toString('latin1', start, p);
      p++;
    } else if (count === -1 && startsWith(body, p, KEY_RECORDS)) {
      p = skipWhitespace(body, p + KEY_RECORDS.length);
      if (body[p] !== COLON) return undefined;
      p = skipWhitespace(body, p + 1);
      if (body[p] !== OPEN_BRACKET) return undefined;
      count = 0;
      for (;;) {
        if (count === MAX_BATCH_RECORDS) return undefined;
        p = skipWhitespace(body, p + 1);
        if (body[p] !== OPEN_BRACE) return undefined;
        p = skipWhitespace(body, p + 1);
        if (!startsWith(body, p, KEY_DATA)) return undefined;
        p = skipWhitespace(body, p + KEY_DATA.length);
        if (body[p] !== COLON) return undefined;
        p = skipWhitespace(body, p + 1);
        if (body[p] !== QUOTE) return undefined;
        const start = p + 1;
        const end = body.indexOf(QUOTE, start);
        const chars = end - start;
        // A backslash escape in the text is not base64 either; decode() turns such records away.
        if (end === -1 || (chars & 3) !== 0) return undefined;
        const pad = chars === 0 || body[end - 1] !== EQUALS ? 0 : body[end - 2] !== EQUALS ? 1 : 2;
        const size = (chars >>> 2) * 3 - pad;
        if (size > MAX_RECORD_BYTES) return undefined;
        spanStart[count] = start;
        spanEnd[count] = end;
        spanSize[count] = size;
        total += size;
        count++;
        p = skipWhitespace(body, end + 1);
        if (body[p] !== CLOSE_BRACE) return undefined;
        p = skipWhitespace(body, p + 1);
        if (body[p] === CLOSE_BRACKET) break;
        if (body[p] !== COMMA) return undefined;
      }
      p++;
    } else {
      return undefined;
    }
    p = skipWhitespace(body, p);
    if (body[p] === CLOSE_BRACE) break;
    if (body[p] !== COMMA) return undefined;
  }
  if (skipWhitespace(body, p + 1) !== len) return undefined;
  if (streamName === undefined || count < 1 || total > MAX_BATCH_BYTES) return undefined;

  const data = decode(body, count);
  if (data === undefined) return undefined;
  const records = new Array<Buffer>(count);
  let at = 0;
  for (let k = 0; k < count; k++) {
    records[k] = data.subarray(at, at + (spanSize[k] as number));
    at += (((spanEnd[k] as number) - (spanStart[k] as number)) >>> 2) * 3;
  }
  return { streamName, records, totalBytes: total };
}

/** Space for the records' base64 text of a usual batch; larger ones take a buffer of their own. */
const scratch = Buffer.allocUnsafe(128 * 1024);

/**
 * Decodes every span with one native call: their text is copied back to back, `=` padding
 * replaced by `A` (the 1-2 bytes that padding hides decode as junk between two records).
 * Node's decoder skips bytes outside the alphabet and stops at `=`, so text that is not
 * strict base64 decodes to fewer bytes than its length promises; the URL-safe `-` and `_`,
 * which Node accepts and AWS does not, are looked for. Undefined when a span is not strict base64.
 */
function decode(body: Buffer, count: number): Buffer | undefined {
  let chars = 0;
  for (let k = 0; k < count; k++) chars += (spanEnd[k] as number) - (spanStart[k] as number);
  const text = chars <= scratch.length ? scratch : Buffer.allocUnsafe(chars);
  let at = 0;
  for (let k = 0; k < count; k++) {
    at += body.copy(text, at, spanStart[k] as number, spanEnd[k] as number);
    if (text[at - 1] === EQUALS) {
      text[at - 1] = LETTER_A;
      if (text[at - 2] === EQUALS) text[at - 2] = LETTER_A;
    }
  }
  const used = text.subarray(0, at);
  if (used.indexOf(DASH) !== -1 || used.indexOf(UNDERSCORE) !== -1) return undefined;
  const bytes = (at >>> 2) * 3;
  const data = Buffer.allocUnsafe(bytes);
  if (bytes > 0 && data.write(used.toString('latin1'), 0, bytes, 'base64') !== bytes) return undefined;
  return data;
}
