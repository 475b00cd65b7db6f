import type http from 'node:http';

export interface ListenOptions {
  port: number;
  host: string;
  /** Secrets to verify with (any one may match); none: requests are printed but not verified. */
  secrets: string[];
  /** Verified requests are sent on to this URL and its answer returned. */
  forward?: URL;
  /** The share of requests answered 500 on purpose, 0 to 1. */
  failRate: number;
  toleranceSeconds: number;
}

/** Reads `--port --host --secret (repeatable) --forward --fail-rate --tolerance`; throws a message naming the bad one. */
export declare function parseListenArgs(args: string[]): ListenOptions;
/** Fails exactly `rate` of requests, evenly spread: rate 1 fails all, 0.5 every second one, 0 none. */
export declare function failureSchedule(rate: number): () => boolean;
/** Parses the arguments and listens until SIGINT or SIGTERM, printing each webhook to stdout. */
export declare function runListen(args: string[]): Promise<void>;
/** The receiver itself, for embedding: `print` gets each output line. */
export declare function createListenServer(options: ListenOptions, print: (line: string) => void): http.Server;
/** `field: old → new` for every field that differs between previousRecord and record (created: every set field). */
export declare function diffLines(payload: Record<string, unknown> | undefined): string[];
