import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
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

// The same adapter against an independent S3 implementation (s3rver, in-process, on a free
// port over a temporary folder), so Sluice's S3 API is not the only judge of the adapter.
// s3rver keeps each key as a file path, so what a file system cannot hold it cannot either.
const S3RVER_PATHS = 's3rver maps keys to file paths';
runObjectStoreContract({
  name: 'S3 store on s3rver',
  knownFailures: {
    'listing filters by prefix, rolls up by delimiter, starts after a key and stops at maxKeys': `${S3RVER_PATHS} and rolls up a delimiter other than / only in the last segment`,
    'keys list in UTF-8 binary order': `${S3RVER_PATHS} and lists folders before files`,
    'keys with unicode, spaces, dot segments, empty segments and trailing slashes are kept exactly': `${S3RVER_PATHS}: dot and empty segments collapse`,
    'a key can be both an object and a prefix of other keys, in either order': `${S3RVER_PATHS} and lists folders before files`,
  },
  skip: {
    'concurrent writers to one key leave one whole object':
      's3rver writes into the object file in place, so concurrent writers sometimes interleave (not every run, so it cannot be a known failure)',
    'a key of 1,024 UTF-8 bytes is stored and one of 1,025 is refused': `${S3RVER_PATHS}; a 1,024-byte name is too long for the file system and s3rver fails with an uncaught exception`,
  },
  create: async () => {
    const root = await mkdtemp(join(tmpdir(), 'sluice-s3rver-'));
    const server = new S3rver({ address: '127.0.0.1', port: 0, directory: root, silent: true });
    const address = await server.run();
    return {
      store: createS3ObjectStore({
        endpoint: `http://127.0.0.1:${address.port}`,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      }),
      cleanup: async () => {
        await server.close();
        await rm(root, { recursive: true, force: true });
      },
    };
  },
});
