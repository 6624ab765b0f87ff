import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { decodeJwt, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, importSPKI, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import { writePrivateFileSync } from '../../common/private-files.ts';
import type { Clock } from '../types.ts';
import { GRAPH_RESOURCE, SEED } from './seed.ts';

export const TOKEN_LIFETIME_S = 3599;

export interface AccessTokenClaims extends JWTPayload {
  appid: string;
  tid: string;
  roles: string[];
  oid: string;
  idtyp: string;
  uti: string;
}

export type TokenCheck = { ok: true; claims: AccessTokenClaims } | { ok: false; message: string };

/**
 * Signs Graph access tokens the way Entra does for client credentials (v1.0 tokens: `appid`, `roles`, `tid`, audience
 * https://graph.microsoft.com) and verifies them for the sandbox's Graph. Only tokens this process issued verify (it
 * keeps their `uti`), so a token from a previous sandbox never does, although the signing key is kept in the sandbox
 * folder like its CA (a 2048-bit RSA key pair took up to half a second of every start to generate).
 *
 * Lifetime is judged by the token's REAL age, not by sandbox time: msal-node caches tokens on the real clock, and a
 * token it still considers fresh must not be rejected because a test advanced the sandbox clock by days. Claims
 * (iat/nbf/exp) are written in sandbox time, which is what anyone decoding the token expects to see.
 */
export class TokenService {
  private readonly issuedAt = new Map<string, number>();
  /** Every token signed, kept for the leak scans only: an access token is a secret like a client secret. */
  private readonly issued: string[] = [];

  private constructor(
    private readonly clock: Clock,
    private readonly issuer: string,
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    readonly jwk: JWK,
  ) {}

  /** `keyFile`: where the signing key is kept (mode 600), made on first use; without one, a key for this process. */
  static async create(clock: Clock, issuer: string, keyFile?: string): Promise<TokenService> {
    const { privateKey, publicKey } = await signingKey(keyFile);
    const jwk = await exportJWK(publicKey);
    const kid = createHash('sha256').update(JSON.stringify(jwk)).digest('base64url').slice(0, 27);
    return new TokenService(clock, issuer, privateKey, publicKey, { ...jwk, kid, use: 'sig', alg: 'RS256' });
  }

  async issue(appId: string, appDisplayName: string): Promise<string> {
    const nowS = Math.floor(this.clock.now() / 1000);
    const uti = randomBytes(16).toString('base64url');
    this.issuedAt.set(uti, Date.now());
    return new SignJWT({
      aio: randomBytes(24).toString('base64url'),
      app_displayname: appDisplayName,
      appid: appId,
      appidacr: '1',
      idp: this.issuer,
      idtyp: 'app',
      oid: SEED.app.servicePrincipalId,
      roles: [...SEED.roles],
      sub: SEED.app.servicePrincipalId,
      tenant_region_scope: 'EU',
      tid: SEED.tenantId,
      uti,
      ver: '1.0',
    })
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid: this.jwk.kid ?? '' })
      .setIssuer(this.issuer)
      .setAudience(GRAPH_RESOURCE)
      .setIssuedAt(nowS)
      .setNotBefore(nowS)
      .setExpirationTime(nowS + TOKEN_LIFETIME_S)
      .sign(this.privateKey)
      .then((token) => {
        this.issued.push(token);
        return token;
      });
  }

  issuedTokens(): readonly string[] {
    return [...this.issued];
  }

  async verify(token: string): Promise<TokenCheck> {
    let payload: JWTPayload;
    try {
      payload = decodeJwt(token);
    } catch {
      return { ok: false, message: 'IDX14100: JWT is not well formed, there are no dots (.).' };
    }
    const realIssued = typeof payload.uti === 'string' ? this.issuedAt.get(payload.uti) : undefined;
    if (realIssued === undefined || typeof payload.iat !== 'number') {
      return { ok: false, message: 'Access token validation failure. Invalid signature.' };
    }
    // Judge lifetime as if the token's own clock had run in real time since it was issued (see class comment).
    const effectiveNow = new Date(payload.iat * 1000 + (Date.now() - realIssued));
    try {
      const { payload: claims } = await jwtVerify(token, this.publicKey, {
        issuer: this.issuer,
        audience: GRAPH_RESOURCE,
        currentDate: effectiveNow,
        algorithms: ['RS256'],
      });
      return { ok: true, claims: claims as AccessTokenClaims };
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED') return { ok: false, message: 'Lifetime validation failed, the token is expired.' };
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return { ok: false, message: 'Access token validation failure. Invalid audience.' };
      return { ok: false, message: 'Access token validation failure. Invalid signature.' };
    }
  }
}

async function signingKey(keyFile: string | undefined): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }> {
  if (keyFile && existsSync(keyFile)) {
    const pem = readFileSync(keyFile, 'utf8');
    const spki = createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString();
    return { privateKey: await importPKCS8(pem, 'RS256', { extractable: true }), publicKey: await importSPKI(spki, 'RS256', { extractable: true }) };
  }
  const pair = await generateKeyPair('RS256', { extractable: true });
  if (keyFile) writePrivateFileSync(keyFile, await exportPKCS8(pair.privateKey));
  return pair;
}
