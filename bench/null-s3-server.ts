/**
 * The client's ceiling for the S3 bench phase: an HTTP server that answers S3 requests
 * without doing their work (a PUT's body is read and dropped; a GET answers zero bytes of the
 * length last PUT under its key). What the AWS SDK achieves against it is the most any S3
 * server can show in this bench on this machine. Prints `listening <port>` once ready.
 *
 * Usage: node --import tsx bench/null-s3-server.ts
 */
import { createServer } from 'node:http';

const sizes = new Map<string, number>();
const zeros = new Map<number, Buffer>();
const server = createServer((req, res) => {
  let length = 0;
  req.on('data', (chunk: Buffer) => (length += chunk.length));
  req.on('end', () => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const headers = { etag: '"00000000000000000000000000000000"', 'x-amz-request-id': '0' };
    if (req.method === 'GET') {
      const size = sizes.get(path) ?? 0;
      let body = zeros.get(size);
      if (body === undefined) {
        body = Buffer.alloc(size);
        zeros.set(size, body);
      }
      res.writeHead(200, { ...headers, 'content-length': size, 'content-type': 'binary/octet-stream' });
      res.end(body);
      return;
    }
    // aws-chunked bodies are longer than the object; the bench only sends plain bodies.
    if (req.method === 'PUT') sizes.set(path, Number(req.headers['content-length'] ?? length));
    res.writeHead(200, { ...headers, 'content-length': 0 });
    res.end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
