import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { dynamoExceptionsRepository, exceptionId } from '../../lambdas/adapters/aws/exceptions-repository';
import {
  dynamoLinksEraser,
  dynamoLinksRepository,
  type LinkKey,
} from '../../lambdas/adapters/aws/links-repository';
import { invoicePaidEvent } from '../support/canonical-events';

const dynamo = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const named = (name: string) => Object.assign(new Error(name), { name });

/** What a rejected call threw, as the caller sees it. */
const failureOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; code: string; message: string; cause?: unknown };
    return { name: e.name, code: e.code, message: e.message, cause: (e.cause as Error | undefined)?.name };
  }
  throw new Error('expected a rejection');
};

afterEach(() => dynamo.reset());

describe('the links repository', () => {
  const customer: LinkKey = { entity: 'customer', system: 'stripe', id: 'cus_1' };
  const invoice: LinkKey = { entity: 'invoice', system: 'stripe', id: 'in_1' };
  const links = dynamoLinksRepository(client, 'links');

  it('asks nothing for no queries', async () => {
    await expect(links.find([])).resolves.toEqual([]);
    expect(dynamo.calls()).toHaveLength(0);
  });

  it('reads each distinct link once, consistently, and answers in the order asked', async () => {
    dynamo.on(BatchGetCommand).resolves({
      Responses: { links: [{ pk: 'invoice#stripe#in_1', target: 'netsuite', targetId: '77' }] },
    });
    const found = await links.find([
      { key: invoice, target: 'netsuite' },
      { key: customer, target: 'netsuite' },
      { key: invoice, target: 'netsuite' },
    ]);
    expect(found).toEqual(['77', undefined, '77']);
    expect(dynamo.commandCalls(BatchGetCommand).map((c) => c.args[0].input)).toEqual([
      {
        RequestItems: {
          links: {
            Keys: [
              { pk: 'invoice#stripe#in_1', target: 'netsuite' },
              { pk: 'customer#stripe#cus_1', target: 'netsuite' },
            ],
            ConsistentRead: true,
          },
        },
      },
    ]);
  });

  it('asks again for the keys DynamoDB left unprocessed', async () => {
    const customerKey = { pk: 'customer#stripe#cus_1', target: 'netsuite' };
    dynamo
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { links: [] }, UnprocessedKeys: { links: { Keys: [customerKey] } } })
      .resolvesOnce({ Responses: { links: [{ ...customerKey, targetId: '12' }] } });
    await expect(links.find([{ key: customer, target: 'netsuite' }])).resolves.toEqual(['12']);
    expect(dynamo.commandCalls(BatchGetCommand)[1]?.args[0].input.RequestItems?.links?.Keys).toEqual([
      customerKey,
    ]);
  });

  it('is transient when keys stay unprocessed after five attempts', async () => {
    const key = { pk: 'customer#stripe#cus_1', target: 'netsuite' };
    dynamo.on(BatchGetCommand).resolves({ UnprocessedKeys: { links: { Keys: [key] } } });
    expect(await failureOf(links.find([{ key: customer, target: 'netsuite' }]))).toMatchObject({
      name: 'TransientError',
      code: 'LinksUnavailable',
      message: 'links table read failed',
    });
    expect(dynamo.commandCalls(BatchGetCommand)).toHaveLength(5);
  });

  it('is transient, keeping the cause, when the read is throttled', async () => {
    dynamo.on(BatchGetCommand).rejects(named('ProvisionedThroughputExceededException'));
    expect(await failureOf(links.find([{ key: customer, target: 'netsuite' }]))).toEqual({
      name: 'TransientError',
      code: 'LinksUnavailable',
      message: 'links table read failed',
      cause: 'ProvisionedThroughputExceededException',
    });
  });

  it('writes a link and its reverse in one call, naming the event that caused them', async () => {
    dynamo.on(BatchWriteCommand).resolves({});
    await links.record(customer, 'netsuite', '12', 'evt_1');
    const items = dynamo
      .commandCalls(BatchWriteCommand)
      .flatMap((c) => (c.args[0].input.RequestItems?.links ?? []).map((r) => r.PutRequest?.Item));
    expect(items).toEqual([
      expect.objectContaining({
        pk: 'customer#stripe#cus_1',
        target: 'netsuite',
        targetId: '12',
        recordedBy: 'evt_1',
      }),
      expect.objectContaining({
        pk: 'customer#netsuite#12',
        target: 'stripe',
        targetId: 'cus_1',
        recordedBy: 'evt_1',
      }),
    ]);
    expect(items.map((item) => item?.entity)).toEqual(['customer', 'customer']);
  });

  it('writes no reverse for an attribute many entities share', async () => {
    dynamo.on(BatchWriteCommand).resolves({});
    await links.record(
      { entity: 'customerSubsidiary', system: 'stripe', id: 'cus_1' },
      'netsuite',
      '2',
      'evt_1',
      {
        reverse: false,
      },
    );
    expect(dynamo.commandCalls(BatchWriteCommand)[0]?.args[0].input.RequestItems?.links).toHaveLength(1);
  });

  it('writes again what DynamoDB left unprocessed, and is transient when it never gets through', async () => {
    const leftOver = [{ PutRequest: { Item: { pk: 'customer#netsuite#12', target: 'stripe' } } }];
    dynamo
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { links: leftOver } })
      .resolvesOnce({});
    await links.record(customer, 'netsuite', '12', 'evt_1');
    expect(dynamo.commandCalls(BatchWriteCommand)[1]?.args[0].input.RequestItems?.links).toEqual(leftOver);

    dynamo.reset();
    dynamo.on(BatchWriteCommand).resolves({ UnprocessedItems: { links: leftOver } });
    expect(await failureOf(links.record(customer, 'netsuite', '12', 'evt_1'))).toMatchObject({
      name: 'TransientError',
      code: 'LinksUnavailable',
      message: 'links table write failed',
    });
    expect(dynamo.commandCalls(BatchWriteCommand)).toHaveLength(5);
  });

  it('forgets a link only while it still names the id re-drive saw, and then its reverse', async () => {
    dynamo
      .on(DeleteCommand)
      .resolvesOnce({ Attributes: { pk: 'invoice#stripe#in_1', target: 'netsuite', targetId: '77' } })
      .resolves({});
    expect(await dynamoLinksEraser(client, 'links').forget(invoice, 'netsuite', { targetId: '77' })).toBe(
      'forgotten',
    );
    expect(dynamo.commandCalls(DeleteCommand).map((call) => call.args[0].input)).toEqual([
      {
        TableName: 'links',
        Key: { pk: 'invoice#stripe#in_1', target: 'netsuite' },
        ReturnValues: 'ALL_OLD',
        ConditionExpression: 'attribute_not_exists(targetId) OR (targetId = :id)',
        ExpressionAttributeValues: { ':id': '77' },
      },
      {
        TableName: 'links',
        Key: { pk: 'invoice#netsuite#77', target: 'stripe' },
        ConditionExpression: 'targetId = :id',
        ExpressionAttributeValues: { ':id': 'in_1' },
      },
    ]);
  });

  it('has no reverse to forget when the link was already gone', async () => {
    dynamo.on(DeleteCommand).resolves({});
    expect(await dynamoLinksEraser(client, 'links').forget(invoice, 'netsuite')).toBe('absent');
    expect(dynamo.commandCalls(DeleteCommand)).toHaveLength(1);
  });

  it('forgets only a link recorded before the given time, keeping one recorded since', async () => {
    dynamo.on(DeleteCommand).rejectsOnce(named('ConditionalCheckFailedException'));
    const at = '2026-12-04T03:00:00.000Z';
    expect(await dynamoLinksEraser(client, 'links').forget(invoice, 'netsuite', { recordedBefore: at })).toBe(
      'kept',
    );
    expect(dynamo.commandCalls(DeleteCommand).map((call) => call.args[0].input)).toEqual([
      {
        TableName: 'links',
        Key: { pk: 'invoice#stripe#in_1', target: 'netsuite' },
        ReturnValues: 'ALL_OLD',
        ConditionExpression: 'attribute_not_exists(targetId) OR (recordedAt < :before)',
        ExpressionAttributeValues: { ':before': at },
      },
    ]);
  });

  it('counts the link forgotten when its reverse already points elsewhere', async () => {
    dynamo
      .on(DeleteCommand)
      .resolvesOnce({ Attributes: { pk: 'invoice#stripe#in_1', target: 'netsuite', targetId: '77' } })
      .rejectsOnce(named('ConditionalCheckFailedException'));
    expect(await dynamoLinksEraser(client, 'links').forget(invoice, 'netsuite')).toBe('forgotten');
  });

  it('keeps a link another run re-recorded, quietly, and is transient when the delete fails', async () => {
    const eraser = dynamoLinksEraser(client, 'links');
    dynamo
      .on(DeleteCommand)
      .rejectsOnce(named('ConditionalCheckFailedException'))
      .rejectsOnce(named('InternalServerError'));
    expect(await eraser.forget(invoice, 'netsuite', { targetId: '77' })).toBe('kept');
    expect(await failureOf(eraser.forget(invoice, 'netsuite'))).toEqual({
      name: 'TransientError',
      code: 'LinksUnavailable',
      message: 'links table delete failed',
      cause: 'InternalServerError',
    });
  });
});

