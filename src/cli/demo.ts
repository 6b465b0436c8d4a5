/**
 * `sluice demo`: the reference IoT scenario on a running server. It creates the buckets,
 * uploads the seed CSV files, creates the star schema and loads its dimensions with COPY
 * from the lake, creates the delivery stream `redshift-delivery-stream`, and starts the
 * sensor simulator.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { CreateDeliveryStreamInput } from '../delivery/index.ts';
import { DEMO_DASHBOARD, DEMO_VIEW_SQL } from '../console/index.ts';
import { ANALYST_VIEWS_SQL } from './demo-views.ts';
import type { RunningServer } from './server.ts';

/** The demo's buckets and stream. */
export const DEMO = {
  dataBucket: 'redshift-stack-databucket',
  logBucket: 'redshift-stack-logbucket',
  stream: 'redshift-delivery-stream',
  roleArn: 'arn:aws:iam::000000000000:role/redshift-stack-role',
} as const;

/** Folder of the seed CSV files shipped with Sluice. */
export const SEED_DIR = fileURLToPath(new URL('../../seed-data/', import.meta.url));

/** The star schema of the scenario, in Redshift SQL. */
export const SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS sensor;
CREATE TABLE IF NOT EXISTS sensor.message (
  id BIGINT IDENTITY(1,1),
  guid VARCHAR(36) NOT NULL,
  ts BIGINT NOT NULL DISTKEY SORTKEY,
  temp NUMERIC(5,2) NOT NULL,
  created TIMESTAMP DEFAULT ('now'::text)::timestamp with time zone
);
CREATE TABLE IF NOT EXISTS sensor.location (
  id INTEGER NOT NULL DISTKEY SORTKEY,
  long NUMERIC(10,7) NOT NULL,
  lat NUMERIC(10,7) NOT NULL,
  description VARCHAR(256)
);
CREATE TABLE IF NOT EXISTS sensor.history (
  id INTEGER NOT NULL DISTKEY SORTKEY,
  serviced BIGINT NOT NULL,
  action VARCHAR(20) NOT NULL,
  technician_id INTEGER NOT NULL,
  notes VARCHAR(256)
);
CREATE TABLE IF NOT EXISTS sensor.sensor (
  id INTEGER NOT NULL DISTKEY SORTKEY,
  guid VARCHAR(36) NOT NULL,
  mac VARCHAR(18) NOT NULL,
  sku VARCHAR(18) NOT NULL,
  upc VARCHAR(12) NOT NULL,
  active BOOLEAN DEFAULT TRUE,
  notes VARCHAR(256)
);
CREATE TABLE IF NOT EXISTS sensor.manufacturer (
  id INTEGER NOT NULL DISTKEY SORTKEY,
  name VARCHAR(100) NOT NULL,
  website VARCHAR(100) NOT NULL,
  notes VARCHAR(256)
);
CREATE TABLE IF NOT EXISTS sensor.sensors (
  id BIGINT IDENTITY(1,1),
  sensor_id INTEGER NOT NULL DISTKEY SORTKEY,
  manufacturer_id INTEGER NOT NULL,
  location_id INTEGER NOT NULL,
  history_id INTEGER NOT NULL,
  message_guid VARCHAR(36) NOT NULL
);
`;

/** The dimension tables and their CSV columns, in load order. */
const DIMENSIONS: readonly { table: string; columns: string }[] = [
  { table: 'location', columns: 'id, long, lat, description' },
  { table: 'history', columns: 'id, serviced, action, technician_id, notes' },
  { table: 'sensor', columns: 'id, guid, mac, sku, upc, active, notes' },
  { table: 'manufacturer', columns: 'id, name, website, notes' },
  { table: 'sensors', columns: 'sensor_id, manufacturer_id, location_id, history_id, message_guid' },
];

/** The delivery stream of the scenario, as a CreateDeliveryStream request. */
export function demoStream(server: RunningServer, intervalSeconds: number): CreateDeliveryStreamInput {
  return {
    DeliveryStreamName: DEMO.stream,
    DeliveryStreamType: 'DirectPut',
    RedshiftDestinationConfiguration: {
      RoleARN: DEMO.roleArn,
      ClusterJDBCURL: `jdbc:redshift://127.0.0.1:${server.settings.sqlPort}/dev`,
      CopyCommand: {
        DataTableName: 'sensor.message',
        DataTableColumns: 'guid, ts, temp',
        CopyOptions: "JSON 'auto' GZIP",
      },
      Username: server.settings.user,
      Password: server.password,
      RetryOptions: { DurationInSeconds: 3600 },
      S3Configuration: {
        RoleARN: DEMO.roleArn,
        BucketARN: `arn:aws:s3:::${DEMO.dataBucket}`,
        Prefix: 'message/',
        BufferingHints: { SizeInMBs: 1, IntervalInSeconds: intervalSeconds },
        CompressionFormat: 'GZIP',
      },
    },
  };
}

