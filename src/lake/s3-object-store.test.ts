import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createS3Api } from '../s3api/index.ts';
import { createLocalObjectStore, createS3ObjectStore } from './index.ts';
import { runObjectStoreContract } from './object-store-contract.ts';

// The S3-backed lake, pointed at Sluice's own S3 API over a real socket: one contract, two
// implementations, and the S3 API is exercised through the same adapter that talks to real S3.
runObjectStoreContract({
  name: "S3 store on Sluice's S3 API",
  create: async () => {
    const root = await mkdtemp(join(tmpdir(), 'sluice-s3-lake-'));
    const api = createS3Api({
      store: createLocalObjectStore({ root: join(root, 'lake'), fsync: false }),
      multipartDir: join(root, 'multipart'),
    });
    const server = createServer((req, res) => api.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return {
      store: createS3ObjectStore({
        endpoint: `http://127.0.0.1:${port}`,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'sluice', secretAccessKey: 'sluice' },
      }),
      cleanup: async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await rm(root, { recursive: true, force: true });
      },
    };
  },
});
