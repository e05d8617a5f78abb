/**
 * An image's inventory as a CycloneDX 1.5 JSON BOM: the image is the metadata component, the OS
 * an operating-system component, every package a library with its purl and where it was found.
 * Deterministic for one image digest (the serial number derives from it, no timestamp), so two
 * runs over the same image give the same bytes.
 */
import { createHash } from 'node:crypto';
import type { ImageAnalysis } from './analyse.ts';
import { VERSION } from '../cli/version.ts';

function uuidFrom(s: string): string {
  const h = createHash('sha256').update(s).digest('hex');
  // RFC 4122 layout, version 5-style bits on a sha256 prefix.
  const v = `5${h.slice(13, 16)}`;
  const variant = ((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16) + h.slice(17, 20);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${v}-${variant}-${h.slice(20, 32)}`;
}

export function cycloneDx(a: ImageAnalysis): Record<string, unknown> {
  const inv = a.inventory;
  const components: Record<string, unknown>[] = [];
  if (inv.os)
    components.push({
      type: 'operating-system',
      'bom-ref': `os:${inv.os.id}@${inv.os.versionId}`,
      name: inv.os.id,
      version: inv.os.versionId,
      description: inv.os.prettyName,
    });
  for (const p of inv.packages) {
    const properties = [
      ...p.locations.map((l) => ({ name: 'vigil:location', value: l })),
      { name: 'vigil:ecosystem', value: p.ecosystem },
      ...(p.source ? [{ name: 'vigil:source', value: `${p.source} ${p.sourceVersion ?? ''}`.trim() }] : []),
    ];
    components.push({
      type: 'library',
      'bom-ref': p.purl,
      name: p.name,
      version: p.version,
      purl: p.purl,
      properties,
    });
  }
  const repo = `${a.ref.registry}/${a.ref.repository}`;
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: `urn:uuid:${uuidFrom(a.digest)}`,
    version: 1,
    metadata: {
      tools: { components: [{ type: 'application', name: 'vigil', version: VERSION }] },
      component: {
        type: 'container',
        'bom-ref': `${repo}@${a.digest}`,
        name: repo,
        version: a.digest,
        purl: `pkg:oci/${encodeURIComponent(a.ref.repository.split('/').pop() ?? '')}@${encodeURIComponent(a.digest)}?repository_url=${encodeURIComponent(repo)}`,
        properties: [
          ...(a.indexDigest ? [{ name: 'vigil:index-digest', value: a.indexDigest }] : []),
          ...inv.legacyGoBinaries.map((b) => ({ name: 'vigil:go-binary-not-read', value: b })),
        ],
      },
    },
    components,
  };
}
