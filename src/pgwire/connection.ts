/**
 * One client connection: startup, sign-in, then the simple and extended query protocols
 * over the connection's own WarehouseSession. Messages are handled one at a time, in order.
 *
 * @see https://www.postgresql.org/docs/15/protocol-flow.html
 */
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type {
  CopyInProgress,
  QueryResult,
  StdioCopy,
  Warehouse,
  WarehouseSession,
} from '../warehouse/index.ts';
import { parseStdioCopy, SqlError, splitStatements, type ScriptStatement } from '../warehouse/index.ts';
import { CopyDecoder, encodeCopyRow } from './copy.ts';
import { CursorError, CursorSet, parseCursorCommand } from './cursors.ts';
import type { Logger } from '../util/logger.ts';
import {
  BodyReader,
  CANCEL_REQUEST_CODE,
  GSSENC_REQUEST_CODE,
  MessageFramer,
  MessageWriter,
  ProtocolViolation,
  SSL_REQUEST_CODE,
  type ErrorFields,
  type FrontendMessage,
} from './messages.ts';
import { bindParams, paramCount, paramLiteral, quoteLiteral, type BoundSql } from './params.ts';
import { mockVerifier, SCRAM_MECHANISM, ScramError, ScramExchange } from './scram.ts';
import { binaryParamText, encodeValue, fieldDescriptions, OID, resultFormats, wireType } from './types.ts';

/** The only database the warehouse has. */
export const DATABASE = 'dev';

/** _text: the type of an array parameter whose type the client left open. */
const TEXT_ARRAY_OID = 1009;
/** _numeric: the same, when every element is a number. */
const NUMERIC_ARRAY_OID = 1231;

/** Flush DataRows to the socket once this many bytes are waiting. */
const FLUSH_BYTES = 256 * 1024;

/** Stop reading the socket while this many received bytes wait to be handled. */
const MAX_UNREAD_BYTES = 8 * 1024 * 1024;

/** Statements that manage the transaction themselves. */
const TRANSACTION_CONTROL =
  /^(?:begin|start|commit|end|rollback|abort|savepoint|release|prepare\s+transaction)\b/i;

/** Sign-in methods of the SQL port. */
export type AuthMethod = 'scram-sha-256' | 'md5' | 'password';

/** What a connection needs from its server. */
export interface ConnectionContext {
  /** The warehouse. */
  readonly warehouse: Warehouse;
  /** Logger. */
  readonly logger: Logger;
  /** server_version to report. */
  readonly serverVersion: string;
  /** Sign-in method. */
  readonly auth: AuthMethod;
  /** TLS, when a certificate is configured. */
  readonly tls?: SecureContext;
  /** Refuse sign-in without TLS (28000), as pg_hba's `hostssl` does. */
  readonly requireTls: boolean;
  /** Records a failed sign-in from an address; returns how long to wait before answering it (ms). */
  signInFailed(address: string): number;
  /** Forgets the failed sign-ins of an address after a good one. */
  signInSucceeded(address: string): void;
  /** Registers this connection's cancel key; returns the process id to report. */
  register(secret: number, cancel: () => void): number;
  /** Forgets a cancel key. */
  unregister(pid: number): void;
  /** Handles a CancelRequest. */
  cancel(pid: number, secret: number): void;
}

/** A statement from Parse. */
interface PreparedStatement {
  /** The statement text (trimmed, without a trailing `;`); '' for an empty query. */
  readonly sql: string;
  /** Parameter type OIDs (0 when the client left it open). */
  readonly paramTypes: readonly number[];
}

/** A portal from Bind. */
interface Portal {
  readonly statement: PreparedStatement;
  readonly bound: BoundSql;
  readonly formatCodes: readonly number[];
  /** Set once run: the statement's result (undefined for an empty query) and column formats. */
  run?: { readonly result: QueryResult | undefined; readonly formats: readonly number[] };
  /** Rows already sent. */
  cursor: number;
}

/** A failure to report as an ErrorResponse. */
class ClientError extends Error {
  constructor(
    message: string,
    readonly sqlstate: string,
  ) {
    super(message);
  }
}

type AuthState =
  | { readonly kind: 'none' }
  | { readonly kind: 'sasl-initial'; readonly exchange: ScramExchange }
  | { readonly kind: 'sasl-final'; readonly exchange: ScramExchange }
  | { readonly kind: 'password' }
  | { readonly kind: 'md5'; readonly salt: Buffer; readonly stored: string | undefined };

/** A COPY FROM STDIN waiting for its data, and the rest of the query string after it. */
interface CopyInState {
  readonly load: CopyInProgress;
  readonly decoder: CopyDecoder;
  readonly statements: readonly ScriptStatement[];
  readonly next: number;
}

