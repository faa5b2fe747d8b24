import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { VENDOR_FIXTURES } from '../support/fixtures';

/**
 * Salesforce outbound messages for the tests, derived from the vendor-authored fixtures
 * (github.com/aspnet/WebHooks, byte for byte, each starting with a UTF-8 BOM).
 */

export const salesforceFixture = (name: string): Buffer =>
  readFileSync(path.join(VENDOR_FIXTURES, 'salesforce', name));

export const LEAD_MESSAGE = 'outbound-message.lead.3-notifications.xml';
export const EMPTY_MESSAGE = 'outbound-message.empty-notifications.xml';
export const ACK_RESPONSE = 'outbound-message.ack-response.xml';

/** The fixture's OrganizationId is `0123456789ABCDENNN`: these 15 characters and a made-up suffix. */
export const FIXTURE_ORG_ID_15 = '0123456789ABCDE';

const sObjectNamespace = 'urn:sobject.enterprise.soap.sforce.com';

/** One `Notification` element, indented and namespaced like the fixture's. */
export const notificationXml = (
  notificationId: string,
  type: string,
  fields: Readonly<Record<string, string | null>>,
): string =>
  [
    '      <Notification>',
    `        <Id>${notificationId}</Id>`,
    `        <sObject xsi:type="sf:${type}" xmlns:sf="${sObjectNamespace}">`,
    ...Object.entries(fields).map(([name, value]) =>
      value === null
        ? `          <sf:${name} xsi:nil="true"/>`
        : `          <sf:${name}>${value}</sf:${name}>`,
    ),
    '        </sObject>',
    '      </Notification>',
  ].join('\n');

/** A won Opportunity as an outbound message sends it when the definition selects these fields. */
export const wonOpportunityFields = (overrides: Readonly<Record<string, string | null>> = {}) => ({
  Id: '0066g00000AbCdEAAV',
  AccountId: '0016g00000XyZaBAAV',
  Amount: '1.5E7',
  CloseDate: '2024-07-31',
  IsClosed: 'true',
  IsWon: 'true',
  LastModifiedDate: '2024-07-31T09:15:02.000Z',
  Name: 'Acme &amp; Co — 3-year platform',
  StageName: 'Closed Won',
  SystemModstamp: '2024-07-31T09:15:03.000Z',
  ...overrides,
});

/**
 * The lead fixture with its three notifications replaced by the given ones: the same BOM, XML
 * declaration, SOAP envelope, namespaces and header elements (OrganizationId, ActionId, SessionId, URLs).
 */
export const outboundMessageWith = (
  notifications: readonly string[],
  options: { organizationId?: string } = {},
): Buffer => {
  const lead = salesforceFixture(LEAD_MESSAGE).toString('utf8');
  const start = lead.indexOf('      <Notification>');
  const end = lead.indexOf('    </notifications>');
  let head = lead.slice(0, start);
  if (options.organizationId !== undefined) {
    head = head.replace(
      /<OrganizationId>[^<]*<\/OrganizationId>/,
      `<OrganizationId>${options.organizationId}</OrganizationId>`,
    );
  }
  return Buffer.from(`${head}${notifications.map((n) => `${n}\n`).join('')}${lead.slice(end)}`, 'utf8');
};
