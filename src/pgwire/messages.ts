/**
 * PostgreSQL v3 message framing: splitting the byte stream into messages and encoding the
 * backend messages the server sends.
 *
 * @see https://www.postgresql.org/docs/15/protocol-message-formats.html
 */

/** Protocol version 3.0 in a StartupMessage. */
export const PROTOCOL_3_0 = 196608;
/** CancelRequest code. */
export const CANCEL_REQUEST_CODE = 80877102;
/** SSLRequest code. */
export const SSL_REQUEST_CODE = 80877103;
/** GSSENCRequest code. */
export const GSSENC_REQUEST_CODE = 80877104;
/** Largest message accepted (PostgreSQL's own limit for most messages is 1 GB; this is plenty for SQL). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** One frontend message: its type byte and its body (without the length). */
export interface FrontendMessage {
  /** Type byte as a character, or '' for the untyped startup-phase packet. */
  readonly type: string;
  /** Body after the length word. */
  readonly body: Buffer;
}

/** Thrown when the byte stream breaks the framing rules. */
export class ProtocolViolation extends Error {
  override readonly name = 'ProtocolViolation';
}

/** Accumulates socket bytes and yields whole messages. */
export class MessageFramer {
  private buffer: Buffer = Buffer.alloc(0);
  /** True until the startup packet (which has no type byte) has been read. */
  startup = true;

  /** Adds bytes from the socket. */
  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }

  /** Bytes received and not yet framed (must be none when TLS starts). */
  get pending(): number {
    return this.buffer.length;
  }

  /** The next whole message, or undefined when more bytes are needed. */
  next(): FrontendMessage | undefined {
    const head = this.startup ? 0 : 1;
    if (this.buffer.length < head + 4) return undefined;
    const length = this.buffer.readInt32BE(head);
    if (length < 4 || length > MAX_MESSAGE_BYTES)
      throw new ProtocolViolation(`invalid message length ${length}`);
    if (this.buffer.length < head + length) return undefined;
    const type = this.startup ? '' : String.fromCharCode(this.buffer[0] as number);
    const body = this.buffer.subarray(head + 4, head + length);
    this.buffer = this.buffer.subarray(head + length);
    return { type, body };
  }
}

