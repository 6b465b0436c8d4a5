import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { verifySigV4 } from './sigv4.ts';
import type { SigV4RequestParts, SigV4Result, SigV4VerifyOptions } from './sigv4.ts';

const KEY = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const secretFor = (id: string): string | undefined =>
  id === KEY.accessKeyId ? KEY.secretAccessKey : undefined;
const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
const options: SigV4VerifyOptions = { service: 'firehose', secretFor, now: () => NOW };

/** Signs like the AWS SDK does (pure-JS SHA-256, an independent implementation from the verifier's). */
async function sign(
  body: string,
  opts: {
    service?: string;
    region?: string;
    date?: Date;
    key?: { accessKeyId: string; secretAccessKey: string };
    path?: string;
    query?: Record<string, string>;
    applyChecksum?: boolean;
    extraHeaders?: Record<string, string>;
  } = {},
): Promise<SigV4RequestParts> {
  const signer = new SignatureV4({
    credentials: opts.key ?? KEY,
    region: opts.region ?? 'us-east-1',
    service: opts.service ?? 'firehose',
    sha256: Sha256,
    applyChecksum: opts.applyChecksum ?? false,
  });
  const request = new HttpRequest({
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 4566,
    path: opts.path ?? '/',
    query: opts.query ?? {},
    headers: {
      host: '127.0.0.1:4566',
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'Firehose_20150804.ListDeliveryStreams',
      ...opts.extraHeaders,
    },
    body,
  });
  const signed = await signer.sign(request, { signingDate: opts.date ?? new Date(NOW) });
  return toParts(signed, body);
}

/** The parts of a signed smithy request that reach a server. */
interface SignedRequest {
  readonly method: string;
  readonly path: string;
  readonly query?: Record<string, unknown>;
  readonly headers: Record<string, string>;
}

function toParts(signed: SignedRequest, body: string): SigV4RequestParts {
  const headers: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = v;
  const qs = new URLSearchParams(signed.query as Record<string, string>).toString().replace(/\+/g, '%20');
  return {
    method: signed.method,
    url: signed.path + (qs === '' ? '' : `?${qs}`),
    headers,
    body: Buffer.from(body),
  };
}

function assertRejected(result: SigV4Result, failure: string, message: RegExp): void {
  assert.equal(result.ok, false, 'expected a rejection');
  if (result.ok) return;
  assert.equal(result.failure, failure);
  assert.match(result.message, message);
}

