/**
 * Error classes the controller runtime understands.
 */

/**
 * A reconcile failure that retrying cannot fix (e.g. an invalid
 * SecurityPolicy): the runtime logs and counts it, forgets the key's backoff
 * and does not requeue. The next change to the object triggers a new reconcile.
 */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}
