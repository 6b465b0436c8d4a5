/**
 * The s3rver baseline of the S3 bench phase, in a process of its own as Sluice is: an
 * independent S3 server over a folder, on loopback. Prints `listening <port>` once ready.
 *
 * Usage: node --import tsx bench/s3rver-server.ts --dir <folder> [--port 0]
 */
import S3rver from 's3rver';

const arg = (name: string): string | undefined => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
};
const directory = arg('--dir');
if (directory === undefined) throw new Error('--dir is required');
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(arg('--port') ?? '0'),
  directory,
  silent: true,
});
const address = await server.run();
process.stdout.write(`listening ${address.port}\n`);
process.on('SIGTERM', () => {
  void server.close().finally(() => process.exit(0));
});