/** Reads the fields of a message body in order. */
export class BodyReader {
  private offset = 0;
  /** Wraps a body. */
  constructor(private readonly body: Buffer) {}
  /** Reads a signed 16-bit integer. */
  int16(): number {
    this.need(2);
    const v = this.body.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  /** Reads an unsigned 16-bit integer (counts: PostgreSQL allows 65535 parameters). */
  uint16(): number {
    this.need(2);
    const v = this.body.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  /** Reads a signed 32-bit integer. */
  int32(): number {
    this.need(4);
    const v = this.body.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  /** Reads a NUL-terminated UTF-8 string. */
  cstring(): string {
    const end = this.body.indexOf(0, this.offset);
    if (end < 0) throw new ProtocolViolation('unterminated string in message');
    const v = this.body.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return v;
  }
  /** Reads n raw bytes. */
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.body.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
  /** Reads the rest of the body. */
  rest(): Buffer {
    const v = this.body.subarray(this.offset);
    this.offset = this.body.length;
    return v;
  }
  private need(n: number): void {
    if (this.offset + n > this.body.length) throw new ProtocolViolation('message is shorter than its fields');
  }
}

/** One column of a RowDescription. */
export interface FieldDescription {
  /** Column name. */
  readonly name: string;
  /** Type OID. */
  readonly typeOid: number;
  /** Type size (pg_type.typlen). */
  readonly typeSize: number;
  /** Type modifier (atttypmod). */
  readonly typeModifier: number;
  /** 0 text, 1 binary. */
  readonly format: number;
}

/** ErrorResponse/NoticeResponse fields. */
export interface ErrorFields {
  /** ERROR, FATAL, NOTICE, ... */
  readonly severity: string;
  /** SQLSTATE. */
  readonly code: string;
  /** Primary message. */
  readonly message: string;
  /** Detail. */
  readonly detail?: string;
  /** Hint. */
  readonly hint?: string;
  /** 1-based character position in the query string. */
  readonly position?: number;
  /** Context (PostgreSQL's CONTEXT line), e.g. `COPY t, line 3, column id: "x"`. */
  readonly where?: string;
}

/** Builds backend messages into a list of buffers to write in one go. */
export class MessageWriter {
  private chunks: Buffer[] = [];
  private size = 0;

  /** Bytes waiting to be written. */
  get pending(): number {
    return this.size;
  }

  /** Takes the bytes built so far. */
  take(): Buffer {
    const out = Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    this.size = 0;
    return out;
  }

  /** Appends a raw message: type byte, length, body. */
  message(type: string, body: Buffer = Buffer.alloc(0)): void {
    const head = Buffer.alloc(5);
    head.write(type, 0, 'latin1');
    head.writeInt32BE(body.length + 4, 1);
    this.chunks.push(head, body);
    this.size += 5 + body.length;
  }

  /** A single byte with no framing (the answer to SSLRequest). */
  rawByte(ch: string): void {
    this.chunks.push(Buffer.from(ch, 'latin1'));
    this.size += 1;
  }

  /** Authentication request: code plus optional payload. */
  authentication(code: number, payload: Buffer = Buffer.alloc(0)): void {
    this.message('R', Buffer.concat([int32(code), payload]));
  }

  /** ParameterStatus. */
  parameterStatus(name: string, value: string): void {
    this.message('S', Buffer.concat([cstr(name), cstr(value)]));
  }

  /** BackendKeyData. */
  backendKeyData(pid: number, secret: number): void {
    this.message('K', Buffer.concat([int32(pid), int32(secret)]));
  }

  /** ReadyForQuery with I, T or E. */
  readyForQuery(status: 'I' | 'T' | 'E'): void {
    this.message('Z', Buffer.from(status, 'latin1'));
  }

  /** RowDescription. */
  rowDescription(fields: readonly FieldDescription[]): void {
    const parts: Buffer[] = [int16(fields.length)];
    for (const f of fields) {
      const fixed = Buffer.alloc(18);
      fixed.writeInt32BE(0, 0); // table OID: not a table column as far as the client knows
      fixed.writeInt16BE(0, 4);
      fixed.writeInt32BE(f.typeOid, 6);
      fixed.writeInt16BE(f.typeSize, 10);
      fixed.writeInt32BE(f.typeModifier, 12);
      fixed.writeInt16BE(f.format, 16);
      parts.push(cstr(f.name), fixed);
    }
    this.message('T', Buffer.concat(parts));
  }

  /** DataRow; a null value is sent as length -1. */
  dataRow(values: readonly (Buffer | null)[]): void {
    let len = 2;
    for (const v of values) len += 4 + (v ? v.length : 0);
    const body = Buffer.alloc(len);
    body.writeInt16BE(values.length, 0);
    let at = 2;
    for (const v of values) {
      if (v === null) {
        body.writeInt32BE(-1, at);
        at += 4;
      } else {
        body.writeInt32BE(v.length, at);
        v.copy(body, at + 4);
        at += 4 + v.length;
      }
    }
    this.message('D', body);
  }

  /** CommandComplete. */
  commandComplete(tag: string): void {
    this.message('C', cstr(tag));
  }

  /** EmptyQueryResponse. */
  emptyQuery(): void {
    this.message('I');
  }

  /** ErrorResponse ('E') or NoticeResponse ('N'). */
  error(fields: ErrorFields, type: 'E' | 'N' = 'E'): void {
    const parts: Buffer[] = [
      Buffer.from('S'),
      cstr(fields.severity),
      Buffer.from('V'),
      cstr(fields.severity),
      Buffer.from('C'),
      cstr(fields.code),
      Buffer.from('M'),
      cstr(fields.message),
    ];
    if (fields.detail) parts.push(Buffer.from('D'), cstr(fields.detail));
    if (fields.hint) parts.push(Buffer.from('H'), cstr(fields.hint));
    if (fields.position !== undefined) parts.push(Buffer.from('P'), cstr(String(fields.position)));
    if (fields.where) parts.push(Buffer.from('W'), cstr(fields.where));
    parts.push(Buffer.from([0]));
    this.message(type, Buffer.concat(parts));
  }

  /**
   * CopyInResponse ('G') or CopyOutResponse ('H'): overall format text (0) and one text
   * format code per column.
   * @see https://www.postgresql.org/docs/15/protocol-message-formats.html
   */
  copyResponse(type: 'G' | 'H', columns: number): void {
    this.message(
      type,
      Buffer.concat([Buffer.from([0]), int16(columns), ...Array.from({ length: columns }, () => int16(0))]),
    );
  }

  /** ParameterDescription. */
  parameterDescription(oids: readonly number[]): void {
    this.message('t', Buffer.concat([int16(oids.length), ...oids.map(int32)]));
  }

  /** NegotiateProtocolVersion. */
  negotiateProtocolVersion(minor: number, unsupported: readonly string[]): void {
    this.message('v', Buffer.concat([int32(minor), int32(unsupported.length), ...unsupported.map(cstr)]));
  }
}

function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n, 0);
  return b;
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n, 0);
  return b;
}

function cstr(s: string): Buffer {
  // A NUL inside would end the string early on the client; PostgreSQL never sends one either.
  return Buffer.from(`${s.replaceAll('\0', '')}\0`, 'utf8');
}
