import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(REPO_ROOT, 'bin/switchboard.js');

export interface RunningProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the first match of pattern in the output; rejects if the process exits first or time runs out. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Runs `switchboard <args>` as a real child process. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): RunningProcess {
  return runNode([CLI, ...args], { LOG_LEVEL: 'warn', ...env });
}

/** Runs `node <args>` (this Node) as a real child process, its output collected. */
export function runNode(args: string[], env: Record<string, string | undefined> = {}, cwd = REPO_ROOT): RunningProcess {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => {
      resolve(code ?? signal ?? -1);
      for (const listener of listeners) listener();
    });
  });
  let exitCode: number | string | undefined;
  void exited.then((code) => (exitCode = code));

  return {
    child,
    output: () => output,
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = output.match(pattern);
          if (match) return done(() => resolve(match));
          if (exitCode !== undefined) return done(() => reject(new Error(`process exited (${exitCode}) before ${pattern}:\n${output}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting for ${pattern}:\n${output}`))), timeoutMs);
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    async kill(signal = 'SIGTERM') {
      if (exitCode === undefined) child.kill(signal);
      return exited;
    },
  };
}

/** `switchboard serve` processes and folders of one test file, all killed and removed by `cleanup` (afterAll). */
export function serverGroup(): {
  serve(env: Record<string, string>, args?: string[]): RunningProcess;
  removeLater(folder: string): void;
  cleanup(): Promise<void>;
} {
  const running: RunningProcess[] = [];
  const folders: string[] = [];
  return {
    serve(env, args = []) {
      const server = runCli(['serve', ...args], { PORT: '0', ...env });
      running.push(server);
      return server;
    },
    removeLater(folder) {
      folders.push(folder);
    },
    async cleanup() {
      await Promise.all(running.map((server) => server.kill('SIGKILL')));
      for (const folder of folders) fs.rmSync(folder, { recursive: true, force: true });
    },
  };
}