describe('verifySigV4', () => {
  test('accepts a request signed by the SDK signer with the right secret', async () => {
    const result = await verifySigV4(await sign('{"Limit":5}'), options);
    assert.equal(result.ok, true);
    if (result.ok) {
      assert.equal(result.accessKeyId, 'AKIDEXAMPLE');
      assert.equal(result.region, 'us-east-1');
      assert.equal(result.verified, true);
    }
  });

  test('accepts any region in the credential scope', async () => {
    const result = await verifySigV4(await sign('{}', { region: 'eu-west-3' }), options);
    assert.equal(result.ok, true);
  });

  test('accepts an encoded path and a query string', async () => {
    const parts = await sign('{}', { path: '/a b/c', query: { 'x y': '1/2', b: '' } });
    assert.equal((await verifySigV4(parts, options)).ok, true);
  });

  test('rejects a request signed with the wrong secret', async () => {
    const parts = await sign('{}', { key: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wrong' } });
    assertRejected(
      await verifySigV4(parts, options),
      'SignatureMismatch',
      /does not match the signature you provided/,
    );
  });

  test('rejects a body changed after signing', async () => {
    const parts = await sign('{"Limit":5}');
    const tampered = { ...parts, body: Buffer.from('{"Limit":6}') };
    assertRejected(await verifySigV4(tampered, options), 'SignatureMismatch', /does not match/);
  });

  test('rejects a body that does not match a signed x-amz-content-sha256', async () => {
    const parts = await sign('{"Limit":5}', { applyChecksum: true });
    assert.equal((await verifySigV4(parts, options)).ok, true);
    const tampered = { ...parts, body: Buffer.from('{"Limit":6}') };
    assertRejected(await verifySigV4(tampered, options), 'PayloadHashMismatch', /x-amz-content-sha256/);
  });

  test('rejects an unknown access key', async () => {
    const parts = await sign('{}', { key: { accessKeyId: 'AKIDOTHER', secretAccessKey: 'secret' } });
    assertRejected(
      await verifySigV4(parts, options),
      'UnknownAccessKey',
      /security token included in the request is invalid/,
    );
  });

  test('rejects a signature more than 5 minutes old with AWS text', async () => {
    const parts = await sign('{}', { date: new Date(NOW - 6 * 60 * 1000) });
    assertRejected(
      await verifySigV4(parts, options),
      'ClockSkew',
      /^Signature expired: 20240501T115400Z is now earlier than 20240501T115500Z \(20240501T120000Z - 5 min\.\)$/,
    );
  });

  test('rejects a signature from the future', async () => {
    const parts = await sign('{}', { date: new Date(NOW + 6 * 60 * 1000) });
    assertRejected(
      await verifySigV4(parts, options),
      'ClockSkew',
      /^Signature not yet current: 20240501T120600Z/,
    );
  });

  test('rejects a credential scoped to another service', async () => {
    const parts = await sign('{}', { service: 'kinesis' });
    assertRejected(
      await verifySigV4(parts, options),
      'ScopeMismatch',
      /scoped to correct service: 'firehose'/,
    );
  });

  test('answers Missing Authentication Token without an Authorization header', async () => {
    const parts = await sign('{}');
    const headers = { ...parts.headers };
    delete headers.authorization;
    assertRejected(
      await verifySigV4({ ...parts, headers }, options),
      'MissingAuthentication',
      /^Missing Authentication Token$/,
    );
  });

  test('names every missing part of an incomplete Authorization header', async () => {
    const parts = await sign('{}');
    const headers = {
      ...parts.headers,
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/firehose/aws4_request',
    };
    const result = await verifySigV4({ ...parts, headers }, options);
    assertRejected(
      result,
      'IncompleteSignature',
      /requires 'Signature' parameter\. Authorization header requires 'SignedHeaders'/,
    );
  });

  test('rejects a malformed credential', async () => {
    const parts = await sign('{}');
    const headers = {
      ...parts.headers,
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501, SignedHeaders=host, Signature=00',
    };
    assertRejected(
      await verifySigV4({ ...parts, headers }, options),
      'IncompleteSignature',
      /exactly 5 slash-delimited elements/,
    );
  });

  test('accepts any well-formed signature when no secrets are configured', async () => {
    const parts = await sign('{}', {
      key: { accessKeyId: 'ANYONE', secretAccessKey: 'whatever' },
      date: new Date(0),
    });
    const result = await verifySigV4(parts, { service: 'firehose' });
    assert.equal(result.ok, true);
    if (result.ok) assert.equal(result.verified, false);
  });

  test('still requires a well-formed header when no secrets are configured', async () => {
    const parts = await sign('{}');
    const headers = { ...parts.headers, authorization: 'Bearer token' };
    assertRejected(
      await verifySigV4({ ...parts, headers }, { service: 'firehose' }),
      'IncompleteSignature',
      /Credential/,
    );
  });

  test('verifies a presigned S3 URL and rejects it once expired', async () => {
    const signer = new SignatureV4({
      credentials: KEY,
      region: 'us-east-1',
      service: 's3',
      sha256: Sha256,
      uriEscapePath: false,
    });
    const request = new HttpRequest({
      method: 'GET',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: '/bucket/some%20key.json',
      // As @aws-sdk/s3-request-presigner prepares it: the hash is hoisted into the query.
      headers: { host: '127.0.0.1:4566', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    const presigned = await signer.presign(request, { signingDate: new Date(NOW), expiresIn: 300 });
    const query = presigned.query ?? {};
    assert.equal(query['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD');
    const qs = Object.entries(query)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');
    const parts: SigV4RequestParts = {
      method: 'GET',
      url: `${presigned.path}?${qs}`,
      headers: { host: '127.0.0.1:4566' },
    };
    const s3 = { service: 's3', secretFor, uriEscapePath: false };
    const ok = await verifySigV4(parts, { ...s3, now: () => NOW + 60_000 });
    assert.equal(ok.ok, true);
    if (ok.ok) assert.equal(ok.presigned, true);
    assertRejected(
      await verifySigV4(parts, { ...s3, now: () => NOW + 301_000 }),
      'PresignedExpired',
      /expired/,
    );
    // With no keys configured signatures are not checked, but an expired link still fails.
    const open = { service: 's3', uriEscapePath: false };
    assert.equal((await verifySigV4(parts, { ...open, now: () => NOW + 60_000 })).ok, true);
    assertRejected(
      await verifySigV4(parts, { ...open, now: () => NOW + 301_000 }),
      'PresignedExpired',
      /expired/,
    );
    const forged = { ...parts, url: parts.url.replace('some%20key', 'other%20key') };
    assertRejected(
      await verifySigV4(forged, { ...s3, now: () => NOW }),
      'SignatureMismatch',
      /does not match/,
    );
  });
});
