/**
 * The server side of SCRAM-SHA-256 (without channel binding) over PostgreSQL's SASL
 * messages. The proof is checked against the stored verifier; the password never crosses
 * the wire.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5802#section-5
 * @see https://www.rfc-editor.org/rfc/rfc7677
 * @see https://www.postgresql.org/docs/15/sasl-authentication.html
 */
import { randomBytes } from 'node:crypto';
import type { ScramVerifier } from '../warehouse/index.ts';
import { createScramVerifier, scramServerSignature, verifyScramClientProof } from '../warehouse/index.ts';

/** The only mechanism offered. */
export const SCRAM_MECHANISM = 'SCRAM-SHA-256';

/** Why a SCRAM exchange failed: a malformed message (08P01) or a wrong password (28P01). */
export class ScramError extends Error {
  override readonly name = 'ScramError';
  /** Creates the error. */
  constructor(
    message: string,
    readonly sqlstate: '08P01' | '28P01',
  ) {
    super(message);
  }
}

/** A verifier for a user that does not exist, so the exchange looks the same and then fails. */
export async function mockVerifier(): Promise<ScramVerifier> {
  return createScramVerifier(randomBytes(18).toString('base64'), randomBytes(16));
}

/** One SCRAM exchange. */
export class ScramExchange {
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private gs2Header = '';

  /** Starts an exchange for a verifier; `real` is false for the mock verifier of an unknown user. */
  constructor(
    private readonly verifier: ScramVerifier,
    private readonly real: boolean,
  ) {}

  /** Reads client-first-message and returns server-first-message. */
  clientFirst(message: string): string {
    const m = /^([ny]|p=[^,]*),([^,]*),(.*)$/s.exec(message);
    if (!m) throw new ScramError('malformed SCRAM message', '08P01');
    if ((m[1] as string).startsWith('p=')) throw new ScramError('channel binding is not supported', '08P01');
    this.gs2Header = `${m[1]},${m[2]},`;
    this.clientFirstBare = m[3] as string;
    const nonce = /(?:^|,)r=([^,]+)/.exec(this.clientFirstBare);
    if (!nonce) throw new ScramError('malformed SCRAM message: no nonce', '08P01');
    this.nonce = `${nonce[1]}${randomBytes(18).toString('base64')}`;
    this.serverFirst = `r=${this.nonce},s=${this.verifier.salt.toString('base64')},i=${this.verifier.iterations}`;
    return this.serverFirst;
  }

  /** Reads client-final-message, checks the proof, and returns server-final-message. */
  clientFinal(message: string): string {
    const proofAt = message.lastIndexOf(',p=');
    if (proofAt < 0) throw new ScramError('malformed SCRAM message: no proof', '08P01');
    const withoutProof = message.slice(0, proofAt);
    const proof = Buffer.from(message.slice(proofAt + 3), 'base64');
    const binding = /^c=([^,]*)/.exec(withoutProof);
    const nonce = /,r=([^,]*)/.exec(withoutProof);
    if (!binding || Buffer.from(binding[1] as string, 'base64').toString('latin1') !== this.gs2Header)
      throw new ScramError('SCRAM channel binding check failed', '08P01');
    if (!nonce || nonce[1] !== this.nonce) throw new ScramError('SCRAM nonce mismatch', '08P01');
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    if (!this.real || !verifyScramClientProof(this.verifier, authMessage, proof))
      throw new ScramError('password authentication failed', '28P01');
    return `v=${scramServerSignature(this.verifier, authMessage).toString('base64')}`;
  }
}
