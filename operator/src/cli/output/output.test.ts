import { expect } from 'chai';
import { compilePolicy, type CompiledPolicy } from '../../engine/policy.ts';
import type { Finding, Rule } from '../../engine/types.ts';
import { formatJson, toJsonReport } from './json.ts';
import { formatJunit, xmlAttr, xmlText } from './junit.ts';
import type { ScanResult } from './result.ts';
import { artifactUri, fingerprint, formatSarif, ruleName, SECURITY_SEVERITY, toSarif } from './sarif.ts';
import { formatTable } from './table.ts';

function rule(id: string, over: Partial<Rule> = {}): Rule {
  return {
    id,
    title: `Title of ${id}`,
    severity: 'high',
    category: 'workload',
    controls: ['CIS:5.2.1'],
    rationale: `Rationale of ${id}, long enough to explain why it matters.`,
    remediation: `Remediation of ${id}: do the concrete thing.`,
    kinds: ['Pod', 'Deployment'],
    profiles: ['recommended'],
    check: () => [],
    ...over,
  };
}

const RULES = [
  rule('alpha'),
  rule('beta', { severity: 'low', category: 'network', controls: [] }),
  rule('gamma', { kinds: ['Namespace'] }),
];

function compiled(): CompiledPolicy {
  const r = compilePolicy({ profile: 'recommended' }, RULES);
  if (!r.policy) throw new Error('policy');
  return r.policy;
}

function finding(over: Partial<Finding> = {}): Finding {
  return {
    ruleId: 'alpha',
    title: 'Title of alpha',
    severity: 'high',
    category: 'workload',
    controls: ['CIS:5.2.1'],
    resource: { apiVersion: 'v1', kind: 'Pod', namespace: 'prod', name: 'web' },
    container: 'app',
    message: 'container "app" does the bad thing',
    remediation: 'Remediation of alpha: do the concrete thing.',
    location: { file: 'deploy/web.yaml', line: 3 },
    ...over,
  };
}

function result(findings: Finding[], over: Partial<ScanResult> = {}): ScanResult {
  return {
    findings,
    resources: [
      {
        ref: { apiVersion: 'v1', kind: 'Pod', namespace: 'prod', name: 'web' },
        location: { file: 'deploy/web.yaml', line: 3 },
      },
      {
        ref: { apiVersion: 'v1', kind: 'Namespace', name: 'prod' },
        location: { file: 'deploy/ns.yaml', line: 1 },
      },
    ],
    policy: compiled(),
    inputErrors: [],
    ruleErrors: [],
    toolVersion: '1.2.3',
    ...over,
  };
}

describe('cli/output json', () => {
  it('maps findings to the documented shape with nulls for absent namespace, container and line', () => {
    const r = toJsonReport(
      result([
        finding(),
        finding({
          ruleId: 'gamma',
          severity: 'critical',
          resource: { apiVersion: 'v1', kind: 'Namespace', name: 'prod', uid: 'u' },
          container: undefined,
          location: { file: '<stdin>' },
        }),
      ]),
    );
    expect(r.findings[1]).to.deep.equal({
      ruleId: 'gamma',
      title: 'Title of alpha',
      severity: 'critical',
      category: 'workload',
      controls: ['CIS:5.2.1'],
      resource: { apiVersion: 'v1', kind: 'Namespace', namespace: null, name: 'prod' },
      container: null,
      message: 'container "app" does the bad thing',
      remediation: 'Remediation of alpha: do the concrete thing.',
      location: { file: '<stdin>', line: null, column: null, field: null, objectLine: null },
    });
    expect(r.summary).to.deep.equal({ critical: 1, high: 1, medium: 0, low: 0, info: 0, resources: 2 });
  });

  it('is one JSON document ending in a newline', () => {
    const s = formatJson(result([]));
    expect(s.endsWith('\n')).to.equal(true);
    expect(JSON.parse(s)).to.deep.equal({
      findings: [],
      summary: { critical: 0, high: 0, medium: 0, low: 0, info: 0, resources: 2 },
    });
  });
});

