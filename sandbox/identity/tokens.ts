import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
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
 * https://graph.microsoft.com) and verifies them for the sandbox's Graph. Keys are per process, so a token from a
 * previous sandbox never verifies.
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

  static async create(clock: Clock, issuer: string): Promise<TokenService> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
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
