import { formatReport, runChaos } from '../../local/chaos/run';
import type { LocalRuntime } from '../../local/runtime/runtime';
import { startRuntime } from '../support/local-runtime';

/**
 * The small seeded chaos run (issue 12): 300 mixed flows through the twins under every fault of the
 * full run (duplicates, reorders, ERP 5xx, 429 bursts, timeouts, a killed environment, PutEvents
 * partial failures, DynamoDB throttling, a webhook outage), then replay of the DLQs and exceptions:
 * every expected ERP record exactly once, with billing's amount to the cent. The report also compares
 * the Stripe twin's own invoices (a saga's subscription bills its first period) with the ERP; that
 * figure is printed, not asserted here: EUR subscription invoices are refused by NetSuite today
 * (subsidiary mismatch in post-invoice), a finding of the chaos run for the post-invoice flow.
 */

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startRuntime({ waitTimeScale: 0.01 });
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
});

describe('the seeded chaos run', () => {
  it('ends with every ERP record written exactly once and matching billing to the cent after 300 flows under faults', async () => {
    const report = await runChaos({ runtime, flows: 300, seed: 7 });
    const summary = formatReport(report);
    expect({ duplicates: report.erp.duplicates, summary }).toEqual({ duplicates: [], summary });
    expect({ missing: report.erp.missing, summary }).toEqual({ missing: [], summary });
    expect(report.erp.amountMismatches).toEqual([]);
    expect(report.flows).toBe(300);
    expect(report.erp.found).toBe(report.erp.expected);
    expect(report.driverErrors).toEqual([]);
    // The faults really happened: duplicates and reorders on the way in, ERP errors on the way out.
    const injected = (part: string) =>
      Object.entries(report.faultsInjected)
        .filter(([kind]) => kind.includes(part))
        .reduce((sum, [, n]) => sum + n, 0);
    expect(injected('duplicated')).toBeGreaterThan(0);
    expect(injected('reordered')).toBeGreaterThan(0);
    expect(injected('netsuite 5xx')).toBeGreaterThan(0);
    expect(injected('.crash')).toBeGreaterThan(0);
  }, 600_000);
});
