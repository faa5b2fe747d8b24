import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { concurrencyLimitEnv, ENV } from '../../lambdas/shared/contracts/env';
import { SecureTable } from './secure-table';

/**
 * The vendor accounts' concurrency leases: one item per account (`pk` = `netsuite`), holding the
 * leases in use. Every function that calls the account takes a lease for the duration of its calls,
 * so together they never exceed the account's limit, whichever flow has the backlog.
 */
export class ConcurrencyLeases extends Construct {
  readonly table: SecureTable;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new SecureTable(this, 'Table');
  }

  /**
   * Lets the function take and give back leases on `resource` (an account) within `limit`: passes
   * `CONCURRENCY_LEASES_TABLE_NAME` and `<prefix>_CONCURRENCY_LIMIT`, grants item reads and updates.
   */
  bind(
    fn: IFunction & { addEnvironment(key: string, value: string): unknown },
    prefix: string,
    limit: number,
  ): void {
    fn.addEnvironment(ENV.CONCURRENCY_LEASES_TABLE_NAME, this.table.tableName);
    fn.addEnvironment(concurrencyLimitEnv(prefix), String(limit));
    this.table.grant(fn, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
  }
}
