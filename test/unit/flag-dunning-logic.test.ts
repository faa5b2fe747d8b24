import type { DunningRepository, DunningState } from '../../lambdas/adapters/aws/dunning-repository';
import type { CanonicalEvent } from '../../lambdas/domain/events';
import {
  accountFlag,
  dunningExceptionId,
  type FlagDunningDeps,
  flagDunning,
} from '../../lambdas/flag-dunning/logic';
import type { DunningMapping } from '../../lambdas/flag-dunning/schema';
import { TransientError } from '../../lambdas/shared/errors';
import { invoicePaidEvent, paymentFailedEvent } from '../support/canonical-events';

const CUSTOMER = 'cus_QXg1o8vcGmoR32';
const INVOICE = 'in_1Pgc6tB7WZ01zgkWu9fdqL6I';
const ACCOUNT = '001000000000001AAA';

const mapping: DunningMapping = {
  salesforce: {
    amountDue: 'Amount_Past_Due__c',
    attemptCount: 'Payment_Attempts__c',
    nextRetryDate: 'Next_Payment_Retry__c',
    invoiceId: 'Failed_Invoice_Id__c',
  },
  hubspot: {
    amountDue: 'revbridge_amount_past_due',
    attemptCount: 'revbridge_payment_attempts',
    nextRetryDate: 'revbridge_next_payment_retry',
  },
};

/** A dunning table that keeps one item per customer, with the repository's revision check. */
const memoryDunning = () => {
  const items = new Map<string, DunningState>();
  const repository: DunningRepository & { conflictsLeft: number } = {
    conflictsLeft: 0,
    async get(customerId) {
      return items.get(customerId) ?? { revision: 0, invoices: {} };
    },
    async put(customerId, expected, next) {
      if (repository.conflictsLeft > 0) {
        repository.conflictsLeft -= 1;
        const current = items.get(customerId) ?? { revision: 0, invoices: {} };
        items.set(customerId, { ...current, revision: current.revision + 1 });
        return false;
      }
      if ((items.get(customerId)?.revision ?? 0) !== expected.revision) return false;
      items.set(customerId, { revision: expected.revision + 1, invoices: next });
      return true;
    },
  };
  return { repository, items };
};

