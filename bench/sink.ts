// A minimal HTTP sink in its own process: counts answered requests, notes when each event id (webhook-id)
// first arrived, can report the moment a count is reached, and never answers paths under /hang (stand-ins
// for endpoints that hang until the delivery timeout).
import http from 'node:http';

type Command =
  | { type: 'reset' }
  | { type: 'stats' }
  | { type: 'arrivals' }
  | { type: 'waitFor'; count: number };

let received = 0;
const arrivals = new Map<string, number>();
const byPath = new Map<string, number>();
let waiting: { count: number } | undefined;

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes of one machine. */
const now = (): number => performance.timeOrigin + performance.now();

function checkWaiting(): void {
  if (waiting && received >= waiting.count) {
    waiting = undefined;
    process.send!({ type: 'reached', at: now(), received });
  }
}

const server = http.createServer((request, response) => {
  if (request.url?.startsWith('/hang')) {
    request.resume();
    return; // never answer
  }
  request.on('data', () => {});
  request.on('end', () => {
    const at = now();
    received++;
    const path = request.url ?? '/';
    byPath.set(path, (byPath.get(path) ?? 0) + 1);
    const id = request.headers['webhook-id'];
    if (typeof id === 'string' && !arrivals.has(id)) arrivals.set(id, at);
    response.writeHead(200, { 'content-length': '0' });
    response.end();
    checkWaiting();
  });
});
server.keepAliveTimeout = 60_000;

process.on('message', (command: Command) => {
  if (command.type === 'reset') {
    received = 0;
    arrivals.clear();
    byPath.clear();
    waiting = undefined;
    process.send!({ type: 'reset' });
  } else if (command.type === 'stats') {
    process.send!({ type: 'stats', received, paths: byPath.size, maxPerPath: Math.max(0, ...byPath.values()) });
  } else if (command.type === 'arrivals') {
    process.send!({ type: 'arrivals', arrivals: [...arrivals] });
  } else if (command.type === 'waitFor') {
    waiting = { count: command.count };
    checkWaiting();
  }
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send!({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
});