/** Serves one socket until it closes. */
export class Connection {
  private readonly framer = new MessageFramer();
  private readonly writer = new MessageWriter();
  private readonly log: Logger;
  private user = '';
  private database = '';
  private startupParams = new Map<string, string>();
  private auth: AuthState = { kind: 'none' };
  private session: WarehouseSession | undefined;
  private pid = 0;
  private authMethod = '';
  private readonly connectedAt = Date.now();
  private closed = false;
  private pumping = false;
  /** After an error in the extended protocol, everything up to Sync is discarded. */
  private ignoreTillSync = false;
  private readonly statements = new Map<string, PreparedStatement>();
  private readonly portals = new Map<string, Portal>();
  /** The socket messages are read from and written to (the TLS socket once TLS has started). */
  private socket: Socket;
  private secure = false;
  private superuser = false;
  private copyIn: CopyInState | undefined;
  private readonly cursors = new CursorSet();

  /** Starts serving the socket. */
  constructor(
    private readonly raw: Socket,
    private readonly ctx: ConnectionContext,
  ) {
    this.socket = raw;
    this.log = ctx.logger.child({ remote: `${raw.remoteAddress ?? '?'}:${raw.remotePort ?? '?'}` });
    raw.setNoDelay(true);
    raw.on('data', this.onData);
    raw.on('error', (error) => this.log.debug({ err: error.message }, 'SQL client socket error'));
    raw.on('close', () => void this.shutdown());
  }

  private readonly onData = (chunk: Buffer): void => {
    this.framer.push(chunk);
    // A client sending faster than its messages are handled (a big COPY) waits in TCP.
    if (this.framer.pending > MAX_UNREAD_BYTES) this.socket.pause();
    void this.pump();
  };

  /**
   * Answers an SSLRequest with 'S' and continues over TLS on the same socket.
   * @see https://www.postgresql.org/docs/15/protocol-flow.html#id-1.10.6.7.12
   */
  private async startTls(context: SecureContext): Promise<void> {
    // Bytes sent after the SSLRequest in clear could be injected by a man in the middle.
    if (this.framer.pending > 0) throw new ProtocolViolation('received unencrypted data after SSL request');
    this.writer.rawByte('S');
    await this.flush();
    this.raw.off('data', this.onData);
    const secure = new TLSSocket(this.raw, { isServer: true, secureContext: context });
    secure.on('data', this.onData);
    secure.on('error', (error) => {
      this.log.debug({ err: error.message }, 'SQL client TLS error');
      void this.shutdown();
    });
    this.socket = secure;
    this.secure = true;
  }

  /** Records a connection event in stl_connection_log. */
  private logConnection(event: string): void {
    const tls =
      'getProtocol' in this.socket ? (this.socket as { getProtocol(): string | null }).getProtocol() : null;
    this.ctx.warehouse.recordConnection?.({
      event,
      time: new Date(),
      remoteHost: this.socket.remoteAddress ?? '',
      remotePort: this.socket.remotePort ?? 0,
      pid: this.pid,
      database: this.database,
      user: this.user,
      authMethod: this.authMethod,
      ...(event === 'disconnecting session'
        ? { durationMicros: (Date.now() - this.connectedAt) * 1000 }
        : {}),
      ...(tls ? { sslVersion: tls } : {}),
      applicationName: this.startupParams.get('application_name') ?? '',
    });
  }

  /** Drops the connection and closes its session. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pid) this.ctx.unregister(this.pid);
    this.socket.destroy();
    this.raw.destroy();
    const session = this.session;
    this.session = undefined;
    if (session) {
      this.logConnection('disconnecting session');
      session.cancel();
      await session.close().catch((error: unknown) => {
        this.log.warn({ err: String(error), user: this.user }, 'Closing the SQL session failed');
      });
    }
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      let message = this.framer.next();
      for (;;) {
        if (this.closed) return;
        if (!message) {
          if (this.socket.isPaused()) this.socket.resume();
          await this.flush();
          // Messages that arrived while the answer was being flushed.
          message = this.framer.next();
          if (!message) break;
          continue;
        }
        await this.handle(message);
        message = this.framer.next();
      }
    } catch (error) {
      if (error instanceof ProtocolViolation) await this.fatal('08P01', error.message);
      else {
        this.log.error({ err: String(error), user: this.user }, 'SQL connection failed');
        await this.fatal('XX000', error instanceof Error ? error.message : String(error));
      }
    } finally {
      this.pumping = false;
    }
  }

  private async flush(): Promise<void> {
    if (this.writer.pending === 0 || this.socket.destroyed) return;
    if (this.socket.write(this.writer.take())) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** Sends a FATAL error and closes the connection. */
  private async fatal(code: string, message: string): Promise<void> {
    if (this.closed) return;
    this.writer.error({ severity: 'FATAL', code, message });
    await this.flush();
    this.socket.end();
    await this.shutdown();
  }

