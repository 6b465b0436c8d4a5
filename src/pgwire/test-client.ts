/**
 * A minimal PostgreSQL v3 client for the tests, written from the protocol documentation
 * independently of the server's codec: startup, SCRAM-SHA-256, and raw messages.
 *
 * @see https://www.postgresql.org/docs/15/protocol-message-formats.html
 */
import { connect, type Socket } from 'node:net';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/** A backend message as received. */
export interface RawMessage {
  /** Type byte. */
  readonly type: string;
  /** Body. */
  readonly body: Buffer;
}

/** A test client over one socket. */
export class TestPgClient {
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private ended = false;
  /** BackendKeyData. */
  pid = 0;
  /** BackendKeyData. */
  secret = 0;
  /** ParameterStatus values. */
  readonly parameters = new Map<string, string>();

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  /** Opens a socket. */
  static async open(port: number): Promise<TestPgClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new TestPgClient(socket);
  }

  /** Connects and signs in with SCRAM-SHA-256; resolves after the first ReadyForQuery. */
  static async connect(
    port: number,
    user: string,
    password: string,
    database = 'dev',
  ): Promise<TestPgClient> {
    const c = await TestPgClient.open(port);
    c.startup({ user, database });
    let auth = await c.read();
    if (auth.type !== 'R' || auth.body.readInt32BE(0) !== 10)
      throw new Error(`expected SASL, got ${auth.type}`);
    const nonce = randomBytes(18).toString('base64');
    const bare = `n=,r=${nonce}`;
    const first = Buffer.from(`n,,${bare}`);
    const len = Buffer.alloc(4);
    len.writeInt32BE(first.length);
    c.send('p', Buffer.concat([Buffer.from('SCRAM-SHA-256\0'), len, first]));
    auth = await c.read();
    if (auth.type !== 'R' || auth.body.readInt32BE(0) !== 11) throw new Error(errorText(auth));
    const serverFirst = auth.body.subarray(4).toString();
    const attrs = new Map(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)] as const));
    const salted = pbkdf2Sync(
      password,
      Buffer.from(attrs.get('s') ?? '', 'base64'),
      Number(attrs.get('i')),
      32,
      'sha256',
    );
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=biws,r=${attrs.get('r') ?? ''}`;
    const authMessage = `${bare},${serverFirst},${withoutProof}`;
    const signature = createHmac('sha256', storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ (signature[i] as number)));
    c.send('p', Buffer.from(`${withoutProof},p=${proof.toString('base64')}`));
    const final = await c.read();
    if (final.type !== 'R' || final.body.readInt32BE(0) !== 12) throw new Error(errorText(final));
    const serverKey = createHmac('sha256', salted).update('Server Key').digest();
    const expected = createHmac('sha256', serverKey).update(authMessage).digest('base64');
    if (final.body.subarray(4).toString() !== `v=${expected}`) throw new Error('bad server signature');
    for (const m of await c.untilReady()) {
      if (m.type === 'E') throw new Error(errorText(m));
      if (m.type === 'K') {
        c.pid = m.body.readInt32BE(0);
        c.secret = m.body.readInt32BE(4);
      }
      if (m.type === 'S') {
        const [k, v] = m.body.toString().split('\0');
        c.parameters.set(k ?? '', v ?? '');
      }
    }
    return c;
  }

  /** Sends a StartupMessage (protocol 3.0). */
  startup(params: Record<string, string>): void {
    const body = Buffer.from(
      Object.entries(params)
        .map(([k, v]) => `${k}\0${v}\0`)
        .join('') + '\0',
    );
    const head = Buffer.alloc(8);
    head.writeInt32BE(body.length + 8, 0);
    head.writeInt32BE(196608, 4);
    this.socket.write(Buffer.concat([head, body]));
  }

  /** Writes untyped bytes (SSLRequest, CancelRequest). */
  raw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Sends one typed message. */
  send(type: string, body: Buffer = Buffer.alloc(0)): void {
    const head = Buffer.alloc(5);
    head.write(type, 0, 'latin1');
    head.writeInt32BE(body.length + 4, 1);
    this.socket.write(Buffer.concat([head, body]));
  }

  /** Parse. */
  parse(name: string, sql: string, oids: readonly number[] = []): void {
    const n = Buffer.alloc(2 + 4 * oids.length);
    n.writeInt16BE(oids.length, 0);
    oids.forEach((o, i) => n.writeInt32BE(o, 2 + 4 * i));
    this.send('P', Buffer.concat([cstr(name), cstr(sql), n]));
  }

  /** Bind with text parameters (or binary ones given as Buffers) and result format codes. */
  bind(
    portal: string,
    statement: string,
    params: readonly (string | Buffer | null)[],
    resultFormats: readonly number[] = [],
  ): void {
    const parts: Buffer[] = [cstr(portal), cstr(statement), i16(params.length)];
    for (const p of params) parts.push(i16(Buffer.isBuffer(p) ? 1 : 0));
    parts.push(i16(params.length));
    for (const p of params) {
      if (p === null) parts.push(i32(-1));
      else {
        const b = Buffer.isBuffer(p) ? p : Buffer.from(p);
        parts.push(i32(b.length), b);
      }
    }
    parts.push(i16(resultFormats.length), ...resultFormats.map(i16));
    this.send('B', Buffer.concat(parts));
  }

  /** Describe a statement ('S') or portal ('P'). */
  describe(kind: 'S' | 'P', name: string): void {
    this.send('D', Buffer.concat([Buffer.from(kind), cstr(name)]));
  }

  /** Execute. */
  execute(portal: string, maxRows = 0): void {
    this.send('E', Buffer.concat([cstr(portal), i32(maxRows)]));
  }

  /** Sync. */
  sync(): void {
    this.send('S');
  }

  /** Simple Query; resolves with the messages up to ReadyForQuery. */
  async query(sql: string): Promise<RawMessage[]> {
    this.send('Q', cstr(sql));
    return this.untilReady();
  }

  /** The next message; rejects if the socket closes first. */
  async read(): Promise<RawMessage> {
    for (;;) {
      if (this.buffer.length >= 5) {
        const len = this.buffer.readInt32BE(1);
        if (this.buffer.length >= len + 1) {
          const m = {
            type: String.fromCharCode(this.buffer[0] as number),
            body: this.buffer.subarray(5, len + 1),
          };
          this.buffer = this.buffer.subarray(len + 1);
          return m;
        }
      }
      if (this.ended) throw new Error('connection closed');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Reads one raw byte (the SSLRequest answer). */
  async readByte(): Promise<string> {
    while (this.buffer.length < 1) {
      if (this.ended) throw new Error('connection closed');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    const b = String.fromCharCode(this.buffer[0] as number);
    this.buffer = this.buffer.subarray(1);
    return b;
  }

  /** Messages up to and including ReadyForQuery. */
  async untilReady(): Promise<RawMessage[]> {
    const out: RawMessage[] = [];
    for (;;) {
      const m = await this.read();
      out.push(m);
      if (m.type === 'Z') return out;
    }
  }

  /** True once the server closed the socket. */
  async closedByServer(): Promise<boolean> {
    while (!this.ended) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return true;
  }

  /** Sends Terminate and closes. */
  close(): void {
    if (!this.ended) this.send('X');
    this.socket.end();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** RowDescription fields: name, type OID, typmod, format. */
export function rowDescription(
  m: RawMessage,
): { name: string; oid: number; typmod: number; format: number }[] {
  const n = m.body.readInt16BE(0);
  let at = 2;
  const out = [];
  for (let i = 0; i < n; i++) {
    const end = m.body.indexOf(0, at);
    const name = m.body.toString('utf8', at, end);
    at = end + 1;
    out.push({
      name,
      oid: m.body.readInt32BE(at + 6),
      typmod: m.body.readInt32BE(at + 12),
      format: m.body.readInt16BE(at + 16),
    });
    at += 18;
  }
  return out;
}

/** DataRow values as raw buffers (null for SQL NULL). */
export function dataRow(m: RawMessage): (Buffer | null)[] {
  const n = m.body.readInt16BE(0);
  let at = 2;
  const out: (Buffer | null)[] = [];
  for (let i = 0; i < n; i++) {
    const len = m.body.readInt32BE(at);
    at += 4;
    if (len < 0) out.push(null);
    else {
      out.push(m.body.subarray(at, at + len));
      at += len;
    }
  }
  return out;
}

/** ErrorResponse fields by code letter. */
export function errorFields(m: RawMessage): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < m.body.length && m.body[at] !== 0) {
    const code = String.fromCharCode(m.body[at] as number);
    const end = m.body.indexOf(0, at + 1);
    out.set(code, m.body.toString('utf8', at + 1, end));
    at = end + 1;
  }
  return out;
}

function errorText(m: RawMessage): string {
  return m.type === 'E' ? (errorFields(m).get('M') ?? 'error') : `unexpected message ${m.type}`;
}

function cstr(s: string): Buffer {
  return Buffer.from(`${s}\0`);
}

function i16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}

function i32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}
