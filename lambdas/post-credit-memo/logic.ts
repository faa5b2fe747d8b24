import { type CanonicalEvent, type CreditMemoPosted, type CreditNote, followUpEvent } from '../domain/events';
import type { ErpLedger, EventPublisher, LinksRepository } from '../domain/ports';
import { awaitLinked, awaitPostedInvoice, INVOICE_NOT_POSTED } from '../shared/awaited-link';
import { PermanentError } from '../shared/errors';

export const FLOW = 'post-credit-memo';

/** A credit note can arrive before its invoice is posted: it waits (lambdas/shared/awaited-link.ts). */
export { INVOICE_NOT_POSTED };
/**
 * A void can arrive before the memo of its credit note is created (Stripe sends both within seconds of
 * each other when a note is voided at once, and the creation may be waiting for its invoice): it waits
 * for the memo the same way, rather than creating a memo from the void's copy of the note. So a memo is
 * only ever written by its creation, and a void only ever voids.
 */
export const CREDIT_MEMO_NOT_POSTED = 'CreditMemoNotPostedYet';

export type CreditNoteEvent = CanonicalEvent<'billing.credit_note.created' | 'billing.credit_note.voided'>;

export interface PostCreditMemoDeps {
  readonly erp: Pick<ErpLedger, 'upsertCreditMemo' | 'findCreditMemo' | 'voidCreditMemo'>;
  readonly links: LinksRepository;
  readonly publisher: EventPublisher;
  /**
   * The products of a billing invoice's lines, by line id: a credit note line names the invoice line it
   * credits, not its product, and the product may decide the ERP item (the ERP side asks when it does).
   */
  readonly invoiceLineProducts: (invoiceId: string) => Promise<ReadonlyMap<string, string | null>>;
}

export type PostCreditMemoResult =
  | { outcome: 'posted'; posted: CreditMemoPosted; alreadyPosted: boolean }
  | { outcome: 'voided'; voided: CreditMemoPosted; alreadyVoided: boolean };

const creditNoteKey = (note: CreditNote) =>
  ({ entity: 'creditNote', system: 'stripe', id: note.id }) as const;

/**
 * A billing credit note as an ERP credit memo: `billing.credit_note.created` upserts the memo (external
 * id = credit note id) created from and applied to the ERP invoice; `billing.credit_note.voided` voids
 * it, never deleting it. Every step is safe to run again: a memo already linked is not written twice,
 * and a memo already voided is not voided again (a retry after a failed publish only publishes).
 *
 * Errors propagate: the event consumer retries a transient one and opens an exception for a permanent one.
 */
export const postCreditMemo = (
  event: CreditNoteEvent,
  deps: PostCreditMemoDeps,
): Promise<PostCreditMemoResult> =>
  event.type === 'billing.credit_note.created' ? createMemo(event, deps) : voidMemo(event, deps);

const createMemo = async (
  event: CanonicalEvent<'billing.credit_note.created'>,
  deps: PostCreditMemoDeps,
): Promise<PostCreditMemoResult> => {
  const note = event.data;
  const {
    erpInvoiceId,
    erpCustomerId,
    erpSubsidiaryId,
    linkedId: linkedMemoId,
  } = await awaitPostedInvoice(deps.links, note, creditNoteKey(note));

  const alreadyPosted = linkedMemoId !== undefined;
  let erpCreditMemoId = linkedMemoId;
  if (!erpCreditMemoId) {
    erpCreditMemoId = await deps.erp.upsertCreditMemo(
      note,
      () => deps.invoiceLineProducts(note.invoiceId),
      { customerId: erpCustomerId, invoiceId: erpInvoiceId },
      erpSubsidiaryId,
    );
    await deps.links.record(creditNoteKey(note), 'netsuite', erpCreditMemoId, event.id);
  }

  const posted = summary(note, erpCreditMemoId, erpInvoiceId, Math.min(note.prePaymentAmount, note.total));
  await deps.publisher.publish([followUpEvent(event, 'erp.credit_memo.posted', 'netsuite', posted)]);
  return { outcome: 'posted', posted, alreadyPosted };
};

const voidMemo = async (
  event: CanonicalEvent<'billing.credit_note.voided'>,
  deps: PostCreditMemoDeps,
): Promise<PostCreditMemoResult> => {
  const note = event.data;
  const [linkedMemoId, linkedInvoiceId] = await deps.links.find([
    { key: creditNoteKey(note), target: 'netsuite' },
    { key: { entity: 'invoice', system: 'stripe', id: note.invoiceId }, target: 'netsuite' },
  ]);
  const erpCreditMemoId = awaitLinked(
    linkedMemoId,
    CREDIT_MEMO_NOT_POSTED,
    `credit note ${note.id} has no ERP credit memo yet`,
  );
  const memo = await deps.erp.findCreditMemo(note.id);
  if (!memo) {
    // Linked, so revbridge created it: a memo gone from the ERP is for a person to look into.
    throw new PermanentError(`credit memo ${erpCreditMemoId} of credit note ${note.id} is not in the ERP`, {
      code: 'CreditMemoMissing',
    });
  }
  const alreadyVoided = memo.voided;
  if (!alreadyVoided) await deps.erp.voidCreditMemo(memo.id);

  const voided = summary(note, memo.id, linkedInvoiceId ?? '', 0);
  await deps.publisher.publish([followUpEvent(event, 'erp.credit_memo.voided', 'netsuite', voided)]);
  return { outcome: 'voided', voided, alreadyVoided };
};

const summary = (
  note: CreditNote,
  erpCreditMemoId: string,
  erpInvoiceId: string,
  applied: number,
): CreditMemoPosted => ({
  creditNoteId: note.id,
  invoiceId: note.invoiceId,
  erpCreditMemoId,
  erpInvoiceId,
  total: note.total,
  applied,
  currency: note.currency,
});
