import { expect } from 'chai';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_RULES } from './index.ts';
import { CATEGORIES, SEVERITIES } from '../engine/types.ts';

const here = dirname(fileURLToPath(import.meta.url));

describe('rule registry', () => {
  it('has rules', () => {
    expect(ALL_RULES.length).to.be.greaterThan(0);
  });

  it('has unique ids', () => {
    const ids = ALL_RULES.map((r) => r.id);
    expect(
      new Set(ids).size,
      `duplicates: ${ids.filter((x, i) => ids.indexOf(x) !== i).join(', ')}`,
    ).to.equal(ids.length);
  });

  for (const r of ALL_RULES) {
    describe(`rule ${r.id}`, () => {
      it('has complete, well-formed metadata', () => {
        expect(r.id).to.match(/^[a-z0-9]+(-[a-z0-9]+)*$/);
        expect(r.title.length).to.be.within(5, 100);
        expect(SEVERITIES).to.include(r.severity);
        expect(CATEGORIES).to.include(r.category);
        expect(r.rationale.length, 'rationale').to.be.greaterThan(30);
        expect(r.remediation.length, 'remediation').to.be.greaterThan(20);
        expect(r.kinds.length, 'kinds').to.be.greaterThan(0);
        for (const c of r.controls)
          expect(c).to.match(
            /^(PSS:[A-Za-z_]+|CIS:[0-9.]+|NSA:[A-Za-z0-9 ,.-]+|CVE-\d{4}-\d+|MITRE:[A-Z0-9.]+)$/,
          );
        for (const p of r.params ?? []) {
          expect(p.name).to.match(/^[a-zA-Z][a-zA-Z0-9]*$/);
          expect(p.description.length).to.be.greaterThan(10);
        }
      });
      it('pod-security rules (and only they) carry PSS controls and belong to the PSS profiles', () => {
        const pss = r.controls.some((c) => c.startsWith('PSS:'));
        if (r.category === 'pod-security') expect(pss, 'PSS control').to.equal(true);
        if (r.profiles.includes('pss-baseline') || r.profiles.includes('pss-restricted')) {
          expect(pss || r.id === 'policy-exception-expired', 'only PSS checks are in PSS profiles').to.equal(
            true,
          );
        }
      });
    });
  }

  it('every rule module has a table test beside it', () => {
    const missing: string[] = [];
    // `custom` holds users' spec.customRules: Vigil ships no rule module for it.
    for (const cat of CATEGORIES.filter((c) => c !== 'custom')) {
      const dir = join(here, cat);
      for (const f of readdirSync(dir)) {
        if (!f.endsWith('.ts') || f.endsWith('.test.ts') || f === 'index.ts' || f.startsWith('_')) continue;
        if (!existsSync(join(dir, f.replace(/\.ts$/, '.test.ts')))) missing.push(`${cat}/${f}`);
      }
    }
    expect(missing).to.deep.equal([]);
  });
});
