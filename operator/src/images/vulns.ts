/**
 * Known vulnerabilities of an inventory: every package looked up in the advisory index under its
 * ecosystem (and, for OS packages, under its source package, the name Debian and Alpine advisories
 * use). One finding per package and advisory, with the installed and fixed versions.
 */
import type { AdvisoryIndex } from './osv.ts';
import type { Inventory, Package } from './packages.ts';

export interface Vulnerability {
  id: string;
  aliases: string[];
  summary: string;
  package: Package;
  installed: string;
  fixed?: string;
  severity?: 'low' | 'medium' | 'high' | 'critical';
}

export function findVulnerabilities(inv: Inventory, index: AdvisoryIndex): Vulnerability[] {
  const out: Vulnerability[] = [];
  for (const p of inv.packages) {
    const seen = new Set<string>();
    const lookups: [string, string][] = [[p.name, p.version]];
    if (p.source && p.source !== p.name) lookups.push([p.source, p.sourceVersion ?? p.version]);
    for (const [name, version] of lookups)
      for (const m of index.match(p.ecosystem, name, version)) {
        if (seen.has(m.id)) continue;
        seen.add(m.id);
        const v: Vulnerability = {
          id: m.id,
          aliases: m.aliases,
          summary: m.summary,
          package: p,
          installed: p.version,
        };
        if (m.fixed !== undefined) v.fixed = m.fixed;
        if (m.severity !== undefined) v.severity = m.severity;
        out.push(v);
      }
  }
  return out.sort(
    (a, b) =>
      a.package.type.localeCompare(b.package.type) ||
      a.package.name.localeCompare(b.package.name) ||
      a.id.localeCompare(b.id),
  );
}

/** CycloneDX 1.5 `vulnerabilities` entries for a BOM whose components are purl-referenced. */
export function cycloneDxVulnerabilities(vulns: Vulnerability[]): Record<string, unknown>[] {
  const byId = new Map<string, Vulnerability[]>();
  for (const v of vulns) byId.set(v.id, [...(byId.get(v.id) ?? []), v]);
  return [...byId].map(([id, vs]) => ({
    'bom-ref': `vuln:${id}`,
    id,
    source: { name: id.startsWith('GHSA-') ? 'GitHub' : id.startsWith('GO-') ? 'Go' : 'OSV' },
    references: (vs[0]?.aliases ?? []).map((a) => ({
      id: a,
      source: { name: a.startsWith('CVE-') ? 'NVD' : 'OSV' },
    })),
    description: vs[0]?.summary ?? '',
    ...(vs[0]?.severity ? { ratings: [{ severity: vs[0].severity, method: 'other' }] } : {}),
    affects: vs.map((v) => ({ ref: v.package.purl })),
    ...(vs.some((v) => v.fixed)
      ? {
          recommendation: vs
            .map((v) => (v.fixed ? `${v.package.name} ${v.fixed}` : ''))
            .filter(Boolean)
            .join(', '),
        }
      : {}),
  }));
}
