import { pino, type DestinationStream, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';

/** Paths that may hold a secret or a whole payload: never written to logs. */
export const REDACTED_PATHS = [
  'secret',
  '*.secret',
  'previousSecret',
  '*.previousSecret',
  'apiKey',
  '*.apiKey',
  'key',
  '*.key',
  'req.headers.authorization',
  'headers.authorization',
  'payload',
  '*.payload',
  'body',
  '*.body',
];

/** `pretty`: one coloured line per event, for people; `json`: one JSON object per line, for machines. */
export type LogFormat = 'pretty' | 'json';
/** The LOG_FORMAT setting: `auto` picks by whether the output is a terminal. */
export type LogFormatSetting = LogFormat | 'auto';

export const LOG_FORMAT_SETTINGS: readonly LogFormatSetting[] = ['auto', 'pretty', 'json'];

/** A person watches a terminal; anything else (a pipe, a file, a container's log driver) is read by a machine. */
export function chooseLogFormat(setting: LogFormatSetting, outputIsTerminal: boolean): LogFormat {
  if (setting !== 'auto') return setting;
  return outputIsTerminal ? 'pretty' : 'json';
}

/**
 * The server's logger, writing to stdout unless given a destination (tests read what it writes). Redaction
 * happens before either format is written, so the pretty lines hide the same fields as the JSON ones.
 */
export function createLogger(level: string, destination?: DestinationStream, format: LogFormat = 'json'): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  if (format === 'pretty') {
    const prettify = prettyFactory({
      // Colours only for a terminal: a pretty format forced into a file stays free of escape codes.
      colorize: !destination && process.stdout.isTTY === true,
      singleLine: true,
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname',
    });
    const output = destination ?? pino.destination({ dest: 1, sync: true });
    return pino(options, { write: (line: string) => void output.write(prettify(line)) });
  }
  return destination ? pino(options, destination) : pino(options);
}

/** The logger of a command run by a person or a service manager: the format follows LOG_FORMAT and stdout. */
export function createProcessLogger(config: { logLevel: string; logFormat: LogFormatSetting }): Logger {
  return createLogger(config.logLevel, undefined, chooseLogFormat(config.logFormat, process.stdout.isTTY === true));
}
