/**
 * Credentials stored in ConfigMaps. ConfigMaps are meant for non-secret
 * configuration: they are not encrypted at rest by the usual EncryptionConfig
 * setups, RBAC on them is broad, and they are printed by every tool.
 *
 * Each `data` value is scanned with the detectors: a single-line value under a
 * secret-named key (DB_PASSWORD: …) is classified by the key; other values are
 * scanned as configuration files, line by line (properties, .env, YAML, JSON,
 * INI, XML, connection strings). `binaryData` is not scanned. Known provider
 * formats and named literals are reported by this one rule; the message says
 * which (credential vs secret) and names the key and line, never the value.
 */
import { asObj, asString, asStringArray } from '../../engine/podspec.ts';
import { anyGlob } from '../../engine/match.ts';
import type { Rule, RuleHit } from '../../engine/types.ts';
import { TUNING_PARAMS, scanOptions } from './container-secrets.ts';
import { printableName, scanNamed, scanText, shannonEntropy, type Detection } from './detectors.ts';

const AWS_SECRET_SHAPE = /^[A-Za-z0-9/+]{40}$/;

export const configMapSecret: Rule = {
  id: 'configmap-contains-secret',
  title: 'ConfigMap contains a credential or hardcoded secret',
  severity: 'high',
  category: 'secrets',
  controls: ['NSA:Secrets', 'MITRE:T1552.001'],
  rationale:
    'ConfigMaps are for non-confidential configuration: they are readable with broad RBAC (often every service account in the namespace through view roles), are usually excluded from encryption at rest, are mounted and printed freely and live in git. A password, token or private key in one is effectively published.',
  remediation:
    'Move the value into a Secret (or an external secret manager synced into one) and mount it as a file next to the configuration, or template the configuration at start-up from the Secret; rotate the credential if the ConfigMap was ever shared.',
  kinds: ['ConfigMap'],
  profiles: ['recommended'],
  params: TUNING_PARAMS,
  check(obj, ctx) {
    const opts = scanOptions(ctx.params);
    const ignore = asStringArray(ctx.params['ignoreNames']);
    const data = asObj(obj['data']);
    const found: { key: string; d: Detection }[] = [];
    const flagged = new Set<string>();
    for (const [key, raw] of Object.entries(data)) {
      const value = asString(raw);
      if (value === undefined || value === '') continue;
      const ds = !value.includes('\n') ? scanNamed(key, value, opts) : scanText(value, opts);
      if (!value.includes('\n') && ds.length === 0) ds.push(...scanText(value, opts));
      for (const d of ds) {
        if (anyGlob(ignore, key) || (d.key !== undefined && anyGlob(ignore, d.key))) continue;
        found.push({ key, d });
        flagged.add(key);
      }
    }
    if (found.some((f) => f.d.type === 'AWS access key ID')) {
      for (const [key, raw] of Object.entries(data)) {
        const value = asString(raw)?.trim();
        if (value === undefined || flagged.has(key) || anyGlob(ignore, key)) continue;
        if (AWS_SECRET_SHAPE.test(value) && shannonEntropy(value) >= 4)
          found.push({ key, d: { type: 'AWS secret access key', known: true } });
      }
    }
    const hits: RuleHit[] = [];
    const seen = new Set<string>();
    for (const { key, d } of found) {
      const where: string[] = [];
      if (d.line !== undefined) where.push(`line ${d.line}`);
      if (d.key !== undefined && d.key !== key) where.push(`via ${printableName(d.key)}`);
      const at = where.length > 0 ? ` (${where.join(', ')})` : '';
      const message = `ConfigMap data["${printableName(key)}"]${at} contains a literal ${d.known ? 'credential' : 'secret'}: ${d.type}`;
      if (seen.has(message)) continue;
      seen.add(message);
      hits.push({ message });
    }
    return hits;
  },
};