  private async handle(message: FrontendMessage): Promise<void> {
    if (message.type === '') return this.handleStartup(new BodyReader(message.body));
    if (!this.session) return this.handleAuth(message);
    if (this.copyIn) return this.copyInMessage(this.copyIn, message);
    if (this.ignoreTillSync && message.type !== 'S' && message.type !== 'X') return;
    switch (message.type) {
      case 'Q':
        return this.simpleQuery(new BodyReader(message.body).cstring());
      case 'P':
      case 'B':
      case 'D':
      case 'E':
      case 'C':
        try {
          await this.extended(message.type, new BodyReader(message.body));
        } catch (error) {
          if (error instanceof ProtocolViolation) throw error;
          this.sendError(error);
          this.ignoreTillSync = true;
        }
        return;
      case 'H':
        return this.flush();
      case 'S':
        return this.sync();
      case 'X':
        this.socket.end();
        return this.shutdown();
      case 'F':
        this.sendError(new ClientError('function call messages are not supported', '0A000'));
        this.writer.readyForQuery(this.status());
        return;
      case 'd':
      case 'c':
      case 'f':
        // Copy messages with no COPY FROM STDIN running: PostgreSQL ignores them too.
        return;
      default:
        throw new ProtocolViolation(`invalid frontend message type ${message.type.charCodeAt(0)}`);
    }
  }

  // ---- startup and sign-in ----

  private async handleStartup(body: BodyReader): Promise<void> {
    const code = body.int32();
    if (code === SSL_REQUEST_CODE && this.ctx.tls && !this.secure) return this.startTls(this.ctx.tls);
    if (code === SSL_REQUEST_CODE || code === GSSENC_REQUEST_CODE) {
      // No certificate (or TLS already on), and no GSS encryption: the client may go on as it is.
      this.writer.rawByte('N');
      return this.flush();
    }
    if (code === CANCEL_REQUEST_CODE) {
      this.ctx.cancel(body.int32(), body.int32());
      this.socket.end();
      return this.shutdown();
    }
    const major = code >>> 16;
    const minor = code & 0xffff;
    if (major !== 3)
      return this.fatal(
        '0A000',
        `unsupported frontend protocol ${major}.${minor}: server supports 3.0 to 3.0`,
      );
    this.framer.startup = false;
    const unsupported: string[] = [];
    for (;;) {
      const name = body.cstring();
      if (name === '') break;
      const value = body.cstring();
      if (name.startsWith('_pq_.')) unsupported.push(name);
      else this.startupParams.set(name, value);
    }
    if (minor > 0 || unsupported.length > 0) this.writer.negotiateProtocolVersion(0, unsupported);
    this.user = this.startupParams.get('user') ?? '';
    this.database = this.startupParams.get('database') ?? this.user;
    if (!this.user) return this.fatal('28000', 'no PostgreSQL user name specified in startup packet');
    if (this.ctx.requireTls && !this.secure)
      return this.fatal(
        '28000',
        `no pg_hba.conf entry for host "${this.raw.remoteAddress ?? ''}", user "${this.user}", database "${this.database}", no encryption`,
      );
    const secrets = await this.ctx.warehouse.getPasswordSecrets(this.user);
    this.superuser = secrets?.superuser ?? false;
    let method = this.ctx.auth;
    // As in PostgreSQL, md5 sign-in falls back to SCRAM for a user whose md5 hash is not
    // stored (its password was set before Sluice kept one).
    if (method === 'md5' && secrets && !secrets.md5 && secrets.scram) {
      this.log.info(
        { user: this.user },
        'User has no md5 password hash stored (set the password again to allow md5); using SCRAM-SHA-256',
      );
      method = 'scram-sha-256';
    }
    switch (method) {
      case 'password':
        this.auth = { kind: 'password' };
        this.writer.authentication(3);
        break;
      case 'md5': {
        const salt = randomBytes(4);
        this.auth = { kind: 'md5', salt, stored: secrets?.md5 };
        this.writer.authentication(5, salt);
        break;
      }
      case 'scram-sha-256': {
        if (secrets && !secrets.scram)
          this.log.info(
            { user: this.user },
            'User has no SCRAM verifier (password disabled or set as an md5 hash)',
          );
        // An unknown user goes through the same exchange with a random verifier and fails at the end.
        const exchange = new ScramExchange(
          secrets?.scram ?? (await mockVerifier()),
          secrets?.scram !== undefined,
        );
        this.auth = { kind: 'sasl-initial', exchange };
        this.writer.authentication(10, Buffer.from(`${SCRAM_MECHANISM}\0\0`, 'utf8'));
        break;
      }
    }
    return this.flush();
  }

