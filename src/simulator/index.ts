/**
 * The IoT sensor simulator of the reference scenario (BRIEF.md, "The scenario", step 6):
 * sine-wave temperature readings `{"guid": "...", "ts": <epoch s>, "temp": 99.99}` sent to a
 * delivery stream with the AWS SDK's Firehose client, so it works against Sluice or AWS.
 */
export {
  readSensors,
  sensorReading,
  encodeReading,
  testMessage,
  tempMaxFor,
  TEMP_MAX,
  STEPS_PER_CYCLE,
  TEST_GUID,
  type Sensor,
  type Reading,
} from './readings.ts';
export {
  runSimulator,
  putTestMessage,
  parseDuration,
  DEFAULT_STREAM,
  type SimulatorOptions,
  type SimulatorResult,
  type TestMessageOptions,
} from './simulator.ts';
export {
  createFirehoseSender,
  resolveCredentials,
  type AwsCredentials,
  type BatchOutcome,
  type FirehoseConnectionOptions,
  type RecordSender,
} from './firehose-sender.ts';
