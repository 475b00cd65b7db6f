// The part every example shares: verify each delivery over its raw bytes, answer at once, ignore
// duplicates (on the event `id`) and do the slow work afterwards, from a queue.
import http from 'node:http';
// In your own app: import { webhookMiddleware } from '@switchboard/webhooks';
import { webhookMiddleware } from '../../sdk/index.js';

/**
 * Starts a receiver on PORT (default 4100; 0 picks a free one) that calls `handle(event)` once per event.
 * WEBHOOK_SECRET is the webhook's secret; during a rotation give both, comma-separated: "new,old".
 */
export function startReceiver({ name, handle, seen = new Set() }) {
  const secret = process.env.WEBHOOK_SECRET;
  if (!secret) {
    console.error(`${name}: set WEBHOOK_SECRET to the webhook's secret (shown once when you created the webhook)`);
    process.exit(2);
  }
  const verify = webhookMiddleware({ secret: secret.split(',') });
  const queue = [];
  let draining = false;

  // An in-memory queue keeps the example short; in production use a durable one (a table, Redis, SQS…)
  // so that work accepted with a 200 survives a restart.
  async function drain() {
    if (draining) return;
    draining = true;
    while (queue.length > 0) {
      const event = queue.shift();
      try {
        await handle(event);
      } catch (error) {
        // Forget it so that a redelivery (Switchboard's "Resend") is processed again.
        seen.delete(event.id);
        console.error(`${name}: ${event.operation} ${event.id} failed: ${error.message}`);
      }
    }
    draining = false;
  }

  const server = http.createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    // Verification failures are answered by the middleware (401/400/413) and retried by Switchboard.
    verify(req, res, () => {
      const event = req.webhook;
      if (seen.has(event.id)) {
        console.log(`${name}: ${event.operation} ${event.id} already received, ignored`);
      } else {
        seen.add(event.id);
        queue.push(event);
        setImmediate(drain);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    });
  });
  server.listen(Number(process.env.PORT ?? 4100), process.env.HOST ?? '127.0.0.1', () => {
    console.log(`${name}: listening on http://127.0.0.1:${server.address().port}/`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return server;
}
