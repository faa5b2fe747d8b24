import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { ManualClock } from '../../local/eventbridge/schedule';
import { LocalRuntime } from '../../local/runtime/runtime';

/** The stack's reconciliation schedule in the local runtime, on a clock the test advances. */
let runtime: LocalRuntime;
let documents: DynamoDBDocumentClient;
const clock = new ManualClock(Date.now());

beforeAll(async () => {
  runtime = await LocalRuntime.start({ ephemeralPorts: true, scheduleClock: clock });
  documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      endpoint: runtime.dynamoUrl,
    }),
  );
});

afterAll(async () => {
  documents?.destroy();
  await runtime?.stop();
});

const checkpointsTable = () => {
  const name = runtime.tables.find((t) => t.includes('Checkpoints'));
  if (!name) throw new Error('no Checkpoints table');
  return name;
};
const scheduledCheckpoint = async () =>
  (
    await documents.send(
      new GetCommand({ TableName: checkpointsTable(), Key: { pk: 'scheduled' }, ConsistentRead: true }),
    )
  ).Item;

describe("the stack's reconciliation schedule in the local runtime", () => {
  it('fires the scheduled run once an hour passes on the clock, and the run completes', async () => {
    expect(await scheduledCheckpoint()).toBeUndefined();
    clock.advance(60 * 60_000);
    expect(Object.values(runtime.schedules.firings())).toEqual([1]);
    // The target is invoked asynchronously (as EventBridge invokes Lambda): wait for its checkpoint.
    let status: unknown;
    for (let i = 0; i < 400 && status !== 'COMPLETE'; i += 1) {
      status = (await scheduledCheckpoint())?.status;
      if (status !== 'COMPLETE') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toBe('COMPLETE');
  });
});
