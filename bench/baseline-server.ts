/**
 * The benchmark's baseline: a bare node:http server that does the least any PutRecordBatch
 * server must do with the same bodies — read the body, JSON.parse it, base64-decode every
 * record — and answers a PutRecordBatch response with FailedPutCount 0 and one RecordId per
 * record (of about the length Sluice's are). Nothing is stored.
 *
 *   node --import tsx bench/baseline-server.ts [--port 0]   prints `listening <port>`
 *
 * @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { port: { type: 'string', default: '0' } } });

const idPrefix = randomBytes(16).toString('hex');
let nextId = 0;
let decodedBytes = 0;

const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let records: { Data?: unknown }[];
    try {
      const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Records?: { Data?: unknown }[] };
      records = Array.isArray(parsed.Records) ? parsed.Records : [];
    } catch {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end('{"__type":"SerializationException","message":"Malformed JSON"}');
      return;
    }
    const parts: string[] = [];
    for (const record of records) {
      // The decoded bytes are summed so the decode cannot be optimised away.
      decodedBytes += Buffer.from(typeof record.Data === 'string' ? record.Data : '', 'base64').length;
      parts.push(`{"RecordId":"${idPrefix}${(nextId++).toString(16).padStart(16, '0')}"}`);
    }
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(`{"FailedPutCount":0,"Encrypted":false,"RequestResponses":[${parts.join(',')}]}`);
  });
});

server.listen(Number(args.port), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});

process.on('SIGTERM', () => {
  process.stderr.write(`baseline: decoded ${decodedBytes} bytes in ${nextId} records\n`);
  process.exit(0);
});