describe('cli/output table', () => {
  const findings = [
    finding({ ruleId: 'beta', severity: 'low', message: 'low one', remediation: 'Remediation of beta.' }),
    finding(),
    finding({ message: 'second alpha', container: 'side' }),
    finding({
      resource: { apiVersion: 'v1', kind: 'Namespace', name: 'prod' },
      location: { file: 'deploy/ns.yaml', line: 1 },
      ruleId: 'gamma',
    }),
  ];

  it('groups by resource in file order, most severe first, remediation once per rule', () => {
    const out = formatTable(result(findings), { colour: false });
    const lines = out.split('\n');
    expect(lines[0]).to.equal('deploy/ns.yaml:1  Namespace prod');
    const web = lines.indexOf('deploy/web.yaml:3  Pod prod/web');
    expect(web).to.be.greaterThan(0);
    const block = lines.slice(web + 1, lines.indexOf('', web));
    expect(block[0]).to.match(/^ {2}HIGH +alpha +container "app" does the bad thing$/);
    expect(block[1]).to.match(/^ {2}HIGH +alpha +second alpha$/);
    expect(block[2]).to.match(/^ +fix: Remediation of alpha/);
    expect(block[3]).to.match(/^ {2}LOW +beta +low one$/);
    expect(block[4]).to.match(/^ +fix: Remediation of beta\.$/);
    expect(block).to.have.length(5);
    expect(out).to.match(/2 resources scanned, 4 findings: 0 critical, 3 high, 0 medium, 1 low, 0 info\.\n$/);
    expect(out).to.not.contain('\x1b');
  });

  it('colours severities only when asked', () => {
    const out = formatTable(result(findings), { colour: true });
    expect(out).to.contain('\x1b[31mHIGH');
    expect(out).to.contain('\x1b[0m');
  });

  it('says so when there is nothing to report, and mentions errors', () => {
    expect(formatTable(result([]), { colour: false })).to.equal('2 resources scanned, no findings.\n');
    const withErr = formatTable(result([], { inputErrors: [{ file: 'x.yaml', message: 'bad' }] }), {
      colour: false,
    });
    expect(withErr).to.contain('1 error (see stderr); results are incomplete.');
  });

  it('escapes control characters from untrusted names and messages', () => {
    const evil = finding({
      resource: { apiVersion: 'v1', kind: 'Pod', namespace: 'prod', name: 'a\x1b[2Jb' },
      message: 'line\nbreak \u202e',
    });
    const out = formatTable(result([evil]), { colour: false });
    expect(out).to.not.contain('\x1b');
    expect(out).to.not.contain('\u202e');
    expect(out).to.contain('a\\x1b[2Jb').and.contain('line\\nbreak \\u202e');
  });
});

