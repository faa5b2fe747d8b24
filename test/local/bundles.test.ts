import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { UNREACHED_CREDENTIAL_PROVIDERS as LEFT_OUT } from '../../lib/constructs/revbridge-function';
import { loadTemplate } from '../../local/runtime/template';

// The functions' bundles as `cdk synth` wrote them (test/global-setup.ts synthesizes before the suites).
const ASSEMBLY = path.join(__dirname, '..', '..', 'cdk.out');

const bundles = () => {
  const { template } = loadTemplate(ASSEMBLY);
  return Object.entries(template.Resources).flatMap(([id, resource]) => {
    const asset = resource.Metadata?.['aws:asset:path'];
    if (resource.Type !== 'AWS::Lambda::Function' || typeof asset !== 'string') return [];
    return [{ id, code: readFileSync(path.join(ASSEMBLY, asset, 'index.mjs'), 'utf8') }];
  });
};

describe('function bundles', () => {
  it('reach the left-out credential providers only by dynamic import, so a bundle loads without them', () => {
    const found = bundles();
    expect(found.length).toBeGreaterThan(10);
    for (const { id, code } of found) {
      for (const name of LEFT_OUT) {
        const quoted = `"${name}"`;
        const uses = code.split(quoted).length - 1;
        const dynamic = code.split(`import(${quoted})`).length - 1;
        // A static `import … from "…"` or `require("…")` would fail in Lambda, where nothing provides them.
        expect({ id, name, static: uses - dynamic }).toEqual({ id, name, static: 0 });
      }
      // The default chain itself is bundled: it reads the environment's credentials first.
      expect(code).toContain('@aws-sdk/credential-provider-env');
    }
  });
});
