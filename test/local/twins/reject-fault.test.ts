import Stripe from 'stripe';
import { FaultInjector, parseFaultConfig, startTwinServer } from '../../../local/twins/common';
import { startNetSuiteTwin } from '../../../local/twins/netsuite';
import { startStripeTwin } from '../../../local/twins/stripe';

/** The `reject` fault: a vendor refusing a request for good, as a rule in the customer's account does. */

describe('FaultInjector rejections', () => {
  it('refuses the matching requests, by method and path, as many times as configured', () => {
    const faults = new FaultInjector({ reject: [{ method: 'put', path: '/salesOrder/', times: 2 }] });
    expect(faults.nextRejection('GET', '/record/v1/salesOrder/eid:1')).toBeUndefined();
    expect(faults.nextRejection('PUT', '/record/v1/customer/eid:1')).toBeUndefined();
    expect(faults.nextRejection('PUT', '/record/v1/salesOrder/eid:1')).toBe(400);
    expect(faults.nextRejection('PUT', '/record/v1/salesOrder/eid:2')).toBe(400);
    expect(faults.nextRejection('PUT', '/record/v1/salesOrder/eid:3')).toBeUndefined();
  });

  it('refuses every match without `times`, with the given status, and starts over on set', () => {
    const faults = new FaultInjector({ reject: [{ path: '/v1/customers', status: 402, times: 1 }] });
    expect(faults.nextRejection('POST', '/v1/customers')).toBe(402);
    expect(faults.nextRejection('POST', '/v1/customers')).toBeUndefined();
    faults.set({ reject: [{ path: '/v1/customers' }] });
    expect([1, 2, 3].map(() => faults.nextRejection('POST', '/v1/customers'))).toEqual([400, 400, 400]);
  });

  it('leaves the seeded random faults as they were (a rejection draws nothing)', () => {
    const config = { seed: 3, errorRate: 0.5, timeoutRate: 0.2 };
    const plain = new FaultInjector(config);
    const rejecting = new FaultInjector({ ...config, reject: [{ path: '/refused' }] });
    const expected = Array.from({ length: 10 }, () => plain.nextRequestFault().kind);
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) {
      const path = i % 2 === 0 ? '/refused' : '/served';
      if (rejecting.nextRejection('GET', path) === undefined) seen.push(rejecting.nextRequestFault().kind);
    }
    expect(seen).toEqual(expected);
  });

  it('accepts only 4xx statuses in a config', () => {
    expect(() => parseFaultConfig({ reject: [{ path: '/x', status: 503 }] }, 'test')).toThrow(
      /reject\.0\.status/,
    );
  });
});

describe('a twin refusing a request', () => {
  it('answers in the vendor shape without reaching the handler', async () => {
    let handled = 0;
    const faults = new FaultInjector({ reject: [{ method: 'POST', path: '/v1/things', times: 1 }] });
    const twin = await startTwinServer({
      name: 'test',
      faults,
      handler: async () => {
        handled++;
        return { status: 200, body: {} };
      },
      vendorError: (status) => ({ status, body: { vendor: 'shape', status } }),
    });
    try {
      const refused = await fetch(`${twin.url}/v1/things`, { method: 'POST' });
      expect(refused.status).toBe(400);
      expect(await refused.json()).toEqual({ vendor: 'shape', status: 400 });
      expect(handled).toBe(0);
      expect((await fetch(`${twin.url}/v1/things`, { method: 'POST' })).status).toBe(200);
      expect(handled).toBe(1);
    } finally {
      await twin.close();
    }
  });

  it('is a non-retryable invalid request error for the Stripe SDK', async () => {
    const twin = await startStripeTwin({
      port: 0,
      faults: { reject: [{ method: 'POST', path: '/v1/customers', times: 1 }] },
    });
    const url = new URL(twin.url);
    const stripe = new Stripe(twin.apiKey, {
      host: url.hostname,
      port: Number(url.port),
      protocol: 'http',
      maxNetworkRetries: 2,
    });
    try {
      const error = await stripe.customers.create({ name: 'Initech' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(error).toMatchObject({ code: 'request_refused', statusCode: 400 });
      // Refused once only: a retry would have succeeded. Stripe-Should-Retry: false kept the SDK from it.
      expect(twin.list('customer')).toEqual([]);
    } finally {
      await twin.close();
    }
  });

  it("is NetSuite's USER_ERROR, as a user event script that throws answers", async () => {
    const twin = await startNetSuiteTwin({ port: 0, faults: { reject: [{ path: '/customer/' }] } });
    try {
      const response = await fetch(`${twin.url}/services/rest/record/v1/customer/eid:x`, {
        method: 'PUT',
        body: '{}',
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ 'o:errorDetails': [{ 'o:errorCode': 'USER_ERROR' }] });
    } finally {
      await twin.close();
    }
  });
});