describe('cli/output sarif', () => {
  const cwd = '/repo';

  it('has the top-level fields, one run, and a driver listing every active rule', () => {
    const s = toSarif(result([finding()]), cwd) as {
      $schema: string;
      version: string;
      runs: {
        tool: { driver: Record<string, unknown> };
        results: Record<string, unknown>[];
        invocations: unknown[];
      }[];
    };
    expect(s.$schema).to.match(/^https:\/\/.*sarif-2\.1\.0.*\.json$/);
    expect(s.version).to.equal('2.1.0');
    expect(s.runs).to.have.length(1);
    const driver = s.runs[0]?.tool.driver as {
      name: string;
      version: string;
      informationUri: string;
      rules: Record<string, unknown>[];
    };
    expect(driver.name).to.equal('vigil');
    expect(driver.version).to.equal('1.2.3');
    expect(driver.rules.map((r) => r['id'])).to.deep.equal(['alpha', 'beta', 'gamma']);
    const alpha = driver.rules[0] as Record<string, unknown>;
    expect(alpha).to.deep.include({
      name: 'Alpha',
      shortDescription: { text: 'Title of alpha' },
      fullDescription: { text: 'Rationale of alpha, long enough to explain why it matters.' },
      defaultConfiguration: { level: 'error' },
    });
    const help = alpha['help'] as { text: string; markdown: string };
    expect(help.text).to.contain('Remediation of alpha');
    expect(help.markdown).to.contain('**Remediation:**');
    const props = alpha['properties'] as { tags: string[]; 'security-severity': string };
    expect(props.tags.slice(0, 2)).to.deep.equal(['workload', 'CIS:5.2.1']);
    expect(props['security-severity']).to.equal('8.0');
    expect((driver.rules[1]?.['defaultConfiguration'] as { level: string }).level).to.equal('note');
  });

  it('results point at the rule, file (relative, forward slashes) and line', () => {
    const s = toSarif(
      result([
        finding(),
        finding({ ruleId: 'beta', severity: 'medium', location: { file: '/repo/a dir/x.yaml' } }),
      ]),
      cwd,
    ) as {
      runs: { results: Record<string, unknown>[] }[];
    };
    const results = s.runs[0]?.results ?? [];
    expect(results[0]).to.deep.include({ ruleId: 'alpha', ruleIndex: 0, level: 'error' });
    expect(results[0]?.['message']).to.deep.equal({
      text: 'Pod prod/web: container "app" does the bad thing',
    });
    expect(results[0]?.['locations']).to.deep.equal([
      { physicalLocation: { artifactLocation: { uri: 'deploy/web.yaml' }, region: { startLine: 3 } } },
    ]);
    expect(results[1]).to.deep.include({ ruleId: 'beta', ruleIndex: 1, level: 'warning' });
    expect(results[1]?.['locations']).to.deep.equal([
      { physicalLocation: { artifactLocation: { uri: 'a%20dir/x.yaml' }, region: { startLine: 1 } } },
    ]);
  });

  it('maps severities to GitHub security-severity bands and SARIF levels', () => {
    expect(Number(SECURITY_SEVERITY.critical)).to.be.greaterThan(9.0);
    expect(Number(SECURITY_SEVERITY.high)).to.be.within(7.0, 8.9);
    expect(Number(SECURITY_SEVERITY.medium)).to.be.within(4.0, 6.9);
    expect(Number(SECURITY_SEVERITY.low)).to.be.within(0.1, 3.9);
    expect(Number(SECURITY_SEVERITY.info)).to.be.within(0.1, 3.9);
  });

  it('artifact URIs are relative with forward slashes, or file:// outside the working directory', () => {
    expect(artifactUri('./deploy/x.yaml', cwd)).to.equal('deploy/x.yaml');
    expect(artifactUri('deploy/x.yaml', cwd)).to.equal('deploy/x.yaml');
    expect(artifactUri('/repo/deploy/x.yaml', cwd)).to.equal('deploy/x.yaml');
    expect(artifactUri('/elsewhere/x #1.yaml', cwd)).to.equal('file:///elsewhere/x%20%231.yaml');
    expect(artifactUri('<stdin>', cwd)).to.equal('stdin');
  });

  it('fingerprints are stable across line moves and differ between resources', () => {
    const a = finding();
    expect(fingerprint(a)).to.equal(
      fingerprint(finding({ location: { file: 'deploy/web.yaml', line: 40 } })),
    );
    expect(fingerprint(a)).to.not.equal(fingerprint(finding({ resource: { ...a.resource, name: 'other' } })));
    expect(fingerprint(a)).to.not.equal(fingerprint(finding({ container: 'side' })));
  });

  it('reports input and rule errors as tool execution notifications', () => {
    const s = JSON.parse(
      formatSarif(
        result([], {
          inputErrors: [{ file: 'bad.yaml', line: 4, message: 'oops' }],
          ruleErrors: [
            { ruleId: 'alpha', resource: { apiVersion: 'v1', kind: 'Pod', name: 'p' }, message: 'boom' },
          ],
        }),
        cwd,
      ),
    ) as {
      runs: {
        invocations: {
          executionSuccessful: boolean;
          toolExecutionNotifications: { message: { text: string } }[];
        }[];
      }[];
    };
    const inv = s.runs[0]?.invocations[0];
    expect(inv?.executionSuccessful).to.equal(false);
    expect(inv?.toolExecutionNotifications.map((n) => n.message.text)).to.deep.equal([
      'bad.yaml:4: oops',
      'rule alpha failed on Pod p: boom',
    ]);
  });

  it('rule names are PascalCase ids', () => {
    expect(ruleName('pss-host-namespaces')).to.equal('PssHostNamespaces');
  });
});

