import { createHash, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type Forge from 'node-forge';

/**
 * node-forge, a large module, is loaded only when a certificate is made: a sandbox that finds its CA and certificate
 * (every start after the first) loads none of it, which was a tenth of the sandbox's start on its main thread.
 */
let loadedForge: typeof Forge | undefined;
const forgeLib = (): typeof Forge => (loadedForge ??= createRequire(import.meta.url)('node-forge') as typeof Forge);

/**
 * The sandbox's own certificate authority. Clients trust the sandbox by being handed `certPath` (never by turning
 * verification off), so the CA is generated once per sandbox dir and reused: a CA file a developer already
 * configured keeps working across restarts.
 */
export interface LocalCa {
  certPem: string;
  keyPem: string;
  certPath: string;
}

export interface ServerCert {
  certPem: string;
  keyPem: string;
}

const CA_NAME = 'Runbook Sandbox Local CA';

/** Node's RSA key generation is native and fast; forge's pure-JS one takes seconds. */
function newRsaKey(): Forge.pki.rsa.KeyPair {
  const forge = forgeLib();
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const key = forge.pki.privateKeyFromPem(pem) as Forge.pki.rsa.PrivateKey;
  return { privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e) };
}

function serialNumber(): string {
  // Positive (high bit clear) so that strict parsers accept it.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

function isStillValid(certPem: string, marginMs: number): boolean {
  try {
    return new Date(new X509Certificate(certPem).validTo).getTime() - marginMs > Date.now();
  } catch {
    return false;
  }
}

export function loadOrCreateCa(dir: string): LocalCa {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certPath = join(dir, 'ca.crt');
  const keyPath = join(dir, 'ca.key');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const certPem = readFileSync(certPath, 'utf8');
    if (isStillValid(certPem, 7 * 86_400_000)) return { certPem, keyPem: readFileSync(keyPath, 'utf8'), certPath };
  }
  const forge = forgeLib();
  const keys = newRsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + 5 * 365 * 86_400_000);
  const subject = [{ name: 'commonName', value: CA_NAME }, { name: 'organizationName', value: 'runbook-harness' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  const keyPem = forge.pki.privateKeyToPem(keys.privateKey);
  writeFileSync(keyPath, keyPem, { mode: 0o600 });
  writeFileSync(certPath, certPem, { mode: 0o644 });
  return { certPem, keyPem, certPath };
}

const IP = /^(\d{1,3}\.){3}\d{1,3}$|:/;

/** A leaf certificate for `hosts` (DNS names and IPs) signed by the CA, valid for about a year. */
export function issueServerCert(ca: Pick<LocalCa, 'certPem' | 'keyPem'>, hosts: string[]): ServerCert {
  const forge = forgeLib();
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const keys = newRsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: hosts[0] ?? 'localhost' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: hosts.map((host) => (IP.test(host) ? { type: 7, ip: host } : { type: 2, value: host })) },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** The leaf certificate for the sandbox's own listeners, cached beside the CA so restarts keep one identity. */
export function loadOrCreateLoopbackCert(dir: string, ca: LocalCa): ServerCert {
  const certPath = join(dir, 'localhost.crt');
  const keyPath = join(dir, 'localhost.key');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const certPem = readFileSync(certPath, 'utf8');
    const issuedByCa = (() => {
      try {
        return new X509Certificate(certPem).verify(new X509Certificate(ca.certPem).publicKey);
      } catch {
        return false;
      }
    })();
    if (issuedByCa && isStillValid(certPem, 7 * 86_400_000)) return { certPem, keyPem: readFileSync(keyPath, 'utf8') };
  }
  const issued = issueServerCert(ca, ['localhost', '127.0.0.1', '::1']);
  writeFileSync(keyPath, issued.keyPem, { mode: 0o600 });
  writeFileSync(certPath, issued.certPem, { mode: 0o644 });
  return issued;
}

/**
 * base64(sha256(SubjectPublicKeyInfo)) of a certificate: what Chromium's `--ignore-certificate-errors-spki-list`
 * pins. Browsers get the sandbox's key pinned this way because Chromium on Linux reads trust anchors only from an
 * NSS database that we cannot write without extra tools.
 */
export function spkiHash(certPem: string): string {
  const der = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}