const setup = (links: { salesforce?: string; hubspot?: string } = { salesforce: ACCOUNT }) => {
  const dunning = memoryDunning();
  const salesforceWrites: { id: string; fields: Record<string, unknown> }[] = [];
  const hubspotWrites: { id: string; fields: Record<string, unknown> }[] = [];
  const opened = new Map<string, { code: string; message: string; eventId: string }>();
  const resolved: string[] = [];
  const published: CanonicalEvent[] = [];
  const deps: FlagDunningDeps = {
    dunning: dunning.repository,
    links: {
      async find(queries) {
        return queries.map((q) =>
          q.key.id === CUSTOMER ? links[q.target as 'salesforce' | 'hubspot'] : undefined,
        );
      },
    },
    crm: {
      salesforce: {
        async updateAccount(id, fields) {
          salesforceWrites.push({ id, fields });
        },
      },
      hubspot: {
        async updateCompany(id, fields) {
          hubspotWrites.push({ id, fields });
        },
      },
    },
    exceptions: {
      async open(flow, code, message, event, key) {
        const exceptionId = dunningExceptionId(String(key).replace(/^invoice#/, ''));
        if (!opened.has(exceptionId)) opened.set(exceptionId, { code, message, eventId: event.id });
        return { exceptionId, flow, code, message, event };
      },
      async resolve(id) {
        if (!opened.has(id) || resolved.includes(id)) return false;
        resolved.push(id);
        return true;
      },
    },
    publisher: {
      async publish(events) {
        published.push(...events);
      },
    },
    mapping,
    now: () => new Date('2024-07-26T00:00:00Z'),
  };
  return { deps, dunning, salesforceWrites, hubspotWrites, opened, resolved, published };
};

describe('flag-dunning logic', () => {
  it('flags the linked Salesforce account with the amount due, attempts and next retry, and opens one exception', async () => {
    const t = setup();
    const result = await flagDunning(paymentFailedEvent(1), t.deps);
    expect(result).toMatchObject({
      outcome: 'flagged',
      invoiceId: INVOICE,
      attemptCount: 1,
      amountDue: 1000,
      currency: 'USD',
      firstFailure: true,
      repeated: false,
      accounts: ['salesforce'],
    });
    expect(t.salesforceWrites).toEqual([
      {
        id: ACCOUNT,
        fields: {
          Amount_Past_Due__c: 10,
          Payment_Attempts__c: 1,
          Next_Payment_Retry__c: '2024-07-29',
          Failed_Invoice_Id__c: INVOICE,
        },
      },
    ]);
    expect([...t.opened.values()]).toEqual([
      expect.objectContaining({ code: 'PaymentFailed', eventId: paymentFailedEvent(1).id }),
    ]);
    expect(t.published.map((event) => event.type)).toEqual(['ops.exception.opened']);
  });

  it('keeps one exception for the invoice when later attempts fail, and shows the latest attempt', async () => {
    const t = setup();
    await flagDunning(paymentFailedEvent(1), t.deps);
    const second = await flagDunning(paymentFailedEvent(2, { nextAttempt: null }), t.deps);
    expect(second).toMatchObject({ outcome: 'flagged', attemptCount: 2, firstFailure: false });
    expect(second.outcome === 'flagged' && second.exceptionId).toBe(dunningExceptionId(INVOICE));
    expect(t.opened.size).toBe(1);
    expect(t.published).toHaveLength(1);
    expect(t.salesforceWrites.at(-1)?.fields).toMatchObject({
      Payment_Attempts__c: 2,
      Next_Payment_Retry__c: null,
    });
  });

  it('ignores an older attempt that arrives after a newer one, writing nothing', async () => {
    const t = setup();
    await flagDunning(paymentFailedEvent(2), t.deps);
    const writes = t.salesforceWrites.length;
    const late = await flagDunning(paymentFailedEvent(1), t.deps);
    expect(late).toEqual({ outcome: 'ignored', invoiceId: INVOICE, reason: 'stale' });
    expect(t.salesforceWrites).toHaveLength(writes);
    expect(t.dunning.items.get(CUSTOMER)?.invoices[INVOICE]?.attemptCount).toBe(2);
  });

  it('clears the flag and resolves the exception when the invoice is paid', async () => {
    const t = setup({ salesforce: ACCOUNT, hubspot: '5001' });
    await flagDunning(paymentFailedEvent(1), t.deps);
    const paid = await flagDunning(invoicePaidEvent(), t.deps);
    expect(paid).toMatchObject({
      outcome: 'cleared',
      invoiceId: INVOICE,
      amountRecovered: 1000,
      exceptionResolved: true,
      accounts: ['salesforce', 'hubspot'],
    });
    expect(t.salesforceWrites.at(-1)?.fields).toEqual({
      Amount_Past_Due__c: null,
      Payment_Attempts__c: null,
      Next_Payment_Retry__c: null,
      Failed_Invoice_Id__c: null,
    });
    expect(t.hubspotWrites.at(-1)).toEqual({
      id: '5001',
      fields: {
        revbridge_amount_past_due: null,
        revbridge_payment_attempts: null,
        revbridge_next_payment_retry: null,
      },
    });
    expect(t.resolved).toEqual([dunningExceptionId(INVOICE)]);
  });

  it('ignores a failure delivered after the invoice was paid, even one that never failed before', async () => {
    const t = setup();
    expect(await flagDunning(invoicePaidEvent(), t.deps)).toMatchObject({
      outcome: 'ignored',
      reason: 'never-failed',
    });
    expect(await flagDunning(paymentFailedEvent(1), t.deps)).toMatchObject({
      outcome: 'ignored',
      reason: 'paid',
    });
    expect(t.salesforceWrites).toHaveLength(0);
    expect(t.opened.size).toBe(0);
  });

  it('keeps the account flagged while another invoice of the customer is still failing', async () => {
    const t = setup();
    const other = paymentFailedEvent(1, {
      id: 'evt_other_failed',
      created: 1_721_960_000,
      invoice: { id: 'in_other', amount_due: 500, amount_remaining: 500 },
    });
    await flagDunning(paymentFailedEvent(1), t.deps);
    await flagDunning(other, t.deps);
    expect(t.salesforceWrites.at(-1)?.fields).toMatchObject({ Amount_Past_Due__c: 15 });
    await flagDunning(invoicePaidEvent(), t.deps);
    expect(t.salesforceWrites.at(-1)?.fields).toMatchObject({
      Amount_Past_Due__c: 5,
      Failed_Invoice_Id__c: 'in_other',
    });
  });

  it('redoes the CRM write when the same event comes back after a failure, without a second exception', async () => {
    const t = setup();
    const event = paymentFailedEvent(1);
    const updateAccount = t.deps.crm.salesforce.updateAccount;
    let calls = 0;
    const flaky: FlagDunningDeps = {
      ...t.deps,
      crm: {
        ...t.deps.crm,
        salesforce: {
          async updateAccount(id, fields) {
            calls += 1;
            if (calls === 1) throw new TransientError('busy', { code: 'REQUEST_LIMIT_EXCEEDED' });
            await updateAccount(id, fields);
          },
        },
      },
    };
    await expect(flagDunning(event, flaky)).rejects.toThrow(TransientError);
    expect(await flagDunning(event, flaky)).toMatchObject({ outcome: 'flagged', firstFailure: true });
    expect(t.salesforceWrites).toHaveLength(1);
    expect(t.opened.size).toBe(1);
  });

  it('writes the CRM again for a replay of the applied attempt (a new event id), opening nothing new', async () => {
    const t = setup();
    await flagDunning(paymentFailedEvent(1), t.deps);
    const replay = { ...paymentFailedEvent(1), id: `${paymentFailedEvent(1).id}-replay-1` };
    expect(await flagDunning(replay, t.deps)).toMatchObject({
      outcome: 'flagged',
      repeated: true,
      firstFailure: false,
    });
    expect(t.salesforceWrites).toHaveLength(2);
    expect(t.opened.size).toBe(1);
    expect(t.published).toHaveLength(1);
  });

  it('reads the state again when another writer changed it in between', async () => {
    const t = setup();
    t.dunning.repository.conflictsLeft = 2;
    expect(await flagDunning(paymentFailedEvent(1), t.deps)).toMatchObject({ outcome: 'flagged' });
    t.dunning.repository.conflictsLeft = 10;
    await expect(flagDunning(paymentFailedEvent(2), t.deps)).rejects.toThrow(/keeps changing/);
  });

  it('leaves the account showing the latest state when a payment lands while a failure writes the CRM', async () => {
    const t = setup();
    const write = t.deps.crm.salesforce.updateAccount;
    let raced = false;
    // The failure's CRM write is slow: the payment is applied and written in the meantime.
    t.deps = {
      ...t.deps,
      crm: {
        ...t.deps.crm,
        salesforce: {
          async updateAccount(id, fields) {
            if (!raced && fields.Amount_Past_Due__c !== null) {
              raced = true;
              await flagDunning(invoicePaidEvent(), t.deps);
            }
            await write(id, fields);
          },
        },
      },
    };
    await flagDunning(paymentFailedEvent(1), t.deps);
    expect(raced).toBe(true);
    expect(t.salesforceWrites.at(-1)?.fields).toMatchObject({
      Amount_Past_Due__c: null,
      Payment_Attempts__c: null,
    });
  });

  it('resolves the exception it opened when the invoice was paid before the exception existed', async () => {
    const t = setup();
    const open = t.deps.exceptions.open;
    let raced = false;
    t.deps = {
      ...t.deps,
      exceptions: {
        ...t.deps.exceptions,
        async open(...args) {
          if (!raced) {
            raced = true;
            // The payment looks for the exception before the failure has opened it.
            expect(await flagDunning(invoicePaidEvent(), t.deps)).toMatchObject({ exceptionResolved: false });
          }
          return open(...args);
        },
      },
    };
    await flagDunning(paymentFailedEvent(1), t.deps);
    expect(raced).toBe(true);
    expect(t.resolved).toEqual([dunningExceptionId(INVOICE)]);
  });

  it('still opens the exception when no CRM account is linked to the customer', async () => {
    const t = setup({});
    expect(await flagDunning(paymentFailedEvent(1), t.deps)).toMatchObject({
      outcome: 'flagged',
      accounts: [],
    });
    expect([...t.opened.values()][0]?.message).toMatch(/no CRM account is linked/);
  });

  it('shows nothing on the account once no invoice is failing', () => {
    expect(accountFlag({})).toBeNull();
  });
});