describe('cli/output junit', () => {
  it('escapes the five XML characters and replaces characters XML cannot carry', () => {
    expect(xmlText(`a&b<c>d"e'f`)).to.equal('a&amp;b&lt;c&gt;d&quot;e&apos;f');
    expect(xmlAttr('x\ny\tz\u0001\ud800')).to.equal('x&#10;y&#9;z\ufffd\ufffd');
    expect(xmlText('emoji 😀 kept')).to.equal('emoji 😀 kept');
  });

  it('one testcase per (resource, applicable rule); failures and counts match', () => {
    const xml = formatJunit(result([finding(), finding({ message: 'again' })]));
    // Pod web: alpha and beta apply; Namespace prod: gamma applies.
    expect(xml.match(/<testcase /g)).to.have.length(3);
    expect(xml).to.contain('<testsuites name="vigil" tests="3" failures="1" errors="0">');
    expect(xml).to.contain(
      '<testsuite name="deploy/web.yaml" tests="2" failures="1" errors="0" skipped="0">',
    );
    expect(xml).to.contain('<testsuite name="deploy/ns.yaml" tests="1" failures="0" errors="0" skipped="0">');
    expect(xml).to.match(
      /<testcase name="alpha" classname="Pod prod\/web" file="deploy\/web.yaml" line="3">\s*<failure message="container &quot;app&quot; does the bad thing \(\+1 more\)" type="high">\[HIGH\] container &quot;app&quot; does the bad thing\n\[HIGH\] again\nRemediation: /,
    );
    expect(xml).to.contain(
      '<testcase name="beta" classname="Pod prod/web" file="deploy/web.yaml" line="3"/>',
    );
  });

  it('escapes hostile names everywhere and stays well formed', () => {
    const name = `x"><script>&'\u0007`;
    const xml = formatJunit(
      result(
        [
          finding({
            resource: { apiVersion: 'v1', kind: 'Pod', namespace: 'prod', name },
            message: `m ${name}`,
          }),
        ],
        {
          resources: [
            {
              ref: { apiVersion: 'v1', kind: 'Pod', namespace: 'prod', name },
              location: { file: 'deploy/web.yaml', line: 3 },
            },
          ],
        },
      ),
    );
    expect(xml).to.not.contain('<script>');
    expect(xml).to.not.contain('\u0007');
    expect(xml).to.contain('x&quot;&gt;&lt;script&gt;&amp;&apos;\ufffd');
    // Every element opened is closed: a crude well-formedness check.
    const opens = (xml.match(/<(testsuites|testsuite|testcase|failure)[ >]/g) ?? []).length;
    const selfClosed = (xml.match(/\/>/g) ?? []).length;
    const closes = (xml.match(/<\/(testsuites|testsuite|testcase|failure)>/g) ?? []).length;
    expect(opens).to.equal(selfClosed + closes);
  });

  it('input errors and crashed rules are <error> testcases', () => {
    const xml = formatJunit(
      result([], {
        inputErrors: [{ file: 'bad.yaml', line: 2, message: 'Map keys must be unique' }],
        ruleErrors: [
          {
            ruleId: 'alpha',
            resource: { apiVersion: 'v1', kind: 'Pod', namespace: 'prod', name: 'web' },
            location: { file: 'deploy/web.yaml', line: 3 },
            message: 'boom',
          },
        ],
      }),
    );
    expect(xml).to.contain('<testsuites name="vigil" tests="4" failures="0" errors="2">');
    expect(xml).to.match(/<testcase name="alpha" [^>]*>\s*<error message="rule crashed: boom"/);
    expect(xml).to.match(
      /<testsuite name="bad.yaml" tests="1" failures="0" errors="1" skipped="0">\s*<testcase name="read and parse" classname="input" file="bad.yaml" line="2">\s*<error message="Map keys must be unique"/,
    );
  });
});
