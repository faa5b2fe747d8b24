import { HubSpotCrmClient } from '../../lambdas/adapters/hubspot/crm-client';
import { SalesforceCrmClient } from '../../lambdas/adapters/salesforce/crm-client';
import { flagFields } from '../../lambdas/flag-dunning/logic';
import { PermanentError } from '../../lambdas/shared/errors';
import { crmTwinCustomFields } from '../../local/config';
import { type HubSpotTwin, startHubSpotTwin } from '../../local/twins/hubspot';
import { type SalesforceTwin, startSalesforceTwin } from '../../local/twins/salesforce';

/**
 * The dunning flag's CRM writes, through the flow's own field mapping, against the CRM twins set up
 * with the fields the dev stage names (typed as an org admin would create them).
 */

const FLAG = {
  amountDue: 123_45,
  currency: 'USD',
  attemptCount: 2,
  nextPaymentAttemptAt: '2026-12-08T09:30:00.000Z',
  invoiceId: 'in_1',
};

describe('dunning flags on a Salesforce Account', () => {
  let twin: SalesforceTwin;
  let client: SalesforceCrmClient;
  const fields = {
    amountDue: 'Amount_Past_Due__c',
    attemptCount: 'Payment_Attempts__c',
    nextRetryDate: 'Next_Payment_Retry__c',
    invoiceId: 'Failed_Invoice_Id__c',
  };

  beforeAll(async () => {
    twin = await startSalesforceTwin({ port: 0, faults: {}, customFields: crmTwinCustomFields.salesforce });
    client = new SalesforceCrmClient({
      instanceUrl: twin.instanceUrl,
      accessToken: async () => twin.accessToken,
      defaultCurrency: 'USD',
    });
  });

  afterAll(async () => {
    await twin.close();
  });

  it('sets the amount in major units, the attempts and the retry date, then clears them', async () => {
    const accountId = twin.createRecord('Account', { Name: 'Acme Corp' });
    await client.updateAccount(accountId, flagFields(fields, FLAG));
    expect(twin.getRecord('Account', accountId)).toMatchObject({
      Amount_Past_Due__c: 123.45,
      Payment_Attempts__c: 2,
      Next_Payment_Retry__c: '2026-12-08',
      Failed_Invoice_Id__c: 'in_1',
    });
    await client.updateAccount(accountId, flagFields(fields, null));
    expect(twin.getRecord('Account', accountId)).toMatchObject({
      Amount_Past_Due__c: null,
      Payment_Attempts__c: null,
      Next_Payment_Retry__c: null,
      Failed_Invoice_Id__c: null,
    });
  });

  it('refuses an account id or field name that cannot be one, and a field the org lacks, for good', async () => {
    const accountId = twin.createRecord('Account', { Name: 'Acme Corp' });
    await expect(client.updateAccount('../Opportunity', {})).rejects.toThrow(PermanentError);
    await expect(client.updateAccount(accountId, { 'Name; DROP': 1 })).rejects.toThrow(PermanentError);
    await expect(client.updateAccount(accountId, { Missing__c: 1 })).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'INVALID_FIELD',
    });
  });
});

describe('dunning flags on a HubSpot company', () => {
  let twin: HubSpotTwin;
  let client: HubSpotCrmClient;
  const properties = {
    amountDue: 'revbridge_amount_past_due',
    attemptCount: 'revbridge_payment_attempts',
    nextRetryDate: 'revbridge_next_payment_retry',
    invoiceId: 'revbridge_failed_invoice_id',
  };

  beforeAll(async () => {
    twin = await startHubSpotTwin({ port: 0, faults: {}, customProperties: crmTwinCustomFields.hubspot });
    client = new HubSpotCrmClient({
      baseUrl: twin.url,
      accessToken: async () => twin.accessToken,
      defaultCurrency: 'USD',
    });
  });

  afterAll(async () => {
    await twin.close();
  });

  it('sets the properties as HubSpot takes them (strings, a date at midnight UTC), then clears them', async () => {
    const companyId = twin.createObject('companies', { name: 'Globex GmbH' });
    await client.updateCompany(companyId, flagFields(properties, FLAG));
    const set = twin.getObject('companies', companyId)?.properties;
    expect(set).toMatchObject({
      revbridge_amount_past_due: '123.45',
      revbridge_payment_attempts: '2',
      revbridge_failed_invoice_id: 'in_1',
    });
    expect(String(set?.revbridge_next_payment_retry)).toMatch(/^2026-12-08/);
    await client.updateCompany(companyId, flagFields(properties, null));
    const cleared = twin.getObject('companies', companyId)?.properties ?? {};
    for (const name of Object.values(properties)) expect(cleared[name] ?? null).toBeNull();
  });

  it('refuses a company id that cannot be one before calling HubSpot', async () => {
    await expect(client.updateCompany('12/../deals', {})).rejects.toThrow(PermanentError);
  });
});
