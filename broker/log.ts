// The one place that imports pino. Everything else takes a `Logger` so tests can silence it.
import { pino } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Logger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'iotcore' } });
}
