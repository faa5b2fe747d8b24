import { ensureSynthesized } from '../local/runtime/synth';

/** The local-runtime tests run the synthesized stack: synthesize once, before any of them. */
export default async function globalSetup(): Promise<void> {
  ensureSynthesized();
}
