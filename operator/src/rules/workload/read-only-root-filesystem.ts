/**
 * `securityContext.readOnlyRootFilesystem` must be true on init and regular
 * containers. Ephemeral (debug) containers are left out: they are attached by
 * hand to troubleshoot and often need to write. Windows pods are skipped: the
 * field is not supported there.
 */
import { WORKLOAD_KINDS, dig, isWindowsPod, podTemplate } from '../../engine/podspec.ts';
import type { Rule, RuleHit } from '../../engine/types.ts';
import { EXEMPT_CONTAINERS_PARAM, INIT_AND_REGULAR, containersAt, isExempt } from './_shared.ts';

export const rootFilesystemWritable: Rule = {
  id: 'container-root-filesystem-writable',
  title: 'Container root filesystem is writable',
  severity: 'medium',
  category: 'workload',
  controls: ['NSA:Immutable container file systems'],
  rationale:
    'A writable root filesystem lets an attacker who gets code execution download tools, drop binaries or modify the application and its configuration in place, and lets the application itself drift from the image that was reviewed and scanned. A read-only root makes the image the single source of what runs.',
  remediation:
    'Set securityContext.readOnlyRootFilesystem: true on every container and mount emptyDir volumes at the paths the application must write (e.g. /tmp, caches), with a sizeLimit.',
  kinds: WORKLOAD_KINDS,
  profiles: ['recommended'],
  params: [EXEMPT_CONTAINERS_PARAM],
  check(obj, ctx) {
    const tpl = podTemplate(obj);
    if (!tpl || isWindowsPod(tpl.spec)) return [];
    const hits: RuleHit[] = [];
    for (const c of containersAt(tpl, INIT_AND_REGULAR)) {
      if (isExempt(c.name, ctx.params)) continue;
      const v = dig(c.container, 'securityContext', 'readOnlyRootFilesystem');
      if (v === true) continue;
      const field = `${c.path}.securityContext.readOnlyRootFilesystem`;
      hits.push({
        container: c.name,
        message:
          v === false
            ? `container "${c.name}" sets securityContext.readOnlyRootFilesystem=false (${field})`
            : `container "${c.name}" does not set securityContext.readOnlyRootFilesystem=true (${field})`,
      });
    }
    return hits;
  },
};
