import { toNetSuiteInvoice } from '../../lambdas/adapters/netsuite/map';
import type { Invoice } from '../../lambdas/domain/events';
import { toMajorUnits } from '../../lambdas/domain/money';

const mapping = {
  subsidiaryId: '1',
  currencyIds: { USD: '1', JPY: '9', KWD: '10' },
  productItemIds: { prod_mapped: '555' },
  defaultItemId: '100',
  taxItemId: '200',
  adjustmentItemId: '300',
};

const invoice = (overrides: Partial<Invoice> = {}): Invoice => ({
  id: 'in_1',
  number: 'INV-0001',
  customer: { billingId: 'cus_1', email: 'ap@example.com', name: 'Example Ltd' },
  subscriptionId: null,
  currency: 'USD',
  status: 'open',
  lines: [
    {
      id: 'il_1',
      description: 'Seats',
      quantity: 3,
      amount: 3000,
      priceId: 'price_1',
      productId: 'prod_mapped',
      periodStart: null,
      periodEnd: null,
    },
    {
      id: 'il_2',
      description: 'Support',
      quantity: 1,
      amount: 999,
      priceId: 'price_2',
      productId: 'prod_other',
      periodStart: null,
      periodEnd: null,
    },
  ],
  subtotal: 3999,
  tax: 400,
  total: 4399,
  amountDue: 4399,
  amountPaid: 0,
  issuedAt: '2026-11-24T10:00:00.000Z',
  dueAt: '2026-12-24T10:00:00.000Z',
  ...overrides,
});

describe('billing invoice to NetSuite invoice', () => {
  it.each([
    [1234, 'USD', 12.34],
    [5, 'USD', 0.05],
    [-250, 'USD', -2.5],
    [1234, 'JPY', 1234],
    [1234, 'KWD', 1.234],
    [0, 'USD', 0],
  ])('converts %i minor units of %s to %d exactly', (minor, currency, major) => {
    expect(toMajorUnits(minor, currency)).toBe(major);
  });

  it('maps lines to mapped or default items and adds the tax line, so totals agree', () => {
    const body = toNetSuiteInvoice(invoice(), '42', mapping) as {
      item: { items: { item: { id: string }; amount: number }[] };
    };
    expect(body).toMatchObject({
      externalId: 'in_1',
      entity: { id: '42' },
      currency: { id: '1' },
      tranDate: '2026-11-24',
      dueDate: '2026-12-24',
    });
    expect(body.item.items.map((line) => line.item.id)).toEqual(['555', '100', '200']);
    const sum = body.item.items.reduce((total, line) => total + Math.round(line.amount * 100), 0);
    expect(sum).toBe(4399);
  });

  it('adds an adjustment line for discounts so the ERP total equals the billing total', () => {
    const body = toNetSuiteInvoice(invoice({ total: 3899, tax: 400 }), '42', mapping) as {
      item: { items: { item: { id: string }; amount: number }[] };
    };
    const adjustment = body.item.items.find((line) => line.item.id === '300');
    expect(adjustment?.amount).toBe(-5);
  });

  it('refuses a currency without a configured NetSuite currency', () => {
    expect(() => toNetSuiteInvoice(invoice({ currency: 'EUR' }), '42', mapping)).toThrow(
      /EUR has no NetSuite currency/,
    );
  });
});