  private async handleAuth(message: FrontendMessage): Promise<void> {
    if (message.type !== 'p') throw new ProtocolViolation(`expected a password message, got ${message.type}`);
    const body = new BodyReader(message.body);
    const state = this.auth;
    if (state.kind !== 'none') this.authMethod = state.kind.startsWith('sasl') ? 'scram-sha-256' : state.kind;
    try {
      switch (state.kind) {
        case 'password': {
          const password = body.cstring();
          if (!(await this.ctx.warehouse.authenticate(this.user, password)))
            throw new ScramError('password authentication failed', '28P01');
          return await this.signedIn();
        }
        case 'md5': {
          // The client sends 'md5' + md5(md5(password || user) || salt).
          const answer = Buffer.from(body.cstring(), 'utf8');
          const stored = state.stored ?? `md5${randomBytes(16).toString('hex')}`;
          const expected = Buffer.from(
            `md5${createHash('md5')
              .update(Buffer.concat([Buffer.from(stored.slice(3), 'utf8'), state.salt]))
              .digest('hex')}`,
            'utf8',
          );
          if (
            state.stored === undefined ||
            answer.length !== expected.length ||
            !timingSafeEqual(answer, expected)
          )
            throw new ScramError('password authentication failed', '28P01');
          return await this.signedIn();
        }
        case 'sasl-initial': {
          const mechanism = body.cstring();
          if (mechanism !== SCRAM_MECHANISM)
            throw new ScramError('client selected an invalid SASL authentication mechanism', '08P01');
          const length = body.int32();
          const data = length < 0 ? '' : body.bytes(length).toString('utf8');
          const serverFirst = state.exchange.clientFirst(data);
          this.auth = { kind: 'sasl-final', exchange: state.exchange };
          this.writer.authentication(11, Buffer.from(serverFirst, 'utf8'));
          return await this.flush();
        }
        case 'sasl-final': {
          const serverFinal = state.exchange.clientFinal(body.rest().toString('utf8'));
          this.writer.authentication(12, Buffer.from(serverFinal, 'utf8'));
          return await this.signedIn();
        }
        case 'none':
          throw new ProtocolViolation('unexpected password message');
      }
    } catch (error) {
      if (error instanceof ScramError) {
        this.log.info({ user: this.user, reason: error.message }, 'SQL sign-in failed');
        // Repeated failures from one address are answered ever more slowly (password guessing).
        const wait = this.ctx.signInFailed(this.raw.remoteAddress ?? '');
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        this.logConnection('authentication failure');
        return this.fatal(
          error.sqlstate,
          error.sqlstate === '28P01'
            ? `password authentication failed for user "${this.user}"`
            : error.message,
        );
      }
      throw error;
    }
  }

  private async signedIn(): Promise<void> {
    this.auth = { kind: 'none' };
    if (this.database !== DATABASE) return this.fatal('3D000', `database "${this.database}" does not exist`);
    const session = await this.ctx.warehouse.openSession(this.user);
    if (this.closed) {
      await session.close();
      return;
    }
    this.session = session;
    this.ctx.signInSucceeded(this.raw.remoteAddress ?? '');
    const options = this.startupParams.get('options');
    if (options) {
      try {
        for (const [name, value] of parseOptions(options))
          await session.execute(`SET ${quoteIdent(name)} TO ${quoteLiteral(value)}`);
      } catch (error) {
        return this.fatal(error instanceof SqlError ? error.sqlstate : '22023', errorMessage(error));
      }
    }
    const secret = randomInt(-0x80000000, 0x7fffffff);
    this.pid = this.ctx.register(secret, () => this.session?.cancel());
    session.setClient?.({ pid: this.pid });
    this.logConnection('authenticated');
    this.logConnection('initiating session');
    this.writer.authentication(0);
    const params: [string, string][] = [
      ['application_name', this.startupParams.get('application_name') ?? ''],
      ['client_encoding', 'UTF8'],
      ['DateStyle', 'ISO, MDY'],
      ['default_transaction_read_only', 'off'],
      ['in_hot_standby', 'off'],
      ['integer_datetimes', 'on'],
      ['IntervalStyle', 'postgres'],
      ['is_superuser', this.superuser ? 'on' : 'off'],
      ['server_encoding', 'UTF8'],
      ['server_version', this.ctx.serverVersion],
      ['session_authorization', this.user],
      ['standard_conforming_strings', 'on'],
      ['TimeZone', 'UTC'],
    ];
    for (const [name, value] of params) this.writer.parameterStatus(name, value);
    this.writer.backendKeyData(this.pid, secret);
    this.writer.readyForQuery(this.status());
    this.log.debug({ user: this.user, pid: this.pid }, 'SQL client signed in');
    return this.flush();
  }

  // ---- queries ----

  private status(): 'I' | 'T' | 'E' {
    switch (this.session?.transactionStatus) {
      case 'open':
        return 'T';
      case 'failed':
        return 'E';
      default:
        return 'I';
    }
  }

