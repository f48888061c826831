import { createHmac } from 'node:crypto';

/** The headers of a Standard Webhooks message: id, timestamp (seconds) and `v1,<base64 HMAC-SHA256>`. */
export function webhookHeaders(key: Buffer, id: string, timestamp: number, body: string): Record<string, string> {
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': `v1,${signature}`,
  };
}

/** The outcome of one delivery attempt: delivered (2xx), or why not (never the secret). */
export type DeliveryResult = { ok: true } | { ok: false; reason: string };

/** POSTs a signed JSON message to the webhook, with a timeout; redirects are not followed. */
export async function postWebhook(
  url: string,
  key: Buffer,
  message: { id: string; timestamp: number; body: string },
  timeoutMs: number,
): Promise<DeliveryResult> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: webhookHeaders(key, message.id, message.timestamp, message.body),
      body: message.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel().catch(() => undefined);
    return res.status >= 200 && res.status < 300 ? { ok: true } : { ok: false, reason: `HTTP ${res.status}` };
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    return { ok: false, reason: cause ?? (e as Error).name ?? 'request failed' };
  }
}
