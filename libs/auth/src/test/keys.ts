import type { CryptoKey, JSONWebKeySet, JWK } from "jose";
import { exportJWK, generateKeyPair } from "jose";

export interface TestKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

/** A fresh Ed25519 key pair and its public JWK (kid, alg EdDSA, use sig). */
export async function testKey(kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" };
  return { kid, privateKey, publicKey, jwk };
}

/** A JWKS whose keys can be changed between loads, counting the loads. */
export function jwksSource(initial: TestKey[]) {
  let keys = initial.map((k) => k.jwk);
  let loads = 0;
  return {
    get loads() {
      return loads;
    },
    set(next: TestKey[]) {
      keys = next.map((k) => k.jwk);
    },
    getJwks: async (): Promise<JSONWebKeySet> => {
      loads++;
      return { keys: [...keys] };
    },
  };
}

/** A settable clock. */
export function testClock(start = new Date("2030-01-01T00:00:00Z")) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}