  private async simpleQuery(sql: string): Promise<void> {
    const session = this.session as WarehouseSession;
    // A simple Query ends the unnamed statement and portal, as in PostgreSQL.
    this.statements.delete('');
    this.portals.delete('');
    // A COPY with the client's data runs statement by statement (the data arrives between them).
    if (/\bcopy\b/i.test(sql) && /\bstd(?:in|out)\b/i.test(sql))
      return this.runScript(splitStatements(sql), 0);
    // Cursor statements are kept here, beside the session, so they too run one by one.
    if (/\b(?:declare|fetch|move|close)\b/i.test(sql)) {
      const statements = splitStatements(sql);
      if (statements.some((st) => parseCursorCommandSafe(st.text))) return this.runScript(statements, 0);
    }
    // Several statements in one Query run in one implicit transaction, as in PostgreSQL and
    // Redshift: an error rolls back the statements before it too. A string with its own
    // BEGIN / COMMIT / ROLLBACK is left to manage its transactions.
    const semicolon = sql.indexOf(';');
    const implicit =
      semicolon >= 0 &&
      semicolon < sql.trimEnd().length - 1 &&
      session.transactionStatus === 'idle' &&
      (() => {
        const statements = splitStatements(sql);
        return statements.length > 1 && !statements.some((st) => TRANSACTION_CONTROL.test(st.text));
      })();
    let results: readonly QueryResult[];
    let failure: unknown;
    try {
      if (implicit) await session.execute('BEGIN');
      results = await session.execute(sql);
    } catch (error) {
      failure = error;
      results = error instanceof SqlError ? (error.options.results ?? []) : [];
    }
    if (implicit && session.transactionStatus !== 'idle') {
      try {
        await session.execute(failure === undefined ? 'COMMIT' : 'ROLLBACK');
      } catch (error) {
        failure ??= error;
      }
    }
    if (session.transactionStatus === 'idle') this.cursors.endTransaction();
    if (failure === undefined && results.length === 0) this.writer.emptyQuery();
    for (const result of results) await this.sendResult(result);
    if (failure !== undefined) this.sendError(failure);
    this.writer.readyForQuery(this.status());
  }

  /** Runs one statement: a cursor statement here, anything else in the session. */
  private async runStatement(sql: string): Promise<readonly QueryResult[]> {
    const session = this.session as WarehouseSession;
    const command = parseCursorCommand(sql);
    if (!command) return session.execute(sql);
    switch (command.kind) {
      case 'declare': {
        if (!command.hold && session.transactionStatus === 'idle')
          throw new ClientError('DECLARE CURSOR can only be used in transaction blocks', '25P01');
        if (this.cursors.has(command.name))
          throw new ClientError(`cursor "${command.name}" already exists`, '42P03');
        let results: readonly QueryResult[];
        try {
          results = await session.execute(command.query);
        } catch (error) {
          if (error instanceof SqlError && error.options.position !== undefined)
            throw new SqlError(error.message, error.sqlstate, {
              ...error.options,
              position: error.options.position + command.queryOffset,
            });
          throw error;
        }
        const [result] = results;
        if (!result || !hasRows(result) || results.length !== 1)
          throw new ClientError('cursor can only scan a query that returns rows', '42P11');
        this.cursors.declare(command.name, result, command.hold);
        return [{ command: 'DECLARE CURSOR', columns: [], rows: [], rowCount: 0 }];
      }
      case 'fetch':
      case 'move':
        return [this.cursors.move(command.kind, command.name, command.direction)];
      case 'close':
        this.cursors.close(command.name);
        return [{ command: 'CLOSE CURSOR', columns: [], rows: [], rowCount: 0 }];
    }
  }

  private async sendResult(result: QueryResult): Promise<void> {
    this.sendNotices(result);
    if (hasRows(result)) this.writer.rowDescription(fieldDescriptions(result.columns));
    await this.sendRows(result, [], 0, result.rows.length);
    this.writer.commandComplete(commandTag(result, result.rows.length));
  }

  private sendNotices(result: QueryResult): void {
    for (const message of result.notices ?? [])
      this.writer.error({ severity: 'NOTICE', code: '00000', message }, 'N');
  }

  /** Runs a query string's statements from `from` on, one by one; stops at a COPY FROM STDIN to wait for its data. */
  private async runScript(statements: readonly ScriptStatement[], from: number): Promise<void> {
    const session = this.session as WarehouseSession;
    if (statements.length === 0) this.writer.emptyQuery();
    for (let i = from; i < statements.length; i++) {
      const st = statements[i] as ScriptStatement;
      try {
        const copy = parseStdioCopy(st.text);
        if (copy?.direction === 'in') {
          const load = await session.copyIn(copy);
          const decoder = new CopyDecoder(copy, load.columns, copy.table?.name ?? '');
          this.copyIn = { load, decoder, statements, next: i + 1 };
          this.writer.copyResponse('G', load.columns.length);
          return;
        }
        if (copy) await this.copyOut(session, copy);
        else for (const result of await this.runStatement(st.text)) await this.sendResult(result);
      } catch (error) {
        this.sendError(error, (offset) => offset + st.offset);
        break;
      } finally {
        if (session.transactionStatus === 'idle') this.cursors.endTransaction();
      }
    }
    this.writer.readyForQuery(this.status());
  }

