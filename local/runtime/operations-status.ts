import { fullTrail, listExceptions } from '../../ops/queries';
import { findResources, type OperatorClients, operatorClients } from '../../ops/resources';

/**
 * The operator's part of `/_local/status`: the exceptions (flow, code, reason) and, when asked, the
 * trail of one id. It finds the tables as `npx revbridge` does (DescribeStacks on the runtime's own
 * AWS endpoint) and runs the same queries.
 */
export class OperationsStatus {
  private clients: OperatorClients | undefined;

  constructor(private readonly awsUrl: () => string) {}

  async read(trailId?: string) {
    this.clients ??= operatorClients({ endpoint: this.awsUrl(), localCredentials: true });
    const { documents, cloudformation, sfn } = this.clients;
    try {
      const resources = await findResources(cloudformation);
      const exceptions = await listExceptions(documents, resources.exceptionsTable);
      const trail = trailId
        ? await fullTrail(
            documents,
            {
              links: resources.linksTable,
              exceptions: resources.exceptionsTable,
              idempotency: resources.idempotencyTable,
            },
            trailId,
            { sfn, stateMachineArns: resources.stateMachines.map((machine) => machine.arn) },
          )
        : undefined;
      return { exceptions, ...(trail ? { trail } : {}) };
    } catch (error) {
      return { exceptions: [], operationsError: error instanceof Error ? error.message : String(error) };
    }
  }

  close(): void {
    this.clients?.destroy();
  }
}
