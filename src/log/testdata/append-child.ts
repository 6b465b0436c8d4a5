/**
 * Child process for the kill -9 test: appends frames from four concurrent writers until it is
 * killed, and prints one line per acknowledged append: `<first offset> <count> <id>`.
 * Record k of an append holds `<id>-<k>`, padded to 80 bytes, so the test can check content.
 * Usage: node --import tsx append-child.ts <log dir>
 */
import { openStreamLog } from '../stream-log.ts';

/** The bytes of record `k` of the append named `id` (the test rebuilds them the same way). */
function childRecord(id: string, k: number): Buffer {
  return Buffer.from(`${id}-${k}`.padEnd(80, '.'));
}

const dir = process.argv[2];
if (dir === undefined) throw new Error('Usage: append-child.ts <log dir>');
const log = await openStreamLog({ dir, segmentBytes: 256 * 1024 });
process.stdout.write(`ready ${log.endOffset}\n`);
const writer = async (w: number): Promise<void> => {
  for (let seq = 0; ; seq++) {
    const id = `${process.pid}.${w}.${seq}`;
    const count = 1 + (seq % 40);
    const records = Array.from({ length: count }, (_, k) => childRecord(id, k));
    const first = await log.append(records, 1_700_000_000_000 + seq);
    process.stdout.write(`${first} ${count} ${id}\n`);
  }
};
await Promise.all([0, 1, 2, 3].map(writer));
