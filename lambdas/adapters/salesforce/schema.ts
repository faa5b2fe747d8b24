import * as z from 'zod/mini';

/**
 * The Opportunity fields revbridge reads from an outbound message. The message carries only the fields
 * the administrator selected in the outbound message definition (plus `Id`), each as text, and a field
 * sent as `xsi:nil` arrives as `null`. Unknown fields are tolerated.
 * https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_opportunity.htm
 */

const recordId = z
  .string()
  .check(z.regex(/^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/, 'must be a 15- or 18-character Salesforce id'));
const dateTime = z.string().check(z.iso.datetime({ offset: true }));
const nullish = <T extends z.ZodMiniType>(schema: T) => z.optional(z.nullable(schema));

export const opportunityFieldsSchema = z.object({
  Id: recordId,
  Name: nullish(z.string()),
  AccountId: nullish(recordId),
  StageName: nullish(z.string()),
  // xsd:boolean: the SOAP API writes true/false, the lexical space also allows 1/0.
  IsWon: nullish(z.enum(['true', 'false', '1', '0'])),
  LastModifiedDate: nullish(dateTime),
  SystemModstamp: nullish(dateTime),
});
export type OpportunityFields = z.infer<typeof opportunityFieldsSchema>;
