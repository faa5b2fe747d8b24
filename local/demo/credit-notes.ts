import Stripe from 'stripe';
import { localSecrets } from '../config';
import type { LocalRuntime } from '../runtime/runtime';

/** How a demo step reports: a heading, a line under it, and a check that must hold. */
export interface DemoOutput {
  readonly step: (text: string) => void;
  readonly info: (text: string) => void;
  readonly check: (what: string, ok: boolean) => void;
}

type Ref = { id?: string } | undefined;

/**
 * Flow 5a: the saga's first invoice gets a credit note in Stripe (two seats, through the official SDK),
 * which becomes a NetSuite credit memo created from and applied to the ERP invoice; voiding the credit
 * note voids the memo, which stays in the ERP.
 */
export const creditNoteToCreditMemo = async (runtime: LocalRuntime, out: DemoOutput): Promise<void> => {
  const { step, info, check } = out;
  const netsuite = runtime.netsuite;
  step('A credit note on the first invoice, issued in Stripe through the official SDK');
  const stripeUrl = new URL(runtime.twins.get('stripe')?.url ?? '');
  const stripe = new Stripe(localSecrets().stripeApiKey, {
    host: stripeUrl.hostname,
    port: Number(stripeUrl.port),
    protocol: 'http',
    maxNetworkRetries: 0,
  });
  const invoice = (await stripe.invoices.list({ status: 'open', limit: 10 })).data.find(
    (candidate) => candidate.id && netsuite?.getByExternalId('invoice', candidate.id),
  );
  const line = invoice?.lines.data.find((candidate) => (candidate.quantity ?? 0) >= 2);
  const erpInvoice = invoice?.id ? netsuite?.getByExternalId('invoice', invoice.id) : undefined;
  check('an open invoice is posted to the ERP, with a line of two or more', line !== undefined);
  if (!invoice?.id || !line || !erpInvoice) return;
  const owedBefore = erpInvoice.amountRemaining as number;
  const note = await stripe.creditNotes.create({
    invoice: invoice.id,
    lines: [{ type: 'invoice_line_item', invoice_line_item: line.id, quantity: 2 }],
    reason: 'order_change',
  });
  info(`credit note ${note.number} (${note.id}): ${note.total} ${note.currency} on ${invoice.id}`);
  await runtime.stripe?.flushWebhooks();
  await runtime.idle();

  const memo = netsuite?.getByExternalId('creditMemo', note.id);
  const owedAfter = netsuite?.getByExternalId('invoice', invoice.id)?.amountRemaining as number;
  info(
    `NetSuite credit memo #${memo?.id ?? '-'} ${String(memo?.tranId ?? '')}: total ${String(memo?.total)}, applied ${String(memo?.applied)}, created from invoice #${(memo?.createdFrom as Ref)?.id ?? '-'}`,
  );
  info(`ERP invoice #${erpInvoice.id}: ${owedBefore} owed before, ${owedAfter} after`);
  check(
    'the credit note became one NetSuite credit memo, created from and applied to the ERP invoice',
    memo !== undefined &&
      netsuite?.writeCount('creditMemo', note.id) === 1 &&
      (memo.createdFrom as Ref)?.id === erpInvoice.id &&
      memo.total === note.total / 100 &&
      memo.applied === note.total / 100,
  );
  check('the ERP invoice owes the credited amount less', owedBefore - owedAfter === note.total / 100);

  step('Voiding the credit note in Stripe voids the memo (it stays in the ERP)');
  await stripe.creditNotes.voidCreditNote(note.id);
  await runtime.stripe?.flushWebhooks();
  await runtime.idle();
  const voided = netsuite?.getByExternalId('creditMemo', note.id);
  const owedAgain = netsuite?.getByExternalId('invoice', invoice.id)?.amountRemaining as number;
  info(
    `NetSuite credit memo #${voided?.id ?? '-'}: ${(voided?.status as { refName?: string } | undefined)?.refName}, invoice owes ${owedAgain}`,
  );
  check(
    'the memo is voided, not deleted, and the invoice owes what it did before the credit',
    voided?.id === memo?.id && voided?.voided === true && owedAgain === owedBefore,
  );
};
