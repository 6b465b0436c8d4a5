/**
 * Random and mutated frontend messages, after sign-in, against an in-process SQL port: the
 * server never crashes, every connection ends either answering or closed, and a session
 * opened alongside keeps working.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import fc from 'fast-check';
import { openTestWarehouse } from '../warehouse/test-support.ts';
import { createPgServer, type PgServer } from './index.ts';
import { TestPgClient } from './test-client.ts';

let server: PgServer;
let port: number;
let cleanup: () => Promise<void>;

before(async () => {
  const wh = await openTestWarehouse();
  cleanup = wh.cleanup;
  const s = await wh.warehouse.openSession('awsuser');
  await s.execute('CREATE TABLE fuzz (id INTEGER, note VARCHAR(10))');
  await s.close();
  server = createPgServer({ warehouse: wh.warehouse });
  port = await server.listen(0, '127.0.0.1');
});

after(async () => {
  await server.close();
  await cleanup();
});

const cstr = (s: string): Buffer => Buffer.from(`${s}\0`);

function frame(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

/** Well-formed messages the mutations start from, COPY ones included. */
const SEEDS: readonly Buffer[] = [
  frame('Q', cstr('SELECT 1')),
  frame('Q', cstr('COPY fuzz (id, note) FROM STDIN CSV')),
  frame('Q', cstr('COPY fuzz TO STDOUT')),
  frame('Q', cstr('BEGIN; SELECT 1; COMMIT')),
  frame('d', Buffer.from('1,a\n2,"b\n')),
  frame('c', Buffer.alloc(0)),
  frame('f', cstr('gave up')),
  frame('P', Buffer.concat([cstr('s1'), cstr('SELECT $1::int'), Buffer.from([0, 1, 0, 0, 0, 23])])),
  frame('B', Buffer.concat([cstr(''), cstr('s1'), Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 0x37, 0, 0])])),
  frame('D', Buffer.concat([Buffer.from('P'), cstr('')])),
  frame('E', Buffer.concat([cstr(''), Buffer.from([0, 0, 0, 1])])),
  frame('C', Buffer.concat([Buffer.from('S'), cstr('s1')])),
  frame('H', Buffer.alloc(0)),
  frame('S', Buffer.alloc(0)),
];

const message = fc.oneof(
  fc.constantFrom(...SEEDS),
  // A seed with bytes flipped, cut short or with its length field rewritten.
  fc
    .tuple(
      fc.constantFrom(...SEEDS),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom('flip', 'cut', 'len'),
    )
    .map(([seed, at, byte, how]) => {
      const b = Buffer.from(seed);
      const i = at % b.length;
      if (how === 'flip') b[i] = byte;
      else if (how === 'cut') return b.subarray(0, i);
      else b.writeInt32BE(byte * 1024 * 1024 - 4, 1);
      return b;
    }),
  fc
    .tuple(fc.constantFrom(...'QPBDECSHdcfFXpz'), fc.uint8Array({ maxLength: 64 }))
    .map(([type, body]) => frame(type, Buffer.from(body))),
);

/** Waits until the connection answers a Sync + Query, or is closed by the server. */
async function settle(c: TestPgClient): Promise<void> {
  await Promise.race([
    (async () => {
      for (;;) await c.read();
    })().catch(() => undefined),
    new Promise((resolve) => setTimeout(resolve, 300)),
  ]);
}

test('random and mutated messages never take the server down', async () => {
  const witness = await TestPgClient.connect(port, 'awsuser', 'secret');
  await fc.assert(
    fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 12 }), async (messages) => {
      const c = await TestPgClient.connect(port, 'awsuser', 'secret');
      try {
        for (const m of messages) c.raw(m);
        // End any COPY and extended-protocol batch so a live connection answers.
        c.raw(frame('c', Buffer.alloc(0)));
        c.raw(frame('S', Buffer.alloc(0)));
        await settle(c);
      } finally {
        c.close();
      }
      const probe = await witness.query('SELECT count(*) FROM fuzz');
      assert.equal(probe[probe.length - 1]?.type, 'Z');
      assert.ok(probe.some((m) => m.type === 'D'));
    }),
    { numRuns: 3, seed: 20261126 },
  );
  witness.close();
  // The listener still takes new connections.
  const fresh = await TestPgClient.connect(port, 'awsuser', 'secret');
  const ms = await fresh.query('SELECT 1');
  assert.equal(ms.map((m) => m.type).join(''), 'TDCZ');
  fresh.close();
  // A raw socket that sends garbage before any startup is closed, not crashed on.
  const sock = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
  const answer: Buffer[] = [];
  sock.on('data', (d: Buffer) => answer.push(d));
  sock.on('error', () => undefined);
  sock.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
  await new Promise<void>((resolve) => sock.once('end', () => resolve()));
  sock.destroy();
  assert.match(Buffer.concat(answer).toString('latin1'), /^E.*C08P01/s);
});
