import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { trailOf } from '../../ops/queries';

/**
 * The trail's link steps. Each link is stored in both directions, and a Scan returns the two items in
 * the order of their keys' hashes: whichever comes first must not decide how the step reads.
 */

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(documents);

afterEach(() => mock.reset());
afterAll(() => documents.destroy());

const link = (pk: string, target: string, targetId: string, at: string) => ({
  pk,
  target,
  targetId,
  entity: pk.split('#')[0],
  recordedBy: 'evt_1',
  recordedAt: at,
});
const invoiceLinks = [
  link('invoice#stripe#in_1', 'netsuite', '1001', '2026-12-03T10:00:01.000Z'),
  link('invoice#netsuite#1001', 'stripe', 'in_1', '2026-12-03T10:00:01.000Z'),
  // Another invoice's pair: not in this trail.
  link('invoice#netsuite#1002', 'stripe', 'in_2', '2026-12-03T10:00:02.000Z'),
  link('invoice#stripe#in_2', 'netsuite', '1002', '2026-12-03T10:00:02.000Z'),
];

const trailWithLinksScanned = async (items: Record<string, unknown>[]) => {
  mock.on(ScanCommand, { TableName: 'links' }).resolves({ Items: items });
  mock.on(ScanCommand, { TableName: 'exceptions' }).resolves({ Items: [] });
  return trailOf(documents, { links: 'links', exceptions: 'exceptions' }, 'in_1');
};

describe('the trail of an id through its links', () => {
  it('tells a link pair once, towards the ERP, whichever direction the scan returns first', async () => {
    const expected = [
      {
        at: '2026-12-03T10:00:01.000Z',
        kind: 'link',
        system: 'netsuite',
        id: '1001',
        detail: 'invoice stripe in_1 → netsuite 1001 (by evt_1)',
      },
    ];
    expect(await trailWithLinksScanned(invoiceLinks)).toEqual(expected);
    expect(await trailWithLinksScanned([...invoiceLinks].reverse())).toEqual(expected);
  });

  it('tells a link stored one way only as it is stored', async () => {
    const steps = await trailWithLinksScanned([
      link('invoice#netsuite#1001', 'stripe', 'in_1', '2026-12-03T10:00:01.000Z'),
    ]);
    expect(steps.map((step) => step.detail)).toEqual(['invoice netsuite 1001 → stripe in_1 (by evt_1)']);
  });
});
