/** The audit rule registry: metadata every rule must have, docs that describe each, the shipped audit Policy. */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYaml } from '../yaml.ts';
import { SEVERITIES } from '../engine/types.ts';
import { AUDIT_RULES } from './rules/index.ts';
import { AUDIT_USAGE } from '../cli/audit.ts';
import { usage } from '../cli/main.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('audit rule registry', () => {
  it('has at least 20 rules with unique audit- ids and complete metadata', () => {
    expect(AUDIT_RULES.length).to.be.at.least(20);
    const ids = AUDIT_RULES.map((r) => r.id);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const r of AUDIT_RULES) {
      expect(r.id, r.id).to.match(/^audit-[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(r.category, r.id).to.equal('api-abuse');
      expect(SEVERITIES, r.id).to.include(r.severity);
      for (const m of r.mitre) expect(m, r.id).to.match(/^T\d{4}(\.\d{3})?$/);
      expect(r.references.length, r.id).to.be.greaterThan(0);
      for (const u of r.references) expect(u, r.id).to.match(/^https:\/\/\S+$/);
      for (const m of r.mitre)
        expect(r.references, r.id).to.include(`https://attack.mitre.org/techniques/${m.replace('.', '/')}/`);
      expect(r.title.length, r.id).to.be.within(10, 70);
      expect(r.rationale.length, r.id).to.be.greaterThan(60);
      expect(r.remediation.length, r.id).to.be.greaterThan(30);
    }
  });

  it('docs/audit.md documents every rule with its title, severity and techniques', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'audit.md'), 'utf8');
    for (const r of AUDIT_RULES) {
      const at = doc.indexOf(`### \`${r.id}\`\n`);
      expect(at, r.id).to.be.greaterThan(-1);
      const section = doc.slice(
        at,
        doc.indexOf('\n### ', at + 1) === -1 ? undefined : doc.indexOf('\n### ', at + 1),
      );
      expect(section, r.id).to.contain(`**${r.title}** · ${r.severity}`);
      for (const m of r.mitre) expect(section, r.id).to.contain(`[${m}]`);
      expect(section, r.id).to.contain(r.rationale);
      expect(doc, r.id).to.contain(`| \`${r.id}\` |`);
    }
  });

  it('vigil help lists audit, and its usage names every flag', () => {
    expect(usage()).to.match(/^ {2}audit +Judge Kubernetes API audit events/m);
    for (const flag of ['--policy', '--output', '--fail-on', '--help']) expect(AUDIT_USAGE).to.contain(flag);
  });

  it('the shipped audit Policy logs request bodies where the detections read them, and never for Secrets', () => {
    interface PolicyRule {
      level: string;
      verbs?: string[];
      resources?: { group: string; resources?: string[] }[];
    }
    const policy = parseYaml(readFileSync(join(ROOT, 'config', 'audit', 'policy.yaml'), 'utf8')) as {
      apiVersion: string;
      kind: string;
      rules: PolicyRule[];
    };
    expect([policy.apiVersion, policy.kind]).to.deep.equal(['audit.k8s.io/v1', 'Policy']);
    // The level of the first rule matching (group, resource, verb), as the API server evaluates it
    // (for resource requests; users, namespaces and nonResourceURLs are not used by these rules).
    const levelOf = (group: string, resource: string, verb: string): string => {
      for (const r of policy.rules) {
        if (r.verbs && !r.verbs.includes(verb)) continue;
        if (
          r.resources &&
          !r.resources.some(
            (g) => g.group === group && (g.resources === undefined || g.resources.includes(resource)),
          )
        )
          continue;
        if ((r as { nonResourceURLs?: unknown }).nonResourceURLs !== undefined) continue;
        if ((r as { users?: unknown }).users !== undefined) continue;
        return r.level;
      }
      return 'None';
    };
    expect(levelOf('', 'pods', 'create')).to.equal('RequestResponse');
    expect(levelOf('apps', 'daemonsets', 'create')).to.equal('RequestResponse');
    expect(levelOf('rbac.authorization.k8s.io', 'clusterrolebindings', 'create')).to.equal('RequestResponse');
    expect(levelOf('rbac.authorization.k8s.io', 'clusterroles', 'update')).to.equal('RequestResponse');
    expect(levelOf('certificates.k8s.io', 'certificatesigningrequests/approval', 'update')).to.equal(
      'Request',
    );
    expect(levelOf('', 'secrets', 'create')).to.equal('Metadata');
    expect(levelOf('', 'secrets', 'get')).to.equal('Metadata');
    expect(levelOf('', 'pods/exec', 'create')).to.equal('Metadata');
    expect(levelOf('', 'events', 'create')).to.equal('None');
    expect(levelOf('coordination.k8s.io', 'leases', 'update')).to.equal('None');
  });
});
