import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseYamlAll } from '../yaml.ts';
import { main, usage } from '../cli/main.ts';
import { EXIT_ERROR, EXIT_OK, type CliIO } from '../cli/io.ts';

function fakeIO(cwd: string): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
    stdin: (async function* () {})(),
    env: {},
    cwd,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'vigil-admission-'));
function file(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

const POLICY = `apiVersion: security.vigil.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: shop}
spec:
  profile: pss-restricted
  action: warn
  match: {namespaces: [shop]}
`;

describe('vigil admission render', () => {
  it('prints the policies and bindings as multi-document YAML with the rule lists in a comment', async () => {
    const io = fakeIO(dir);
    expect(await main(['admission', 'render', '--policy', file('p.yaml', POLICY)], io)).to.equal(EXIT_OK);
    const text = io.out.join('');
    expect(text).to.match(/^# Translated rules \(15\): pss-allow-privilege-escalation, /m);
    expect(text).to.match(/^# {3}policy-exception-expired: judges SecurityPolicy objects/m);
    const docs = parseYamlAll(text) as { kind: string; metadata: { name: string } }[];
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).to.deep.equal(
      ['pods', 'workloads', 'cronjobs'].flatMap((s) => [
        `ValidatingAdmissionPolicy/vigil-shop-${s}`,
        `ValidatingAdmissionPolicyBinding/vigil-shop-${s}`,
      ]),
    );
    expect(io.err).to.deep.equal([]);
  });

  const bad: [string, string[], RegExp][] = [
    ['no --policy', ['render'], /--policy must name a SecurityPolicy file/],
    ['no subcommand', ['--policy', 'p.yaml'], /missing subcommand \(render\)/],
    ['an unknown subcommand', ['apply'], /unknown subcommand "apply"/],
    ['an unknown flag', ['render', '--bogus'], /vigil admission: Unknown option '--bogus'/],
    ['a missing file', ['render', '--policy', 'nope.yaml'], /nope\.yaml/],
    ['malformed YAML', ['render', '--policy', 'bad.yaml'], /bad\.yaml/],
    ['another kind', ['render', '--policy', 'pod.yaml'], /kind: expected SecurityPolicy, found "Pod"/],
    ['a nameless policy', ['render', '--policy', 'noname.yaml'], /metadata\.name is required/],
    ['an invalid policy', ['render', '--policy', 'invalid.yaml'], /spec\.profile/],
  ];
  before(() => {
    file('bad.yaml', 'kind: [unclosed\n');
    file('pod.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n');
    file('noname.yaml', 'apiVersion: security.vigil.dev/v1alpha1\nkind: SecurityPolicy\nspec: {}\n');
    file('invalid.yaml', POLICY.replace('pss-restricted', 'strictest'));
  });
  for (const [what, argv, message] of bad)
    it(`exits 2 with a clear message for ${what}`, async () => {
      const io = fakeIO(dir);
      expect(await main(['admission', ...argv], io)).to.equal(EXIT_ERROR);
      expect(io.err.join('')).to.match(message);
      expect(io.out).to.deep.equal([]);
    });

  it('is listed in vigil --help', () => {
    expect(usage()).to.match(/^ {2}admission +Render the ValidatingAdmissionPolicies/m);
  });
});