describe('the exceptions repository', () => {
  const exceptions = dynamoExceptionsRepository(client, 'exceptions');
  const event = invoicePaidEvent();

  it('derives the id from the flow and the event, so a redelivery opens no second exception', () => {
    expect(exceptionId('post-invoice', 'evt_1')).toMatch(/^exc_[0-9a-f]{24}$/);
    expect(exceptionId('post-invoice', 'evt_1')).toBe(exceptionId('post-invoice', 'evt_1'));
    expect(exceptionId('post-invoice', 'evt_1')).not.toBe(exceptionId('apply-payment', 'evt_1'));
  });

  it('opens an exception holding the event, only if none has that id', async () => {
    dynamo.on(PutCommand).resolves({});
    const record = await exceptions.open('post-invoice', 'MissingCustomer', 'no ERP customer', event);
    expect(record).toEqual({
      exceptionId: exceptionId('post-invoice', event.id),
      flow: 'post-invoice',
      code: 'MissingCustomer',
      message: 'no ERP customer',
      event,
    });
    const input = dynamo.commandCalls(PutCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(input?.Item).toMatchObject({
      pk: record.exceptionId,
      status: 'OPEN',
      eventId: event.id,
      eventType: 'billing.invoice.paid',
      correlationId: event.correlationId,
      event: JSON.stringify(event),
    });
  });

  it('keys an exception by what it is about when given, not by the event', async () => {
    dynamo.on(PutCommand).resolves({});
    const record = await exceptions.open('flag-dunning', 'Dunning', 'failed twice', event, 'in_1');
    expect(record.exceptionId).toBe(exceptionId('flag-dunning', 'in_1'));
  });

  it('answers the same record when the exception is open already', async () => {
    dynamo.on(PutCommand).rejects(named('ConditionalCheckFailedException'));
    const record = await exceptions.open('post-invoice', 'MissingCustomer', 'no ERP customer', event);
    expect(record.exceptionId).toBe(exceptionId('post-invoice', event.id));
  });

  it('is transient when the table cannot be written', async () => {
    dynamo.on(PutCommand).rejects(named('ProvisionedThroughputExceededException'));
    expect(await failureOf(exceptions.open('post-invoice', 'X', 'x', event))).toEqual({
      name: 'TransientError',
      code: 'ExceptionsUnavailable',
      message: 'exceptions table write failed',
      cause: 'ProvisionedThroughputExceededException',
    });
  });

  it('resolves an open exception once, naming who resolved it', async () => {
    dynamo.on(UpdateCommand).resolvesOnce({}).rejectsOnce(named('ConditionalCheckFailedException'));
    await expect(exceptions.resolve('exc_1', 'evt_paid')).resolves.toBe(true);
    await expect(exceptions.resolve('exc_1', 'evt_paid')).resolves.toBe(false);
    const input = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.Key).toEqual({ pk: 'exc_1' });
    expect(input?.ExpressionAttributeValues).toMatchObject({ ':resolved': 'RESOLVED', ':by': 'evt_paid' });
  });

  it('is transient when the resolve fails for another reason', async () => {
    dynamo.on(UpdateCommand).rejects(named('InternalServerError'));
    expect((await failureOf(exceptions.resolve('exc_1', 'evt_paid'))).code).toBe('ExceptionsUnavailable');
  });
});
