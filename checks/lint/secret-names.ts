/**
 * Whether a variable's *name* says it holds a secret value. Names that say they hold something *about* a secret
 * (its id, file, path, expiry, name) are not secrets: `secretId` is what the portal shows next to a secret, and a
 * `secretFile` path is safe to print (reading the file is what the `cat` check catches).
 */
const SECRET_WORD = /secret|token|passw(?:or)?d|passphrase|pwd|api_?key|apikey|private_?key|credential|client_?assertion/gi;
const METADATA = /(?:id|ids|name|names|file|files|path|paths|dir|url|uri|endpoint|expiry|expires|expiration|expiresat|expireson|length|len|count|hint|description|desc|label|type|prefix|header|env|var|key_?name|ttl|age|created|count|exists|set|present|status)$/i;

export function isSecretName(name: string): boolean {
  let lastEnd = -1;
  for (const match of name.matchAll(SECRET_WORD)) lastEnd = match.index + match[0].length;
  if (lastEnd === -1) return false;
  const rest = name.slice(lastEnd).replace(/^[_-]+/, '');
  return rest === '' || !METADATA.test(rest);
}

/** A file whose contents are a secret: named like one, or an env file, key or certificate store. */
export function isSecretFileName(path: string): boolean {
  const base = path.split('/').pop() ?? path;
  if (/\.example$|\.sample$|\.template$/i.test(base)) return false;
  if (/^\.env(?:\.|$)/.test(base) || /\.(?:pem|key|p12|pfx|jks)$/i.test(base) || /^id_(?:rsa|ed25519|ecdsa)$/.test(base)) return true;
  SECRET_WORD.lastIndex = 0;
  return new RegExp(SECRET_WORD.source, 'i').test(base);
}
