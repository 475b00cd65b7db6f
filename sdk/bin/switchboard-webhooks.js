#!/usr/bin/env node
import { runListen } from '../listen.js';

const USAGE = `Usage: switchboard-webhooks listen [--port 4000] [--host 127.0.0.1] [--secret S ...] [--forward URL] [--fail-rate R] [--tolerance SECONDS]

  listen   a local receiver: verifies each webhook's signature (with --secret), prints the event and its changed
           fields, and answers 200 (401 for a bad signature; 500 for the --fail-rate share; --forward's answer).`;

const [command, ...args] = process.argv.slice(2);
if (command === 'listen') {
  try {
    await runListen(args);
  } catch (error) {
    process.stderr.write(`switchboard-webhooks: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
} else {
  process.stdout.write(`${USAGE}\n`);
  process.exit(command === undefined || command === 'help' || command === '--help' || command === '-h' ? 0 : 2);
}
