import { type Ctx, computeTaxes, customerOf, invoiceOf, ratesFor, readTaxRates } from './context';
import { invalidRequest, missingParam, noSuch } from './errors';
import { applyMetadata, type Params } from './form';
import { markPaid, renderInvoiceFor } from './invoices';
import { invoiceAmounts, renderCreditNote, renderCustomer } from './render';
import type { CreditNoteLineRecord, CreditNoteRecord, InvoiceRecord, TaxAmount } from './store';

const REASONS = ['duplicate', 'fraudulent', 'order_change', 'product_unsatisfactory'] as const;

/** What is already credited on each invoice line by issued credit notes. */
function creditedPerLine(ctx: Ctx, invoiceId: string): Map<string, number> {
  const credited = new Map<string, number>();
  for (const note of ctx.store.creditNotes.values()) {
    if (note.invoice !== invoiceId || note.status !== 'issued') continue;
    for (const line of note.lines) {
      if (line.invoiceLineItem !== null) {
        credited.set(line.invoiceLineItem, (credited.get(line.invoiceLineItem) ?? 0) + line.amount);
      }
    }
  }
  return credited;
}

function readLine(
  ctx: Ctx,
  invoice: InvoiceRecord,
  line: Params,
  credited: Map<string, number>,
): CreditNoteLineRecord {
  line.allow(
    'amount',
    'description',
    'invoice_line_item',
    'metadata',
    'quantity',
    'tax_rates',
    'type',
    'unit_amount',
    'unit_amount_decimal',
  );
  const type = line.oneOf('type', ['invoice_line_item', 'custom_line_item'] as const);
  if (type === undefined) throw missingParam(line.name('type'));
  const metadata = line.has('metadata') ? applyMetadata({}, line.metadata()) : null;
  if (type === 'custom_line_item') {
    const description = line.requiredString('description');
    const unitAmount = line.int('unit_amount', { min: 0 });
    if (unitAmount === undefined) throw missingParam(line.name('unit_amount'));
    const quantity = line.int('quantity', { min: 1 }) ?? 1;
    const amount = unitAmount * quantity;
    const taxRates = readTaxRates(ctx.store, line.strings('tax_rates'), line.name('tax_rates')) ?? [];
    return {
      id: ctx.store.id('cnli_'),
      type,
      invoiceLineItem: null,
      description,
      quantity,
      unitAmount,
      amount,
      taxes: computeTaxes(amount, ratesFor(ctx.store, taxRates)),
      taxRates,
      metadata,
    };
  }
  const lineId = line.requiredString('invoice_line_item');
  const source = invoice.lines.find((l) => l.id === lineId);
  if (!source) throw noSuch('invoice line item', lineId, line.name('invoice_line_item'));
  const quantity = line.int('quantity', { min: 1, max: source.quantity });
  const explicit = line.int('amount', { min: 1 });
  if (quantity === undefined && explicit === undefined) throw missingParam(line.name('quantity'));
  const amount = explicit ?? source.unitAmount * (quantity ?? 1);
  const remaining = source.amount - (credited.get(lineId) ?? 0);
  if (amount > remaining) {
    throw invalidRequest(
      `The credit note amount for line ${lineId} (${amount}) exceeds what is left to credit on it (${remaining}).`,
      line.name(explicit === undefined ? 'quantity' : 'amount'),
    );
  }
  credited.set(lineId, (credited.get(lineId) ?? 0) + amount);
  // Tax is credited in proportion to the amount credited on the line.
  const taxes: TaxAmount[] = source.taxes.map((t) => ({
    ...t,
    amount: Math.round((t.amount * amount) / source.amount),
    taxableAmount: Math.round((t.taxableAmount * amount) / source.amount),
  }));
  return {
    id: ctx.store.id('cnli_'),
    type,
    invoiceLineItem: lineId,
    description: line.string('description') ?? source.description,
    quantity: quantity ?? null,
    unitAmount: quantity === undefined ? null : source.unitAmount,
    amount,
    taxes,
    taxRates: taxes.map((t) => t.taxRate),
    metadata,
  };
}

/**
 * A credit note first reduces what is left to pay on the invoice (`pre_payment_amount`); the rest
 * (`post_payment_amount`) must be split between a refund, customer balance credit and credit outside
 * Stripe, whose sum must equal it (https://docs.stripe.com/api/credit_notes/create).
 */
