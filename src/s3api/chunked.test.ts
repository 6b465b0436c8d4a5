import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { crc32c } from './checksums.ts';
import { AwsChunkedDecoder, createChunkSigner, decodeAwsChunked } from './chunked.ts';
import { S3Error } from './errors.ts';
import { parseXml, xmlDocument } from './xml.ts';

describe('aws-chunked decoding', () => {
  test('chunk signatures match the example in the AWS documentation', () => {
    // @see https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html (example)
    const signer = createChunkSigner(
      'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      '20130524T000000Z',
      'us-east-1',
      's3',
    );
    const seed = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
    const first = signer.chunk(seed, Buffer.alloc(65536, 'a'));
    assert.equal(first, 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648');
    const second = signer.chunk(first, Buffer.alloc(1024, 'a'));
    assert.equal(second, '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497');
    assert.equal(
      signer.chunk(second, Buffer.alloc(0)),
      'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
    );
  });

  test('a signed stream fed one byte at a time decodes the same, signatures and trailer checked', () => {
    const signer = createChunkSigner('secret', '20240101T000000Z', 'us-east-1', 's3');
    const s1 = signer.chunk('seed', Buffer.from('hello '));
    const s2 = signer.chunk(s1, Buffer.from('world'));
    const s3 = signer.chunk(s2, Buffer.alloc(0));
    const trailer = 'x-amz-checksum-crc32:DUoRhQ==';
    const ts = signer.trailer(s3, 'x-amz-checksum-crc32:DUoRhQ==\n');
    const body = Buffer.from(
      `6;chunk-signature=${s1}\r\nhello \r\n5;chunk-signature=${s2}\r\nworld\r\n0;chunk-signature=${s3}\r\n${trailer}\r\nx-amz-trailer-signature:${ts}\r\n\r\n`,
    );
    const decoder = new AwsChunkedDecoder({ seed: 'seed', signer });
    const out: Buffer[] = [];
    for (let i = 0; i < body.length; i++) out.push(...decoder.push(body.subarray(i, i + 1)));
    assert.equal(Buffer.concat(out).toString(), 'hello world');
    assert.equal(decoder.end().get('x-amz-checksum-crc32'), 'DUoRhQ==');

    const cut = new AwsChunkedDecoder();
    cut.push(body.subarray(0, body.length - 30));
    assert.throws(
      () => cut.end(),
      (e: unknown) => e instanceof S3Error && e.code === 'IncompleteBody',
    );
  });

  test('a signed stream decodes and a tampered chunk is refused', () => {
    const signer = createChunkSigner('secret', '20240101T000000Z', 'us-east-1', 's3');
    const s1 = signer.chunk('seed', Buffer.from('hello '));
    const s2 = signer.chunk(s1, Buffer.from('world'));
    const s3 = signer.chunk(s2, Buffer.alloc(0));
    const body = `6;chunk-signature=${s1}\r\nhello \r\n5;chunk-signature=${s2}\r\nworld\r\n0;chunk-signature=${s3}\r\n\r\n`;
    const out = decodeAwsChunked(Buffer.from(body), { seed: 'seed', signer });
    assert.equal(out.data.toString(), 'hello world');
    assert.throws(
      () => decodeAwsChunked(Buffer.from(body.replace('world', 'WORLD')), { seed: 'seed', signer }),
      (e: unknown) => e instanceof S3Error && e.code === 'SignatureDoesNotMatch',
    );
  });

  test('an unsigned stream with a checksum trailer decodes', () => {
    const out = decodeAwsChunked(Buffer.from('3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n'));
    assert.equal(out.data.toString(), 'abc');
    assert.equal(out.trailers.get('x-amz-checksum-crc32'), 'NSRBwg==');
  });

  test('a truncated stream is refused as IncompleteBody', () => {
    for (const body of [
      'a\r\n0123',
      'a\r\n0123456789\r\n',
      '3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n',
      'zz\r\n',
    ]) {
      assert.throws(
        () => decodeAwsChunked(Buffer.from(body)),
        (e: unknown) => e instanceof S3Error && e.code === 'IncompleteBody',
        body,
      );
    }
  });
});

describe('checksums and XML', () => {
  test('CRC32C matches the standard check value and zlib CRC32 the base64 S3 shows', () => {
    assert.equal(crc32c(Buffer.from('123456789')).toString(16), 'e3069283');
    const b = Buffer.alloc(4);
    b.writeUInt32BE(crc32(Buffer.from('abc')));
    assert.equal(b.toString('base64'), 'NSRBwg==');
  });

  test('the writer escapes and the reader reads prefixed, namespaced documents', () => {
    assert.match(xmlDocument(['Key', `a&<>"'`]), /<Key xmlns="[^"]+">a&amp;&lt;&gt;&quot;&apos;<\/Key>/);
    const doc = parseXml(
      '<?xml version="1.0"?><!-- c --><s3:Delete xmlns:s3="x"><Object><Key>a&amp;b</Key></Object><Quiet>true</Quiet></s3:Delete>',
    );
    assert.equal(doc.name, 'Delete');
    assert.equal(doc.children[0]?.children[0]?.text, 'a&b');
    assert.throws(() => parseXml('<a><b></a>'));
  });
});
