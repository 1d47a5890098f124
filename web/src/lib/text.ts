/** Small text rules: messages shown to people and references typed by them. */

/** The server's reason as a sentence, without its own "log in again" (the screen says that). */
export function expiryReason(message: string): string {
  const core = message.replace(/[;,.]?\s*log in again\.?$/i, '').trim();
  if (!core) return 'Your session ended.';
  return `${core[0].toUpperCase()}${core.slice(1)}${/[.!?]$/.test(core) ? '' : '.'}`;
}

/** True for `namespace/name` with lowercase DNS names. */
export function isSecretRef(s: string): boolean {
  return /^[a-z0-9.-]{1,253}\/[a-z0-9.-]{1,253}$/.test(s);
}
