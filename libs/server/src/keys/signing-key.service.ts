import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { exportJWK, generateKeyPair, importJWK, calculateJwkThumbprint, type CryptoKey, type JWK } from 'jose';
import { AuditSink } from '../audit/audit.sink.js';
import { SERVER_SETTINGS, type ServerSettings } from '../options/server-settings.js';
import { Clock } from '../shared/clock.js';
import { KeyEncryption } from '../shared/crypto.js';
import { SigningKeyStore, type SigningKeyRecord } from './signing-key.store.js';
import { JwsBackend, type JwsSigner } from '../jws/jws-backend.js';

/** The key that signs access tokens now. */
export interface ActiveSigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  /** Signs a compact JWS with this key (through the process's {@link JwsBackend}). */
  sign: JwsSigner;
}

/** How long an instance trusts its in-memory view of the key table. */
const VIEW_TTL_MS = 10_000;

/**
 * Server signing keys: `next` (published, not yet signing) → `active` (signs) → `retired`
 * (published until every token it signed has expired, plus a margin). Private parts are stored
 * encrypted with the KEK and imported once. The database guarantees one active key.
 * @see RFC 7517, RFC 9068
 */
@Injectable()
export class SigningKeyService implements OnApplicationBootstrap {
  private readonly logger = new Logger('ClavisSigningKeys');
  private view?: {
    at: number;
    loadedAt: number;
    active: ActiveSigningKey;
    jwks: { keys: JWK[] };
    records: SigningKeyRecord[];
  };
  private loading?: Promise<NonNullable<SigningKeyService['view']>>;

  constructor(
    private readonly store: SigningKeyStore,
    private readonly clock: Clock,
    private readonly audit: AuditSink,
    @Inject(SERVER_SETTINGS)
    private readonly settings: Pick<
      ServerSettings,
      'signingAlgorithm' | 'accessTokenTtl' | 'clockSkew' | 'keyRotation'
    >,
    private readonly kek: KeyEncryption,
    private readonly jws: JwsBackend,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.load();
  }

  /** The active signing key (imported once; re-read from the database every few seconds). */
  async activeKey(): Promise<ActiveSigningKey> {
    return (await this.current()).active;
  }

  /** The public JWK Set: next, active and retired-but-not-removed keys. */
  async jwks(): Promise<{ keys: JWK[] }> {
    return (await this.current()).jwks;
  }

  /**
   * The JWK Set re-read from the database (at most once a second): for a verifier that met an
   * unknown `kid`, which may come from a key another instance has just activated.
   */
  async freshJwks(): Promise<{ keys: JWK[] }> {
    const view = this.view;
    // Wall time on purpose: this bounds database reads per second, it is not a protocol time.
    if (view && Date.now() - view.loadedAt < 1_000) return view.jwks;
    return (await this.load()).jwks;
  }

  /** Every stored key (for operators). */
  async list(): Promise<SigningKeyRecord[]> {
    return this.store.list();
  }

  /**
   * Rotates: makes the `next` key active (creating and announcing one first if there is none —
   * pass `force` to skip the announce period) and retires the current active key. Safe when
   * several instances rotate at once: exactly one promotion wins.
   */
  async rotate(opts: { force?: boolean } = {}): Promise<{ activeKid: string; retiredKid?: string; rotated: boolean }> {
    const now = this.clock.nowSeconds();
    let records = await this.store.list();
    let next = records.find((k) => k.state === 'next');
    const active = records.find((k) => k.state === 'active');
    if (!next) {
      await this.store.insert(await this.createKey('next', now));
      records = await this.store.list();
      const inserted = records.find((k) => k.state === 'next');
      if (!inserted) {
        // Another instance inserted a next key and promoted it meanwhile: that rotation is this one.
        this.invalidate();
        return { activeKid: (await this.current()).active.kid, rotated: false };
      }
      next = inserted;
      if (!opts.force && active && this.settings.keyRotation.announce > 0) {
        this.invalidate();
        return { activeKid: active.kid, rotated: false };
      }
    }
    if (!opts.force && active && next.createdAt + this.settings.keyRotation.announce > now) {
      return { activeKid: active.kid, rotated: false };
    }
    const removeAt =
      now + this.settings.accessTokenTtl + this.settings.clockSkew + this.settings.keyRotation.retainMargin;
    const won = await this.store.promote(next.kid, active ? { kid: active.kid, removeAt } : null, now);
    this.invalidate();
    const view = await this.current();
    if (won) {
      this.audit.record({ type: 'signing_key.rotated', activeKid: next.kid, retiredKid: active?.kid });
      return { activeKid: next.kid, retiredKid: active?.kid, rotated: true };
    }
    return { activeKid: view.active.kid, rotated: false };
  }

  /** Forget the in-memory view (the next call re-reads the database). */
  invalidate(): void {
    this.view = undefined;
  }

  private async current(): Promise<NonNullable<SigningKeyService['view']>> {
    const view = this.view;
    if (view && this.clock.now() - view.at < VIEW_TTL_MS) return view;
    if (view) {
      // Serve the known view while refreshing in the background.
      void this.load().catch((e: Error) => this.logger.warn(`signing key refresh failed: ${e.message}`));
      return view;
    }
    return this.load();
  }

  private load(): Promise<NonNullable<SigningKeyService['view']>> {
    this.loading ??= (async () => {
      try {
        const now = this.clock.nowSeconds();
        let records = await this.store.list();
        if (!records.some((k) => k.state === 'active')) {
          const created = await this.createKey('active', now);
          if (await this.store.insert(created)) {
            this.audit.record({ type: 'signing_key.created', kid: created.kid, state: 'active' });
            this.logger.log(`created signing key ${created.kid} (${created.alg})`);
          }
          records = await this.store.list();
        }
        const activeRecord = records.find((k) => k.state === 'active')!;
        const privateJwk = JSON.parse(
          this.kek.decrypt(activeRecord.privateJwkEncrypted, `signing_key:${activeRecord.kid}`),
        ) as JWK;
        const privateKey = (await importJWK(privateJwk, activeRecord.alg)) as CryptoKey;
        const active: ActiveSigningKey = {
          kid: activeRecord.kid,
          alg: activeRecord.alg,
          privateKey,
          sign: this.jws.signer(activeRecord.alg, privateJwk, privateKey),
        };
        const published = records.filter((k) => k.state !== 'retired' || (k.removeAt ?? 0) > now);
        const view = {
          at: this.clock.now(),
          loadedAt: Date.now(),
          active,
          jwks: { keys: published.map((k) => ({ ...k.publicJwk }) as JWK) },
          records,
        };
        if (this.view?.active.kid === active.kid) view.active = this.view.active;
        this.view = view;
        return view;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private async createKey(state: 'next' | 'active', now: number): Promise<SigningKeyRecord> {
    const alg = this.settings.signingAlgorithm;
    const { publicKey, privateKey } = await generateKeyPair(alg, {
      extractable: true,
      ...(alg.startsWith('RS') || alg.startsWith('PS') ? { modulusLength: 2048 } : {}),
    });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = await exportJWK(privateKey);
    return {
      kid,
      alg,
      state,
      publicJwk: { ...publicJwk, kid, alg, use: 'sig' },
      privateJwkEncrypted: this.kek.encrypt(JSON.stringify(privateJwk), `signing_key:${kid}`),
      createdAt: now,
      activatedAt: state === 'active' ? now : null,
      retiredAt: null,
      removeAt: null,
    };
  }
}