/** Creates a bucket through the S3 API unless it exists, as `aws s3 mb` would. */
async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if (!(error instanceof S3ServiceException && error.name === 'BucketAlreadyOwnedByYou')) throw error;
  }
}

/**
 * Sets up the scenario on a running server: buckets, seed files, star schema, dimensions
 * (reloaded on every run, so a restart does not double them) and the delivery stream.
 */
export async function setUpScenario(
  server: RunningServer,
  options: { readonly intervalSeconds: number; readonly say: (line: string) => void },
): Promise<void> {
  // The seed files go in through the S3 API, as the reference scenario does with `aws s3 cp`.
  const s3 = new S3Client({
    endpoint: server.urls.aws,
    region: server.settings.region,
    forcePathStyle: true,
    credentials: server.settings.accessKeys[0] ?? { accessKeyId: 'sluice', secretAccessKey: 'sluice' },
  });
  await ensureBucket(s3, DEMO.dataBucket);
  await ensureBucket(s3, DEMO.logBucket);
  const files = (await readdir(SEED_DIR)).filter((f) => f.endsWith('.csv')).sort();
  for (const file of files) {
    const table = basename(file, '.csv');
    await s3.send(
      new PutObjectCommand({
        Bucket: DEMO.dataBucket,
        Key: `${table}/${file}`,
        Body: await readFile(join(SEED_DIR, file)),
        ContentType: 'text/csv',
      }),
    );
  }
  s3.destroy();
  options.say(`Uploaded ${files.length} seed files to s3://${DEMO.dataBucket}/<table>/`);

  const session = await server.warehouse.openSession(server.settings.user);
  try {
    await session.execute(SCHEMA_SQL);
    for (const { table, columns } of DIMENSIONS) {
      await session.execute(
        `BEGIN; TRUNCATE sensor.${table}; ` +
          `COPY sensor.${table} (${columns}) FROM 's3://${DEMO.dataBucket}/${table}/' ` +
          `CREDENTIALS 'aws_iam_role=${DEMO.roleArn}' CSV IGNOREHEADER 1; COMMIT;`,
      );
    }
    await session.execute(ANALYST_VIEWS_SQL);
    await session.execute(DEMO_VIEW_SQL);
  } finally {
    await session.close();
  }
  options.say(
    'Created schema sensor, loaded the dimension tables with COPY from the lake and created the analyst views',
  );
  // The console's demo dashboard, unless one was saved before (a user's edits win).
  const dashboards = await server.warehouse.listDocuments('dashboard');
  if (!dashboards.some((d) => d.id === DEMO_DASHBOARD.id)) {
    await server.warehouse.saveDocument({
      kind: 'dashboard',
      id: DEMO_DASHBOARD.id,
      name: DEMO_DASHBOARD.name,
      body: JSON.stringify(DEMO_DASHBOARD),
    });
  }

  const stream = demoStream(server, options.intervalSeconds);
  await server.streams.apply([stream]);
  options.say(
    `Delivery stream ${DEMO.stream} → s3://${DEMO.dataBucket}/message/ → sensor.message ` +
      `(buffer 1 MB / ${options.intervalSeconds} s, GZIP)`,
  );
}
