import { expect } from 'chai';
import { cluster } from '../harness.ts';

/** Runs kubectl and returns {ok, out} instead of throwing, to assert on rejections. */
function tryKubectl(args: string[], input?: string): { ok: boolean; out: string } {
  try {
    return { ok: true, out: cluster().kubectl(args, input) };
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string };
    return { ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

const policy = (name: string, spec: string): string => `apiVersion: security.vigil.dev/v1alpha1
kind: SecurityPolicy
metadata:
  name: ${name}
spec:
${spec}`;

describe('CRDs on a real API server', function () {
  before(() => {
    const k = cluster();
    k.installCrds();
  });

  it('accepts a valid SecurityPolicy with defaults applied, and shows its printer columns', () => {
    const k = cluster();
    k.kubectl(
      ['apply', '-f', '-'],
      policy(
        'baseline',
        `  profile: pss-baseline
  match:
    namespaces: ["team-*"]
    namespaceSelector:
      matchExpressions: [{key: tier, operator: In, values: [prod]}]
  rules:
    - id: pss-privileged
      severity: critical
  exceptions:
    - rules: [pss-host-namespaces]
      reason: node agent needs host network
      owner: platform-team
      expiresAt: "2027-01-01T00:00:00Z"
`,
      ),
    );
    const obj = JSON.parse(k.kubectl(['get', 'securitypolicy', 'baseline', '-o', 'json'])) as {
      spec: Record<string, unknown>;
    };
    expect(obj.spec['action']).to.equal('audit');
    expect(obj.spec['events']).to.equal(undefined);
    const table = k.kubectl(['get', 'secpol']);
    const header = table.split('\n')[0] ?? '';
    expect(header.split(/\s+/)).to.include.members([
      'NAME',
      'PROFILE',
      'ACTION',
      'READY',
      'CRITICAL',
      'HIGH',
      'MEDIUM',
      'LOW',
      'AGE',
    ]);
    expect(table).to.match(/baseline\s+pss-baseline\s+audit/);
  });

  it('is discoverable: short names, category and kubectl explain', () => {
    const k = cluster();
    expect(k.kubectl(['get', 'vigil', '-A'])).to.contain('securitypolicy.security.vigil.dev/baseline');
    const explain = k.kubectl(['explain', 'securitypolicy.spec.exceptions.owner']);
    expect(explain).to.contain('Who is accountable for the exception');
  });

  const invalid: { name: string; spec: string; mentions: RegExp }[] = [
    {
      name: 'bad-profile',
      spec: '  profile: super-strict\n',
      mentions: /spec\.profile.*Unsupported value: "super-strict"/s,
    },
    {
      name: 'no-owner',
      spec: '  exceptions:\n    - rules: [pss-privileged]\n      reason: legacy\n',
      mentions: /spec\.exceptions\[0\]\.owner: Required value/,
    },
    {
      name: 'bad-expiry',
      spec: '  exceptions:\n    - rules: [pss-privileged]\n      reason: legacy\n      owner: me\n      expiresAt: next tuesday\n',
      mentions: /spec\.exceptions\[0\]\.expiresAt/,
    },
    {
      name: 'empty-exception',
      spec: '  exceptions:\n    - reason: legacy\n      owner: me\n',
      mentions: /an exception must name at least one rule or a match/,
    },
    {
      name: 'unknown-field',
      spec: '  profile: all\n  colour: red\n',
      mentions: /unknown field "spec\.colour"/,
    },
    { name: 'bad-action', spec: '  action: destroy\n', mentions: /spec\.action.*Unsupported value/s },
  ];
  for (const c of invalid) {
    it(`rejects an invalid policy (${c.name}) with a message naming the field`, () => {
      const r = tryKubectl(['apply', '--validate=strict', '-f', '-'], policy(c.name, c.spec));
      expect(r.ok, r.out).to.equal(false);
      expect(r.out).to.match(c.mentions);
      expect(tryKubectl(['get', 'securitypolicy', c.name]).ok).to.equal(false);
    });
  }

  it('stores a ScanReport with its status in one request and prints severity columns', () => {
    const k = cluster();
    k.kubectl(['create', 'namespace', 'crd-test']);
    const status = {
      summary: { critical: 1, high: 2, medium: 0, low: 3, info: 0 },
      findings: [
        {
          ruleId: 'pss-privileged',
          severity: 'critical',
          message: 'container "app" is privileged',
          firstSeen: '2026-01-01T00:00:00Z',
        },
      ],
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Evaluated',
          message: 'ok',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    };
    // No status subresource: Vigil creates a report with its findings in one request.
    k.kubectl(
      ['create', '-f', '-'],
      JSON.stringify({
        apiVersion: 'security.vigil.dev/v1alpha1',
        kind: 'ScanReport',
        metadata: { name: 'deployment-web', namespace: 'crd-test' },
        spec: { subject: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'crd-test', name: 'web' } },
        status,
      }),
    );
    const table = k.kubectl(['get', 'sr', '-n', 'crd-test']);
    expect((table.split('\n')[0] ?? '').split(/\s+/)).to.include.members([
      'NAME',
      'KIND',
      'SUBJECT',
      'CRITICAL',
      'HIGH',
      'MEDIUM',
      'LOW',
      'AGE',
    ]);
    expect(table).to.match(/deployment-web\s+Deployment\s+web\s+1\s+2\s+0\s+3/);
    k.kubectl([
      'wait',
      '-n',
      'crd-test',
      '--for=condition=Ready',
      '--timeout=10s',
      'scanreport/deployment-web',
    ]);
  });

  it('rejects a ScanReport finding with an unknown severity', () => {
    const bad = { status: { findings: [{ ruleId: 'x', severity: 'apocalyptic', message: 'm' }] } };
    const r = tryKubectl([
      'patch',
      'scanreport',
      'deployment-web',
      '-n',
      'crd-test',
      '--type=merge',
      '-p',
      JSON.stringify(bad),
    ]);
    expect(r.ok).to.equal(false);
    expect(r.out).to.match(/status\.findings\[0\]\.severity.*Unsupported value: "apocalyptic"/s);
  });
});
