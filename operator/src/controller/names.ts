/**
 * Kubernetes name and time formatting helpers shared by the report and
 * event builders and the adapters. Pure.
 */
import { createHash } from 'node:crypto';

/** Lowercases and rewrites `raw` into a DNS-1123 subdomain shape (may be empty; no length limit applied). */
export function sanitizeSubdomain(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .split('.')
    .map((seg) => seg.replace(/^-+|-+$/g, '').replace(/-{2,}/g, '-'))
    .filter((seg) => seg !== '')
    .join('.');
}

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Is `s` a valid DNS-1123 subdomain (object names of most kinds)? */
export function isSubdomain(s: string): boolean {
  return s.length > 0 && s.length <= 253 && SUBDOMAIN.test(s);
}

/** Trims `s` to at most `max` chars without leaving a trailing `-` or `.`. */
export function truncateName(s: string, max: number): string {
  return s.slice(0, max).replace(/[^a-z0-9]+$/, '');
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** RFC 3339 in whole seconds, as metav1.Time serializes (e.g. 2030-01-01T00:00:00Z). */
export function formatTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** RFC 3339 with exactly six fractional digits, as metav1.MicroTime serializes. */
export function formatMicroTime(ms: number): string {
  const iso = new Date(Math.floor(ms)).toISOString(); // 2030-01-01T00:00:00.123Z
  return `${iso.slice(0, -1)}000Z`;
}
