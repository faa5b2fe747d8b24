import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/shared/contracts/env';
import { SecureTable } from './secure-table';

export interface IdempotencyTableProps {
  /** @default false */
  readonly retain?: boolean;
}

/**
 * Powertools idempotency records: partition key `id`, TTL on `expiration` (the attribute names
 * Powertools' DynamoDBPersistenceLayer uses by default).
 */
export class IdempotencyTable extends Construct {
  readonly table: SecureTable;

  constructor(scope: Construct, id: string, props: IdempotencyTableProps = {}) {
    super(scope, id);
    this.table = new SecureTable(this, 'Table', {
      partitionKey: 'id',
      timeToLiveAttribute: 'expiration',
      ...(props.retain === undefined ? {} : { retain: props.retain }),
    });
  }

  /** Passes the table name as `IDEMPOTENCY_TABLE_NAME` and grants what Powertools needs, nothing more. */
  bind(fn: IFunction & { addEnvironment(key: string, value: string): unknown }): void {
    fn.addEnvironment(ENV.IDEMPOTENCY_TABLE_NAME, this.table.tableName);
    this.table.grant(
      fn,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );
  }
}