  /**
   * Takes the messages of a COPY FROM STDIN: CopyData until CopyDone (load) or CopyFail.
   * @see https://www.postgresql.org/docs/15/protocol-flow.html#PROTOCOL-COPY
   */
  private async copyInMessage(state: CopyInState, message: FrontendMessage): Promise<void> {
    try {
      switch (message.type) {
        case 'd':
          state.decoder.push(message.body);
          // Rows are staged in batches as they come, so memory stays bounded.
          if (state.decoder.ready) await state.load.append(() => state.decoder.take(false));
          return;
        case 'H':
        case 'S':
          // Flush and Sync mean nothing during COPY FROM STDIN.
          return;
        case 'c': {
          this.copyIn = undefined;
          await state.load.append(() => state.decoder.take(true));
          const result = await state.load.finish();
          this.writer.commandComplete(commandTag(result, 0));
          break;
        }
        case 'X':
          this.copyIn = undefined;
          await state.load.abort();
          this.socket.end();
          return await this.shutdown();
        case 'f':
          throw new ClientError(`COPY from stdin failed: ${new BodyReader(message.body).cstring()}`, '57014');
        default:
          throw new ClientError(
            `unexpected message type 0x${message.type.charCodeAt(0).toString(16)} during COPY from stdin`,
            '08P01',
          );
      }
    } catch (error) {
      // The error ends the COPY at once; CopyData, CopyDone and CopyFail still on their way
      // are dropped (handle() ignores them outside COPY), as PostgreSQL does.
      this.copyIn = undefined;
      await state.load.abort();
      this.sendError(error);
      this.writer.readyForQuery(this.status());
      return;
    }
    await this.runScript(state.statements, state.next);
  }

  /** COPY ... TO STDOUT: CopyOutResponse, one CopyData per row, CopyDone. */
  private async copyOut(session: WarehouseSession, copy: StdioCopy): Promise<void> {
    let result: QueryResult | undefined;
    try {
      [result] = await session.execute(copy.query ?? '');
    } catch (error) {
      // Positions point into the statement: into its (query), or nowhere for `COPY t TO STDOUT`.
      if (error instanceof SqlError && error.options.position !== undefined) {
        const { position, ...options } = error.options;
        throw new SqlError(
          error.message,
          error.sqlstate,
          copy.queryOffset === undefined ? options : { ...options, position: position + copy.queryOffset },
        );
      }
      throw error;
    }
    if (!result) throw new ClientError('COPY TO STDOUT needs a query that returns rows', '42601');
    this.writer.copyResponse('H', result.columns.length);
    if (copy.header > 0)
      this.writer.message(
        'd',
        Buffer.from(
          encodeCopyRow(
            result.columns.map((c) => c.name),
            copy,
          ),
          'utf8',
        ),
      );
    const oids = result.columns.map((c) => wireType(c.type).oid);
    for (const row of result.rows) {
      const values = oids.map((oid, i) => encodeValue(row[i], oid, 0)?.toString('utf8') ?? null);
      this.writer.message('d', Buffer.from(encodeCopyRow(values, copy), 'utf8'));
      if (this.writer.pending >= FLUSH_BYTES) await this.flush();
    }
    this.writer.message('c');
    this.writer.commandComplete(`COPY ${result.rows.length}`);
  }

  private async sendRows(
    result: QueryResult,
    formats: readonly number[],
    from: number,
    to: number,
  ): Promise<void> {
    const oids = result.columns.map((c) => wireType(c.type).oid);
    for (let r = from; r < to; r++) {
      const row = result.rows[r] as readonly unknown[];
      this.writer.dataRow(oids.map((oid, i) => encodeValue(row[i], oid, formats[i] ?? 0)));
      if (this.writer.pending >= FLUSH_BYTES) await this.flush();
    }
  }

  private sendError(error: unknown, toOriginal?: (offset: number) => number): void {
    let fields: ErrorFields;
    if (error instanceof SqlError) {
      const pos = error.options.position;
      fields = {
        severity: 'ERROR',
        code: error.sqlstate,
        message: error.message,
        ...(error.options.detail ? { detail: error.options.detail } : {}),
        ...(error.options.hint ? { hint: error.options.hint } : {}),
        ...(pos !== undefined ? { position: toOriginal ? toOriginal(pos - 1) + 1 : pos } : {}),
        ...(error.options.where ? { where: error.options.where } : {}),
      };
    } else if (error instanceof ClientError || error instanceof CursorError) {
      fields = { severity: 'ERROR', code: error.sqlstate, message: error.message };
    } else {
      this.log.error({ err: String(error), user: this.user }, 'SQL statement failed unexpectedly');
      fields = { severity: 'ERROR', code: 'XX000', message: errorMessage(error) };
    }
    this.writer.error(fields);
  }

