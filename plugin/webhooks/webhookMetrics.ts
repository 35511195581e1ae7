import { Counter, Gauge, type Registry } from 'prom-client';
import type { WebhookDispatcher, WebhookDispatcherEvents } from './WebhookDispatcher';

/**
 * The webhook families: events delivered or given up on (per URL, so one event to two URLs counts
 * twice), failed POSTs (retries included) and deliveries waiting. Without a dispatcher (no
 * webhooks.urls) they stay at 0, so dashboards and alerts find them on every server.
 */
export function registerWebhookMetrics(registry: Registry, webhooks: WebhookDispatcher | undefined): { close(): void } {
  const registers = [registry];
  const deliveries = new Counter({
    name: 'confrec_webhook_deliveries_total',
    help: 'Webhook events that left their queue: delivered (a 2xx answer) or failed (given up after webhooks.maxAttempts).',
    labelNames: ['result'],
    registers,
  });
  const failedAttempts = new Counter({ name: 'confrec_webhook_attempt_failures_total', help: 'Webhook POSTs that failed (network, timeout, non-2xx), retries included.', registers });
  for (const result of ['delivered', 'failed']) deliveries.inc({ result }, 0);
  new Gauge({
    name: 'confrec_webhook_queue_depth',
    help: 'Webhook deliveries waiting or under way.',
    registers,
    collect() {
      this.set(webhooks?.pending ?? 0);
    },
  });
  const onDelivery = (...[outcome]: WebhookDispatcherEvents['delivery']): void => {
    if (outcome === 'delivered') deliveries.inc({ result: 'delivered' });
    else failedAttempts.inc();
    if (outcome === 'gaveUp') deliveries.inc({ result: 'failed' });
  };
  webhooks?.on('delivery', onDelivery);
  return { close: () => webhooks?.off('delivery', onDelivery) };
}
