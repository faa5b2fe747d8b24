import type { EventPublisher } from '../../lambdas/adapters/aws/event-publisher';
import { ACK_RESPONSE_XML } from '../../lambdas/adapters/salesforce/outbound-message';
import type { CanonicalEvent } from '../../lambdas/domain/events';
import { type IngestDeps, ingestSalesforceMessage } from '../../lambdas/ingest-salesforce/logic';
import { pathTokenSecretSchema } from '../../lambdas/ingest-salesforce/schema';
import { TransientError } from '../../lambdas/shared/errors';
import {
  EMPTY_MESSAGE,
  FIXTURE_ORG_ID_15,
  LEAD_MESSAGE,
  notificationXml,
  outboundMessageWith,
  salesforceFixture,
  wonOpportunityFields,
} from './salesforce-test-messages';

const TOKEN = 'a-long-random-path-token-0123456789';

const recordingPublisher = (fail = false) => {
  const published: CanonicalEvent[] = [];
  const calls: string[] = [];
  const publisher: EventPublisher = {
    async publish(events) {
      calls.push('publish');
      if (fail) throw new TransientError('PutEvents failed', { code: 'PublishFailed' });
      published.push(...events);
    },
  };
  return { published, publisher, calls };
};

const deps = (publisher: EventPublisher, overrides: Partial<IngestDeps> = {}): IngestDeps => ({
  publisher,
  organizationId: FIXTURE_ORG_ID_15,
  wonStages: ['Closed Won'],
  maxBodyBytes: 256 * 1024,
  ...overrides,
});

const wonMessage = () =>
  outboundMessageWith([
    notificationXml('04l000000000001AAA', 'Opportunity', wonOpportunityFields()),
    notificationXml('04l000000000002AAA', 'Opportunity', wonOpportunityFields({ Id: '0066g00000AbCdFAAV' })),
    notificationXml('04l000000000003AAA', 'Lead', { Id: '00Q000000000001AAA' }),
  ]);