  private async extended(type: 'P' | 'B' | 'D' | 'E' | 'C', body: BodyReader): Promise<void> {
    switch (type) {
      case 'P':
        return this.parse(body);
      case 'B':
        return this.bind(body);
      case 'D': {
        const kind = String.fromCharCode(body.bytes(1)[0] as number);
        const name = body.cstring();
        return kind === 'S' ? this.describeStatement(name) : this.describePortal(name);
      }
      case 'E': {
        const name = body.cstring();
        return this.execute(name, body.int32());
      }
      case 'C': {
        const kind = String.fromCharCode(body.bytes(1)[0] as number);
        const name = body.cstring();
        if (kind === 'S') this.statements.delete(name);
        else this.portals.delete(name);
        this.writer.message('3');
        return;
      }
    }
  }

  private parse(body: BodyReader): void {
    const name = body.cstring();
    const text = body.cstring();
    const count = body.uint16();
    const types: number[] = [];
    for (let i = 0; i < count; i++) types.push(body.int32());
    if (name !== '' && this.statements.has(name))
      throw new ClientError(`prepared statement "${name}" already exists`, '42P05');
    const parts = splitStatements(text);
    if (parts.length > 1)
      throw new ClientError('cannot insert multiple commands into a prepared statement', '42601');
    const sql = parts[0]?.text ?? '';
    if (parseStdioCopy(sql))
      throw new ClientError(
        'COPY FROM STDIN and COPY TO STDOUT run in the simple query protocol only: send them as a Query message',
        '0A000',
      );
    const used = paramCount(sql);
    // The count goes over the wire in 16 bits, as in PostgreSQL.
    if (used > 65535) throw new ClientError('number of parameters must be between 0 and 65535', '54000');
    while (types.length < used) types.push(0);
    this.statements.set(name, { sql, paramTypes: types });
    this.writer.message('1');
  }

  private bind(body: BodyReader): void {
    const portalName = body.cstring();
    const statementName = body.cstring();
    const formatCount = body.uint16();
    const formats: number[] = [];
    for (let i = 0; i < formatCount; i++) formats.push(body.int16());
    const valueCount = body.uint16();
    const values: (Buffer | null)[] = [];
    for (let i = 0; i < valueCount; i++) {
      const len = body.int32();
      values.push(len < 0 ? null : body.bytes(len));
    }
    const resultCount = body.uint16();
    const formatCodes: number[] = [];
    for (let i = 0; i < resultCount; i++) formatCodes.push(body.int16());
    const statement = this.statements.get(statementName);
    if (!statement) throw new ClientError(`prepared statement "${statementName}" does not exist`, '26000');
    if (portalName !== '' && this.portals.has(portalName))
      throw new ClientError(`portal "${portalName}" already exists`, '42P03');
    if (valueCount !== statement.paramTypes.length)
      throw new ClientError(
        `bind message supplies ${valueCount} parameters, but prepared statement "${statementName}" requires ${statement.paramTypes.length}`,
        '08P01',
      );
    const literals = values.map((value, i) => {
      const oid = statement.paramTypes[i] ?? 0;
      if (value === null) return 'NULL';
      const format = formats.length === 0 ? 0 : formats.length === 1 ? formats[0] : formats[i];
      let text: string | undefined;
      if (format === 1) {
        text = binaryParamText(value, oid);
        if (text === undefined)
          throw new ClientError(`unsupported binary format for parameter $${i + 1} (type ${oid})`, '22P03');
      } else text = value.toString('utf8');
      // `= ANY($1)` with the type left open: PostgreSQL infers an array, as node-postgres expects.
      if (oid === 0 && new RegExp(`\\b(?:any|all)\\s*\\(\\s*\\$${i + 1}\\s*\\)`, 'i').test(statement.sql))
        return paramLiteral(
          text,
          /^\{\s*(?:"?-?\d+(?:\.\d+)?"?\s*(?:,\s*"?-?\d+(?:\.\d+)?"?\s*)*)?\}$/.test(text)
            ? NUMERIC_ARRAY_OID
            : TEXT_ARRAY_OID,
        );
      return paramLiteral(text, oid);
    });
    this.portals.set(portalName, {
      statement,
      bound: bindParams(statement.sql, literals),
      formatCodes,
      cursor: 0,
    });
    this.writer.message('2');
  }

  private async describeStatement(name: string): Promise<void> {
    const statement = this.statements.get(name);
    if (!statement) throw new ClientError(`prepared statement "${name}" does not exist`, '26000');
    this.writer.parameterDescription(statement.paramTypes.map((t) => (t === 0 ? OID.text : t)));
    const columns = await this.describeColumns(statement);
    if (columns) this.writer.rowDescription(fieldDescriptions(columns));
    else this.writer.message('n');
  }

