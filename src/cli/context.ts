import type { Command } from "commander";
import { resolveConfig, type RemConfig } from "../config/config.js";

/** The global flags every command accepts (see src/config/config.ts). */
export function configOf(cmd: Command): RemConfig {
  const o = cmd.optsWithGlobals<{ data?: string; tenant?: string; nats?: string; password?: string }>();
  return resolveConfig({ data: o.data, tenant: o.tenant, nats: o.nats, password: o.password });
}

/** Parses a non-negative integer flag, or throws a usage error naming the flag. */
export function intFlag(name: string, min = 0): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} expects an integer ≥ ${min}, got ${JSON.stringify(value)}`);
    return n;
  };
}
