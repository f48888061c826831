import { Inject, Injectable } from '@nestjs/common';
import { ClientService } from '../clients/client.service.js';
import type { ClientWithSecrets } from '../clients/client.store.js';
import { CREDENTIAL_SOURCES, type CredentialSource } from './credential-sources.js';
import type { CredentialUsageRecord, CredentialView } from './credential-usage.js';
import { CredentialUsageStore, mergeUsage } from './credential-usage.store.js';
import { CredentialUsageRecorder } from './credential-usage.recorder.js';

/**
 * Reads a client's credentials with their usage: each secret (current, previous) and each key, when
 * it was created and expires, when it was last used, roughly how often, and from where. Usage is
 * what every instance has flushed plus what this instance has not flushed yet. Never a secret value.
 */
@Injectable()
export class CredentialUsageService {
  constructor(
    private readonly clients: ClientService,
    private readonly store: CredentialUsageStore,
    private readonly recorder: CredentialUsageRecorder,
    @Inject(CREDENTIAL_SOURCES) private readonly sources: CredentialSource[],
  ) {}

  /** The client's credential views, or null when there is no such client. */
  async credentialsOf(clientId: string): Promise<CredentialView[] | null> {
    const found = await this.clients.findWithSecrets(clientId);
    return found ? this.viewsOf(found) : null;
  }

  /** The credential views of a client already read (with its secrets). */
  async viewsOf(found: ClientWithSecrets): Promise<CredentialView[]> {
    const clientId = found.client.clientId;
    const usage = new Map<string, CredentialUsageRecord>();
    for (const r of [...(await this.store.forClient(clientId)), ...this.recorder.pendingFor(clientId)]) {
      const key = `${r.type}:${r.credentialId}`;
      usage.set(key, mergeUsage(usage.get(key), r));
    }
    const views: CredentialView[] = [];
    for (const source of this.sources) {
      const seen = [...usage.values()].filter((u) => u.type === source.type).map((u) => u.credentialId);
      for (const c of source.list(found, seen)) {
        const u = usage.get(`${source.type}:${c.id}`);
        views.push({
          type: source.type,
          [source.idMember]: c.id,
          ...c.names,
          status: c.status,
          created_at: c.createdAt,
          expires_at: c.expiresAt,
          last_used_at: u?.lastUsedAt ?? null,
          use_count: u?.useCount ?? 0,
          last_address: u?.lastAddress ?? null,
        });
      }
    }
    return views;
  }
}