describe('Salesforce outbound message ingestion', () => {
  it('publishes every won deal of the message and only then answers 200 with the Ack', async () => {
    const { published, publisher } = recordingPublisher();
    const outcome = await ingestSalesforceMessage(
      { rawBody: wonMessage(), pathToken: undefined },
      deps(publisher),
    );
    expect(outcome).toMatchObject({ kind: 'acknowledged', status: 200, notifications: 3, ignored: 1 });
    expect(outcome.body).toBe(ACK_RESPONSE_XML);
    expect(published.map((event) => event.type)).toEqual(['crm.deal.won', 'crm.deal.won']);
    expect(outcome.kind === 'acknowledged' && outcome.published.map((p) => p.vendorEventId)).toEqual([
      '04l000000000001AAA',
      '04l000000000002AAA',
    ]);
  });

  it('does not answer until the publish has completed', async () => {
    let release: () => void = () => undefined;
    const publisher: EventPublisher = {
      publish: () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    };
    let settled = false;
    const pending = ingestSalesforceMessage(
      { rawBody: wonMessage(), pathToken: undefined },
      deps(publisher),
    ).then((outcome) => {
      settled = true;
      return outcome;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    release();
    expect((await pending).status).toBe(200);
  });

  it('publishes all of a message’s events in one call, so a failure cannot Ack half a message', async () => {
    const { publisher, calls } = recordingPublisher();
    await ingestSalesforceMessage({ rawBody: wonMessage(), pathToken: undefined }, deps(publisher));
    expect(calls).toEqual(['publish']);
  });

  it('answers 503 without the Ack when publishing fails, so Salesforce retries', async () => {
    const { publisher } = recordingPublisher(true);
    const outcome = await ingestSalesforceMessage(
      { rawBody: wonMessage(), pathToken: undefined },
      deps(publisher),
    );
    expect(outcome).toMatchObject({ kind: 'failed', status: 503 });
    expect(outcome.body).not.toContain('<Ack>');
    expect(outcome.body).toContain('<faultcode>soapenv:Server</faultcode>');
  });

  it('acknowledges the vendor’s three-Lead message without publishing anything', async () => {
    const { published, publisher, calls } = recordingPublisher();
    const outcome = await ingestSalesforceMessage(
      { rawBody: salesforceFixture(LEAD_MESSAGE), pathToken: undefined },
      deps(publisher),
    );
    expect(outcome).toMatchObject({ kind: 'acknowledged', status: 200, notifications: 3, ignored: 3 });
    expect(outcome.body).toBe(ACK_RESPONSE_XML);
    expect(published).toHaveLength(0);
    expect(calls).toHaveLength(0);
  });

  it('acknowledges the vendor’s empty notifications message with zero events', async () => {
    const { published, publisher } = recordingPublisher();
    const outcome = await ingestSalesforceMessage(
      { rawBody: salesforceFixture(EMPTY_MESSAGE), pathToken: undefined },
      deps(publisher),
    );
    expect(outcome).toMatchObject({ kind: 'acknowledged', status: 200, notifications: 0, published: [] });
    expect(outcome.body).toBe(ACK_RESPONSE_XML);
    expect(published).toHaveLength(0);
  });

  it.each([
    ['another org (15 characters configured)', '00D000000000001'],
    ['another org (18 characters configured)', '00D000000000001EAA'],
    ['an id differing from the message’s only in case', FIXTURE_ORG_ID_15.toLowerCase()],
    // The fixture's own suffix (NNN) is made up: against the correct 18-character id it disagrees.
    ['the same 15 characters with the correct suffix', `${FIXTURE_ORG_ID_15}AA5`],
  ])('rejects a message from %s with 403 and publishes nothing', async (_what, organizationId) => {
    const { published, publisher } = recordingPublisher();
    const outcome = await ingestSalesforceMessage(
      { rawBody: wonMessage(), pathToken: undefined },
      deps(publisher, { organizationId }),
    );
    expect(outcome).toMatchObject({
      kind: 'rejected',
      status: 403,
      reason: 'OrganizationId does not match the configured organization',
    });
    expect(outcome.body).not.toContain('<Ack>');
    expect(outcome.body).not.toContain(FIXTURE_ORG_ID_15);
    expect(published).toHaveLength(0);
  });

  it('accepts the message’s 18-character org id against the configured 15-character one', async () => {
    const { published, publisher } = recordingPublisher();
    const rawBody = outboundMessageWith(
      [notificationXml('04l000000000001AAA', 'Opportunity', wonOpportunityFields())],
      { organizationId: '00D000000000001EAA' },
    );
    const outcome = await ingestSalesforceMessage(
      { rawBody, pathToken: undefined },
      deps(publisher, { organizationId: '00D000000000001' }),
    );
    expect(outcome.kind).toBe('acknowledged');
    // The canonical source names the org in its 18-character form, whichever form was configured.
    expect(published[0]?.source.account).toBe('00D000000000001EAA');
  });

  it('rejects malformed XML with 400 and a SOAP client fault', async () => {
    const { published, publisher } = recordingPublisher();
    const outcome = await ingestSalesforceMessage(
      { rawBody: Buffer.from('<soapenv:Envelope'), pathToken: undefined },
      deps(publisher),
    );
    expect(outcome).toMatchObject({ kind: 'rejected', status: 400 });
    expect(outcome.body).toContain('<faultcode>soapenv:Client</faultcode>');
    expect(published).toHaveLength(0);
  });

  it('rejects a won Opportunity it cannot read with 400 naming the field, publishing nothing', async () => {
    const { published, publisher } = recordingPublisher();
    const { LastModifiedDate: _a, SystemModstamp: _b, ...fields } = wonOpportunityFields();
    const rawBody = outboundMessageWith([
      notificationXml('04l000000000001AAA', 'Opportunity', wonOpportunityFields()),
      notificationXml('04l000000000002AAA', 'Opportunity', fields),
    ]);
    const outcome = await ingestSalesforceMessage({ rawBody, pathToken: undefined }, deps(publisher));
    expect(outcome).toMatchObject({ kind: 'rejected', status: 400 });
    expect(outcome.kind === 'rejected' && outcome.reason).toMatch(
      /Notification\.1\.sObject\.LastModifiedDate/,
    );
    expect(published).toHaveLength(0);
  });

  it('rejects an oversized body with 413 before parsing it', async () => {
    const { publisher } = recordingPublisher();
    const outcome = await ingestSalesforceMessage(
      { rawBody: wonMessage(), pathToken: undefined },
      deps(publisher, { maxBodyBytes: 100 }),
    );
    expect(outcome).toMatchObject({ kind: 'rejected', status: 413 });
  });

  describe('with a path token configured', () => {
    const withToken = (publisher: EventPublisher, pathTokens = jest.fn(async () => [TOKEN])) =>
      deps(publisher, { pathTokens });

    it('accepts a request carrying the token', async () => {
      const { publisher } = recordingPublisher();
      const outcome = await ingestSalesforceMessage(
        { rawBody: wonMessage(), pathToken: TOKEN },
        withToken(publisher),
      );
      expect(outcome.kind).toBe('acknowledged');
    });

    it('accepts either token while the endpoint URL moves to a new one', async () => {
      const { publisher } = recordingPublisher();
      const outcome = await ingestSalesforceMessage(
        { rawBody: wonMessage(), pathToken: TOKEN },
        withToken(
          publisher,
          jest.fn(async () => ['the-new-token-0123456789', TOKEN]),
        ),
      );
      expect(outcome.kind).toBe('acknowledged');
    });

    it.each([
      ['no token', undefined, 'missing path token'],
      ['a wrong token', 'a-long-random-path-token-0123456788', 'path token does not match'],
      ['a prefix of the token', TOKEN.slice(0, 10), 'path token does not match'],
    ])('rejects a request with %s with 403 before parsing it', async (_what, pathToken, reason) => {
      const { published, publisher } = recordingPublisher();
      const outcome = await ingestSalesforceMessage(
        { rawBody: Buffer.from('not even XML'), pathToken },
        withToken(publisher),
      );
      expect(outcome).toMatchObject({ kind: 'rejected', status: 403, reason });
      expect(outcome.body).not.toContain(TOKEN);
      expect(published).toHaveLength(0);
    });

    it('answers 503 when the token cannot be read, so Salesforce retries', async () => {
      const { publisher } = recordingPublisher();
      const outcome = await ingestSalesforceMessage(
        { rawBody: wonMessage(), pathToken: TOKEN },
        withToken(
          publisher,
          jest.fn(async (): Promise<string[]> => {
            throw new TransientError('no secret', { code: 'SecretUnavailable' });
          }),
        ),
      );
      expect(outcome).toMatchObject({ kind: 'failed', status: 503 });
      expect(outcome.body).not.toContain('<Ack>');
    });
  });
});

describe('path token secret value', () => {
  it('accepts the token itself or a list during a change of endpoint URL', () => {
    expect(pathTokenSecretSchema.parse(TOKEN)).toEqual([TOKEN]);
    expect(pathTokenSecretSchema.parse({ pathTokens: [TOKEN, `${TOKEN}x`] })).toEqual([TOKEN, `${TOKEN}x`]);
  });

  it('refuses a token too short to resist guessing', () => {
    expect(pathTokenSecretSchema.safeParse('abc').success).toBe(false);
    expect(pathTokenSecretSchema.safeParse({ pathTokens: [] }).success).toBe(false);
  });
});
