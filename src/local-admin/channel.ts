import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Logger } from 'pino';
import { SwitchboardError } from '../domain/errors.ts';
import type { WorkspaceService } from '../workspaces/api-keys.ts';
import { parseApiKeyRequest, runApiKeyRequest, type ApiKeyAnswer, type ApiKeyRequest } from './api-key-commands.ts';

/**
 * The embedded database allows one process, so while a server runs, `switchboard apikey` asks it over this
 * socket in the data folder. Whoever can open it can read the database files next to it anyway: the folder
 * (0700) and the socket (0600) are the authentication.
 */
export const LOCAL_ADMIN_SOCKET = 'switchboard.sock';
/** Unix socket paths are limited to 108 bytes on Linux (104 on macOS), terminator included. */
const MAX_SOCKET_PATH = 103;
const MAX_REQUEST_BYTES = 16 * 1024;

export function localAdminSocketPath(dataDir: string): string {
  return path.join(dataDir, LOCAL_ADMIN_SOCKET);
}

const STATUS: Record<string, number> = { BAD_USER_INPUT: 400, NOT_FOUND: 404, CONFLICT: 409 };

export interface LocalAdminChannel {
  path: string;
  close(): Promise<void>;
}

/** Listens on DATA_DIR/switchboard.sock; undefined (with a warning) when the path is too long for a socket. */
export async function startLocalAdminChannel(dataDir: string, workspaces: WorkspaceService, logger: Logger): Promise<LocalAdminChannel | undefined> {
  const socketPath = localAdminSocketPath(dataDir);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    logger.warn({ socketPath }, 'DATA_DIR is too long a path for the local admin socket: `switchboard apikey` will need the server stopped');
    return undefined;
  }
  fs.chmodSync(dataDir, 0o700);
  // This process holds the data folder's lock, so a socket file left there is a dead server's.
  fs.rmSync(socketPath, { force: true });

  const server = http.createServer((request, response) => {
    const answer = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'POST' || request.url !== '/apikeys') return answer(404, { error: 'POST /apikeys only' });
    const chunks: Buffer[] = [];
    let size = 0;
    // An oversized request is read to its end without being kept, so the client gets its answer, not EPIPE.
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      if (size > MAX_REQUEST_BYTES) return answer(413, { error: `request: at most ${MAX_REQUEST_BYTES} bytes` });
      void (async () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return answer(400, { error: 'request: not valid JSON' });
        }
        try {
          answer(200, await runApiKeyRequest(workspaces, parseApiKeyRequest(parsed)));
        } catch (error) {
          if (error instanceof SwitchboardError && STATUS[error.code]) return answer(STATUS[error.code]!, { error: error.message });
          logger.error({ err: error }, 'local admin request failed');
          answer(500, { error: 'the server could not do it: see its log' });
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  fs.chmodSync(socketPath, 0o600);
  return {
    path: socketPath,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(socketPath, { force: true });
    },
  };
}

/**
 * Asks the server holding DATA_DIR. Undefined when none listens there (no socket, or one a dead server left),
 * so the caller opens the database itself.
 */
export async function askLocalAdmin(dataDir: string, request: ApiKeyRequest): Promise<ApiKeyAnswer | undefined> {
  const socketPath = localAdminSocketPath(dataDir);
  if (!fs.existsSync(socketPath)) return undefined;
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(request);
    const outgoing = http.request(
      { socketPath, path: '/apikeys', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: { error?: string } & Partial<ApiKeyAnswer>;
          try {
            parsed = JSON.parse(text);
          } catch {
            return reject(new Error(`the running server answered ${response.statusCode} with something that is not JSON`));
          }
          if (response.statusCode !== 200) return reject(new Error(parsed.error ?? `the running server answered ${response.statusCode}`));
          resolve(parsed as ApiKeyAnswer);
        });
      },
    );
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') resolve(undefined);
      else reject(new Error(`${socketPath}: ${error.message}`));
    });
    outgoing.end(body);
  });
}