  /** A statement's result columns without running it, or undefined when it returns no rows. */
  private async describeColumns(statement: PreparedStatement): Promise<QueryResult['columns'] | undefined> {
    const word = /^\s*\(*\s*([A-Za-z]+)/.exec(statement.sql)?.[1]?.toLowerCase();
    if (word !== 'select' && word !== 'with' && word !== 'values' && word !== 'show') return undefined;
    const bound = bindParams(
      statement.sql,
      statement.paramTypes.map(() => 'NULL'),
    );
    const session = this.session as WarehouseSession;
    const probe = word === 'show' ? bound.sql : `SELECT * FROM (\n${bound.sql}\n) AS q LIMIT 0`;
    const [result] = await session.execute(probe);
    return result?.columns;
  }

  private async runPortal(portal: Portal): Promise<NonNullable<Portal['run']>> {
    if (portal.run) return portal.run;
    let result: QueryResult | undefined;
    if (portal.statement.sql !== '') {
      try {
        [result] = await this.runStatement(portal.bound.sql);
      } catch (error) {
        if (error instanceof SqlError) throw new BoundSqlError(error, portal.bound);
        throw error;
      }
    }
    portal.run = { result, formats: result ? resultFormats(result.columns, portal.formatCodes) : [] };
    return portal.run;
  }

  private async describePortal(name: string): Promise<void> {
    const portal = this.portals.get(name);
    if (!portal) throw new ClientError(`portal "${name}" does not exist`, '34000');
    // Running the portal now gives the exact columns; Execute then sends its rows.
    const run = await this.runPortal(portal);
    if (run.result && hasRows(run.result))
      this.writer.rowDescription(fieldDescriptions(run.result.columns, run.formats));
    else this.writer.message('n');
  }

  private async execute(name: string, maxRows: number): Promise<void> {
    const portal = this.portals.get(name);
    if (!portal) throw new ClientError(`portal "${name}" does not exist`, '34000');
    const run = await this.runPortal(portal);
    const result = run.result;
    if (!result) {
      this.writer.emptyQuery();
      return;
    }
    if (portal.cursor === 0) this.sendNotices(result);
    const remaining = result.rows.length - portal.cursor;
    const count = maxRows > 0 ? Math.min(maxRows, remaining) : remaining;
    await this.sendRows(result, run.formats, portal.cursor, portal.cursor + count);
    portal.cursor += count;
    if (portal.cursor < result.rows.length) this.writer.message('s');
    else this.writer.commandComplete(commandTag(result, count));
  }

  private sync(): void {
    this.ignoreTillSync = false;
    // Portals live until the end of the transaction.
    if (this.status() === 'I') {
      this.portals.clear();
      this.cursors.endTransaction();
    }
    this.writer.readyForQuery(this.status());
  }
}

/** A SqlError from a bound statement, whose position must be mapped back to the statement text. */
class BoundSqlError extends SqlError {
  constructor(error: SqlError, bound: BoundSql) {
    const pos = error.options.position;
    super(error.message, error.sqlstate, {
      ...error.options,
      ...(pos !== undefined ? { position: bound.originalOffset(pos - 1) + 1 } : {}),
    });
  }
}

/** parseCursorCommand, with a malformed FETCH left for the per-statement run to report. */
function parseCursorCommandSafe(sql: string): boolean {
  try {
    return parseCursorCommand(sql) !== undefined;
  } catch {
    return true;
  }
}

/** True when a result is row-shaped (RowDescription is sent even for zero rows). */
function hasRows(result: QueryResult): boolean {
  return result.columns.length > 0 || result.command === 'SELECT' || result.command === 'SHOW';
}

/**
 * The CommandComplete tag.
 * @see https://www.postgresql.org/docs/15/protocol-message-formats.html (CommandComplete)
 */
export function commandTag(result: QueryResult, rowsSent: number): string {
  switch (result.command) {
    case 'SELECT':
      return `SELECT ${rowsSent}`;
    case 'INSERT':
      return `INSERT 0 ${result.rowCount}`;
    case 'UPDATE':
    case 'DELETE':
    case 'COPY':
    case 'MERGE':
    case 'FETCH':
    case 'MOVE':
      return `${result.command} ${result.rowCount}`;
    default:
      return result.command;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Reads the startup `options` parameter: `-c name=value` and `--name=value`, separated by
 * spaces, with `\` escaping a space.
 * @see https://www.postgresql.org/docs/15/libpq-connect.html#LIBPQ-CONNECT-OPTIONS
 */
export function parseOptions(options: string): [string, string][] {
  const words: string[] = [];
  let word = '';
  for (let i = 0; i < options.length; i++) {
    const ch = options[i] as string;
    if (ch === '\\' && i + 1 < options.length) word += options[++i];
    else if (/\s/.test(ch)) {
      if (word) words.push(word);
      word = '';
    } else word += ch;
  }
  if (word) words.push(word);
  const out: [string, string][] = [];
  for (let i = 0; i < words.length; i++) {
    let w = words[i] as string;
    if (w === '-c') w = words[++i] ?? '';
    else if (w.startsWith('-c')) w = w.slice(2);
    else if (w.startsWith('--')) w = w.slice(2);
    else continue;
    const eq = w.indexOf('=');
    if (eq > 0) out.push([w.slice(0, eq).replaceAll('-', '_'), w.slice(eq + 1)]);
  }
  return out;
}
