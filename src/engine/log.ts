/** Levelled logger used by every engine module; the CLI writes to stderr, the worker forwards to the extension. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const levelRank: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

/** Creates a logger that passes each message at or above `minLevel` to `sink`. */
export function createLogger(sink: (level: LogLevel, message: string) => void, minLevel: LogLevel = 'info'): Logger {
  const emit = (level: LogLevel) => (message: string) => {
    if (levelRank[level] >= levelRank[minLevel]) sink(level, message);
  };
  return { trace: emit('trace'), debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** Logger that drops everything; the default for library calls that were given none. */
export const silentLogger: Logger = createLogger(() => undefined, 'error');

/** Logger that writes `[level] message` lines to stderr. */
export function stderrLogger(minLevel: LogLevel = 'info'): Logger {
  return createLogger((level, message) => process.stderr.write(`[${level}] ${message}\n`), minLevel);
}
