import { RemError } from "../../src/errors.js";
import { EVENT_TYPES, type Event, type EventType } from "./events.js";

/**
 * Upcasters turn an event written at an older version of its kind into the
 * current version, so projections only ever see current shapes. Each entry
 * maps version n to n+1. All kinds are at version 1 today, so the table is
 * empty; adding a version means bumping EVENT_TYPES[type].v and adding the
 * step from the old version here.
 */
type Upcaster = (event: Record<string, unknown>) => Record<string, unknown>;
const UPCASTERS: Partial<Record<EventType, Record<number, Upcaster>>> = {};

export function upcast(raw: Record<string, unknown>, where: { tenant?: string | undefined; seq?: number | undefined; index: number }): Event {
  const type = raw.type as EventType;
  const current = EVENT_TYPES[type].v;
  let v = raw.v;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new RemError("REM_ERR_DECODE", `commit ${where.seq ?? "?"} event ${where.index}: bad version ${String(v)}`, {
      tenant: where.tenant,
      seq: where.seq,
      path: `events[${where.index}].v`,
    });
  }
  if (v > current) {
    throw new RemError(
      "REM_ERR_UNSUPPORTED_VERSION",
      `commit ${where.seq ?? "?"} event ${where.index}: ${type} version ${v} is newer than this REM understands (${current})`,
      { tenant: where.tenant, seq: where.seq, path: `events[${where.index}].v` },
    );
  }
  let event = raw;
  while (v < current) {
    const step = UPCASTERS[type]?.[v];
    if (!step) {
      throw new RemError("REM_ERR_UNSUPPORTED_VERSION", `no upcaster for ${type} version ${v}`, { tenant: where.tenant, seq: where.seq });
    }
    event = { ...step(event), v: v + 1 };
    v += 1;
  }
  return event as Event;
}
