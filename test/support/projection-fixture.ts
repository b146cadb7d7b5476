import { join } from "node:path";
import type { Event } from "../../events/model/events.js";
import type { TenantName } from "../../events/model/ids.js";
import { FileLog } from "../../events/log/file/file-log.js";
import { TenantLog } from "../../events/log/tenant-log.js";
import type { LogBackend } from "../../events/log/types.js";
import { ProjectionRunner } from "../../projections/runner.js";
import { ProjectionStore } from "../../projections/store/store.js";
import { T, testSigner } from "./fixtures.js";
import { tempDir } from "./tmp.js";

export interface ProjectionFixture {
  readonly dir: string;
  readonly log: TenantLog;
  store: ProjectionStore;
  runner: ProjectionRunner;
  /** Appends one commit and applies it to the store. */
  commit(events: Event[]): Promise<number>;
  /** Closes and reopens the store (as after a restart). */
  reopenStore(subdir?: string): Promise<void>;
  close(): Promise<void>;
}

/** A tenant log (embedded, or the given backend) with a projection store and runner, for tests. */
export async function projectionFixture(options: { tenant?: TenantName; backend?: (dir: string) => Promise<LogBackend> } = {}): Promise<ProjectionFixture> {
  const tmp = await tempDir("rem-proj-");
  const tenant = options.tenant ?? T;
  const { signer, trusted } = testSigner();
  const backend = options.backend ? await options.backend(tmp.path) : await FileLog.open({ dir: join(tmp.path, "log"), tenant });
  const log = await TenantLog.open({ backend, signer, trusted });
  let store = await ProjectionStore.open(join(tmp.path, "store"));
  const fx: ProjectionFixture = {
    dir: tmp.path,
    log,
    store,
    runner: new ProjectionRunner(store, log),
    async commit(events) {
      const r = await log.append(events);
      await fx.runner.catchUp();
      return r.seq;
    },
    async reopenStore(subdir = "store") {
      await fx.store.close();
      store = await ProjectionStore.open(join(tmp.path, subdir));
      fx.store = store;
      fx.runner = new ProjectionRunner(store, log);
    },
    async close() {
      await fx.store.close().catch(() => undefined);
      await log.close();
      await tmp.cleanup();
    },
  };
  return fx;
}
