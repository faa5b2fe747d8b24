/**
 * What every vendor twin shares:
 * - `FaultInjector` / `faultsFromEnv('<vendor>')` (`TWIN_FAULTS_<VENDOR>`, JSON): seeded latency, 5xx, 429
 *   bursts with Retry-After, timeouts, and webhook duplicates, reordering and delays.
 * - `startTwinServer`: HTTP server applying those faults before the vendor handler, with the control
 *   endpoints `GET|PUT /_twin/faults` and `GET /_twin/health`.
 * - `WebhookSender`: at-least-once delivery with a retry schedule, acceptance per delivery.
 * - `IdGenerator` / `SeededRandom`: ids and choices reproducible from a seed.
 */
export * from './faults';
export * from './ids';
export * from './random';
export * from './server';
export * from './webhooks';