export function createCreditNote(ctx: Ctx, params: Params): CreditNoteRecord {
  params.allow(
    'amount',
    'credit_amount',
    'invoice',
    'lines',
    'memo',
    'metadata',
    'out_of_band_amount',
    'reason',
    'refund_amount',
  );
  const { store } = ctx;
  const invoice = invoiceOf(store, params.requiredString('invoice'), 'invoice');
  if (invoice.status !== 'open' && invoice.status !== 'paid') {
    throw invalidRequest(
      `Credit notes can only be issued for open or paid invoices; ${invoice.id} is ${invoice.status}.`,
      'invoice',
      'invoice_not_editable',
    );
  }
  const credited = creditedPerLine(ctx, invoice.id);
  const lines = (params.objects('lines') ?? []).map((line) => readLine(ctx, invoice, line, credited));
  const explicitAmount = params.int('amount', { min: 1 });
  if (lines.length === 0 && explicitAmount === undefined) throw missingParam('lines');
  const subtotal = lines.length === 0 ? (explicitAmount ?? 0) : lines.reduce((sum, l) => sum + l.amount, 0);
  const exclusiveTax = lines
    .flatMap((l) => l.taxes)
    .filter((t) => !t.inclusive)
    .reduce((sum, t) => sum + t.amount, 0);
  const total = subtotal + exclusiveTax;
  if (explicitAmount !== undefined && lines.length > 0 && explicitAmount !== total) {
    throw invalidRequest(
      `The amount (${explicitAmount}) must equal the total of the lines (${total}).`,
      'amount',
    );
  }
  const amounts = invoiceAmounts(invoice);
  const creditable =
    amounts.total - invoice.prePaymentCreditNotesAmount - invoice.postPaymentCreditNotesAmount;
  if (total > creditable) {
    throw invalidRequest(
      `The credit note total (${total}) must be less than or equal to the invoice total remaining to credit (${creditable}).`,
      'amount',
    );
  }
  const prePayment = invoice.status === 'open' ? Math.min(total, amounts.amountRemaining) : 0;
  const postPayment = total - prePayment;
  const creditAmount = params.int('credit_amount', { min: 0 }) ?? 0;
  const refundAmount = params.int('refund_amount', { min: 0 }) ?? 0;
  const outOfBand = params.int('out_of_band_amount', { min: 0 });
  if (creditAmount + refundAmount + (outOfBand ?? 0) !== postPayment) {
    throw invalidRequest(
      `The sum of refunds, customer balance credits, and outside of Stripe credits must equal the post_payment_amount (${postPayment}).`,
      postPayment === 0 ? 'credit_amount' : 'refund_amount',
    );
  }
  const charge = [...store.charges.values()].find(
    (c) => c.paid && invoice.payments.some((p) => store.payments.get(p)?.paymentIntent === c.paymentIntent),
  );
  if (refundAmount > 0 && (!charge || charge.amount - charge.amountRefunded < refundAmount)) {
    throw invalidRequest('The refund amount exceeds what was charged for this invoice.', 'refund_amount');
  }
  const issuedForInvoice = [...store.creditNotes.values()].filter((n) => n.invoice === invoice.id).length;
  const note: CreditNoteRecord = {
    id: store.id('cn_'),
    seq: store.nextSeq(),
    created: store.now(),
    invoice: invoice.id,
    customer: invoice.customer,
    currency: invoice.currency,
    number: `${invoice.number ?? invoice.id}-CN-${String(issuedForInvoice + 1).padStart(2, '0')}`,
    lines,
    subtotal,
    exclusiveTax,
    reason: params.oneOf('reason', REASONS) ?? null,
    memo: params.nullableString('memo') ?? null,
    metadata: applyMetadata({}, params.metadata()),
    status: 'issued',
    type: postPayment === 0 ? 'pre_payment' : prePayment === 0 ? 'post_payment' : 'mixed',
    prePaymentAmount: prePayment,
    postPaymentAmount: postPayment,
    creditAmount,
    refundAmount,
    outOfBandAmount: outOfBand ?? null,
    refund: refundAmount > 0 ? store.id('re_') : null,
    voidedAt: null,
  };

  const invoiceBefore = renderInvoiceFor(ctx, invoice);
  store.creditNotes.set(note.id, note);
  invoice.prePaymentCreditNotesAmount += prePayment;
  invoice.postPaymentCreditNotesAmount += postPayment;
  if (charge && refundAmount > 0) charge.amountRefunded += refundAmount;
  if (creditAmount > 0) {
    const customer = customerOf(store, invoice.customer);
    const customerBefore = renderCustomer(customer);
    customer.balance -= creditAmount;
    ctx.emit('customer.updated', renderCustomer(customer), customerBefore);
  }
  ctx.emit('credit_note.created', renderCreditNote(store, note));
  ctx.emit('invoice.updated', renderInvoiceFor(ctx, invoice), invoiceBefore);
  // An open invoice whose amount due is fully credited counts as paid.
  if (invoice.status === 'open' && invoiceAmounts(invoice).amountRemaining === 0) {
    markPaid(ctx, invoice, { outOfBand: false, paymentEvents: false });
  }
  return note;
}

export function updateCreditNote(ctx: Ctx, id: string, params: Params): CreditNoteRecord {
  params.allow('memo', 'metadata');
  const note = ctx.store.creditNotes.get(id);
  if (!note) throw noSuch('credit note', id);
  const before = renderCreditNote(ctx.store, note);
  const memo = params.nullableString('memo');
  const metadata = applyMetadata(note.metadata, params.metadata());
  if (memo !== undefined) note.memo = memo;
  note.metadata = metadata;
  ctx.emit('credit_note.updated', renderCreditNote(ctx.store, note), before);
  return note;
}

export function voidCreditNote(ctx: Ctx, id: string, params: Params): CreditNoteRecord {
  params.allow();
  const { store } = ctx;
  const note = store.creditNotes.get(id);
  if (!note) throw noSuch('credit note', id);
  if (note.status === 'void') throw invalidRequest('This credit note has already been voided.');
  const invoice = invoiceOf(store, note.invoice);
  if (note.prePaymentAmount > 0 && invoice.status === 'paid' && invoice.amountPaid === 0) {
    throw invalidRequest('This credit note settled its invoice and cannot be voided.');
  }
  if (note.refundAmount > 0) throw invalidRequest('A credit note with a refund cannot be voided.');
  const invoiceBefore = renderInvoiceFor(ctx, invoice);
  note.status = 'void';
  note.voidedAt = store.now();
  invoice.prePaymentCreditNotesAmount -= note.prePaymentAmount;
  invoice.postPaymentCreditNotesAmount -= note.postPaymentAmount;
  if (note.creditAmount > 0) {
    const customer = customerOf(store, invoice.customer);
    const customerBefore = renderCustomer(customer);
    customer.balance += note.creditAmount;
    ctx.emit('customer.updated', renderCustomer(customer), customerBefore);
  }
  ctx.emit('credit_note.voided', renderCreditNote(store, note));
  ctx.emit('invoice.updated', renderInvoiceFor(ctx, invoice), invoiceBefore);
  return note;
}
